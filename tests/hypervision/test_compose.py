"""The deployment files: docker-compose config, Prometheus config, the Grafana dashboard, the image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from adapters.registry import check_sources_file
from hypervision.config import Settings
from tests.support import LiveServer

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "HV_SECRET_KEY": "hv-secret", "GRAFANA_ADMIN_PASSWORD": "gf"}

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is not installed (apt-get install docker-compose)",
)


def _compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("HV_")}
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_compose
def test_compose_config_is_valid_with_its_secrets_and_refused_without():
    ok = _compose("config", "-q", env=SECRETS)
    assert ok.returncode == 0, ok.stderr
    missing = _compose("config", "-q", env={k: v for k, v in SECRETS.items() if k != "HV_SECRET_KEY"})
    assert missing.returncode != 0
    assert "HV_SECRET_KEY" in missing.stderr


@needs_compose
def test_compose_runs_every_process_of_the_design():
    result = _compose("config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {
        "redis",
        "postgres",
        "migrate",
        "api",
        "worker",
        "poller",
        "simulator",
        "prometheus",
        "grafana",
    } <= set(services)
    assert "--appendonly" in services["redis"]["command"]
    assert services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1] == "yes"
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["simulator"]["profiles"] == ["demo"]
    for name in ("api", "worker", "poller", "migrate"):
        env = services[name]["environment"]
        assert env["HV_DATABASE_URL"].startswith("postgresql+psycopg2://hypervision:pg-secret@postgres")
        assert env["HV_REDIS_URL"] == "redis://redis:6379/0"
        assert env["HV_SECRET_KEY"] == "hv-secret"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    # Processes without an API serve their metrics on the port Prometheus scrapes.
    assert services["worker"]["environment"]["HV_METRICS_PORT"] == "9100"
    assert services["poller"]["environment"]["HV_METRICS_PORT"] == "9100"


def test_prometheus_scrapes_every_process():
    config = yaml.safe_load((ROOT / "ops/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        name: [(n, sd["port"]) for sd in job.get("dns_sd_configs", []) for n in sd["names"]]
        for name, job in jobs.items()
    }
    assert targets["hypervision-api"] == [("api", 8000)]
    assert targets["hypervision-worker"] == [("worker", 9100)]
    assert targets["hypervision-poller"] == [("poller", 9100)]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus package (promtool) absent")
def test_prometheus_config_passes_promtool():
    result = subprocess.run(
        ["promtool", "check", "config", "--syntax-only", str(ROOT / "ops/prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_unprivileged_on_a_slim_base():
    text = (ROOT / "ops/Dockerfile").read_text()
    assert all(line.split()[1].endswith("-slim") for line in text.splitlines() if line.startswith("FROM "))
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["hypervision"]' in text


def test_shipped_sources_file_is_valid_and_polls_the_demo_simulator():
    assert check_sources_file(ROOT / "ops/sources.yaml") == []
    compose = yaml.safe_load(COMPOSE.read_text())
    command = compose["services"]["simulator"]["command"]
    port = command[command.index("--port") + 1]
    urls = [s["url"] for s in yaml.safe_load((ROOT / "ops/sources.yaml").read_text())["sources"]]
    assert urls and all(u.startswith(f"http://simulator:{port}/") for u in urls)


async def test_every_dashboard_query_names_an_exposed_metric(live: LiveServer):
    dashboard = json.loads((ROOT / "ops/grafana/dashboards/hypervision.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    used = {
        re.sub(r"_(bucket|total|count|sum)$", "", m) for e in exprs for m in re.findall(r"hypervision_\w+", e)
    }
    async with live.client() as http:
        exposed = {f.name for f in text_string_to_metric_families((await http.get("/metrics")).text)}
    assert used <= exposed, f"dashboard queries metrics nobody exposes: {sorted(used - exposed)}"
    # Every process family of the issue has a panel.
    for needed in (
        "hypervision_readings_ingested",
        "hypervision_readings_rejected",
        "hypervision_adapter_fetch_seconds",
        "hypervision_adapter_failures",
        "hypervision_consumer_lag",
        "hypervision_consumer_pending",
        "hypervision_stream_length",
        "hypervision_rule_evaluation_seconds",
        "hypervision_alerts",
        "hypervision_tasks",
        "hypervision_ws_clients",
        "hypervision_ws_frames_sent",
        "hypervision_ws_resyncs",
        "hypervision_ws_queue_overflows",
        "hypervision_reading_to_screen_seconds",
    ):
        assert needed in used, needed


def test_operations_guide_documents_every_setting():
    guide = (ROOT / "docs/operations.md").read_text()
    missing = [f"HV_{name.upper()}" for name in Settings.model_fields if f"`HV_{name.upper()}`" not in guide]
    assert not missing, f"document these settings in docs/operations.md (Configure): {missing}"


def test_dashboard_uses_the_provisioned_datasource():
    provisioned = yaml.safe_load((ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text())
    uids = {d["uid"] for d in provisioned["datasources"]}
    dashboard = json.loads((ROOT / "ops/grafana/dashboards/hypervision.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["uid"] in uids for p in panels)
    assert all(t["datasource"]["uid"] in uids for p in panels for t in p["targets"])
    provider = yaml.safe_load((ROOT / "ops/grafana/provisioning/dashboards/hypervision.yml").read_text())
    compose = yaml.safe_load(COMPOSE.read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./ops/grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in mounts
