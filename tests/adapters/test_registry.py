"""The sources file: valid sources load, every problem is reported with file, source id and field."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from adapters.registry import KINDS, SourcesFileError, adapter_for, check_sources_file, load_sources

VALID = """
sources:
  - id: air:openaq:2178
    kind: openaq
    url: https://api.example.org/v3/locations/2178
    interval_s: 600
    credentials: ${OPENAQ_KEY}
    zone: dijon-centre
    lat: 47.32
    lon: 5.04
  - id: waste:hours
    kind: waste_centre
    url: http://127.0.0.1:8765/waste/hours.geojson
    domain: waste
    options: {timezone: Europe/Paris, country: FR}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_with_secret_from_environment(tmp_path: Path) -> None:
    sources = load_sources(write(tmp_path, VALID), env={"OPENAQ_KEY": "s3cret"})
    assert [s.id for s in sources] == ["air:openaq:2178", "waste:hours"]
    first = sources[0]
    assert (first.interval_s, first.timeout_s, first.zone) == (600.0, 10.0, "dijon-centre")
    assert first.credentials is not None and first.credentials.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(first)  # a secret never shows in logs
    assert sources[1].option("country") == "FR"


def test_every_problem_is_listed_with_its_place(tmp_path: Path) -> None:
    text = (
        VALID
        + """
  - id: air:bad
    kind: openaq
    url: ftp://example.org/x
    interval_s: 0
  - id: waste:hours
    kind: waste_centre
    url: http://example.org/
  - id: pollen:x
    kind: pollen_magic
    url: http://example.org/
  - id: hosp:x
    kind: sivic
    domain: air
    url: http://example.org/
  - just a string
"""
    )
    path = write(tmp_path, text)
    errors = check_sources_file(path)
    name = str(path)
    assert (
        f"{name}: sources[0] (id air:openaq:2178): credentials: environment variable OPENAQ_KEY is not set"
        in errors
    )
    assert any(
        e.startswith(f"{name}: sources[2] (id air:bad): interval_s: Input should be greater than 0")
        for e in errors
    )
    assert f"{name}: sources[3] (id waste:hours): id: duplicate source id" in errors
    assert any(
        e.startswith(f"{name}: sources[4] (id pollen:x): kind: unknown kind 'pollen_magic'") for e in errors
    )
    assert f"{name}: sources[5] (id hosp:x): domain: kind sivic feeds hospital, not air" in errors
    assert f"{name}: sources[6]: expected a mapping of fields" in errors
    with pytest.raises(SourcesFileError) as caught:
        load_sources(path, env={})
    assert caught.value.errors == check_sources_file(path)


def test_url_scheme_is_checked_once_the_fields_are_valid(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - {id: a, kind: talq, url: ftp://x/}\n")
    assert check_sources_file(path) == [
        f"{path}: sources[0] (id a): url: an http:// or https:// URL is required"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n  - id: a\n", "line"),
        ("sources: 12\n", "expected a list under 'sources:'"),
        ("- {id: a, kind: talq, url: 'http://x/', extra: 1}\n", "extra: Extra inputs are not permitted"),
        ("- {id: 'bad id!', kind: talq, url: 'http://x/'}\n", "id: Value error, source must be"),
    ],
)
def test_file_level_and_field_errors(tmp_path: Path, text: str, expected: str) -> None:
    errors = check_sources_file(write(tmp_path, text))
    assert errors and expected in errors[0]


def test_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    assert check_sources_file(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_maps_to_a_module_with_parse_and_async_fetch(kind: str) -> None:
    adapter = adapter_for(kind)
    assert kind == adapter.KIND
    assert "received_at" in inspect.signature(adapter.parse).parameters
    assert inspect.iscoroutinefunction(adapter.fetch)


def test_unknown_kind_lookup_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="openaq"):
        adapter_for("nope")
