"""`hypervision devices add|list|import|remove` against a real database file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hypervision.cli import main


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["devices", *args], env=env)
    return result.exit_code, result.output


def test_add_import_list_remove(tmp_path: Path, db_url: str) -> None:
    env = {"HV_DATA_DIR": str(tmp_path / "var"), "HV_DATABASE_URL": db_url}
    devices_file = tmp_path / "devices.yaml"
    devices_file.write_text(
        "- {dev_eui: 24E124128C140062, source: 'waste:container:WC-PORT-07', domain: waste,"
        " zone: port-fluvial, decoder: milesight-em310-udl, options: {bin_depth_mm: 1300}}\n"
    )
    assert run(env, "import", str(devices_file)) == (0, "1 added, 0 updated\n")
    code, out = run(
        env, "add", "0101010101010101", "--source", "lighting:cabinet:C-CENTRE", "--domain", "lighting",
        "--decoder", "milesight-ws558", "--option", "integration=lorawan:chirpstack", "--option", "phases=3",
    )  # fmt: skip
    assert code == 0, out
    code, out = run(env, "list", "--json")
    listed = {d["dev_eui"]: d for d in map(json.loads, out.splitlines())}
    assert listed["0101010101010101"]["options"] == {"integration": "lorawan:chirpstack", "phases": 3}
    assert listed["24e124128c140062"]["options"] == {"bin_depth_mm": 1300}

    code, out = run(env, "add", "0101010101010101", "--source", "x:y", "--domain", "waste")
    assert code == 1 and "already registered" in out
    code, out = run(
        env, "add", "0202020202020202", "--source", "x:y", "--domain", "waste", "--decoder", "acme"
    )
    assert code == 1 and "0202020202020202.decoder" in out and "unknown decoder 'acme'" in out
    assert run(env, "remove", "0101010101010101") == (0, "device 0101010101010101 removed\n")
    code, out = run(env, "list")
    assert code == 0 and out.startswith("24e124128c140062  waste:container:WC-PORT-07")
