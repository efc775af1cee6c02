"""Configured pulled sources: the YAML sources file, and the mapping from a source kind to its adapter."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

import httpx
import yaml
from pydantic import ValidationError

from adapters.errors import AdapterError
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

# kind -> (module under adapters/, the family it feeds)
KINDS: dict[str, tuple[str, Domain]] = {
    "openaq": ("openaq", Domain.AIR),
    "atmo_indice": ("atmo_indice", Domain.AIR),
    "atmo_episode": ("atmo_episode", Domain.AIR),
    "fiware_air": ("fiware_air", Domain.AIR),
    "openmeteo_pollen": ("openmeteo_pollen", Domain.POLLEN),
    "fiware_pollen": ("fiware_pollen", Domain.POLLEN),
    "atmo_pollen": ("atmo_pollen", Domain.POLLEN),
    "fiware_lighting": ("fiware_lighting", Domain.LIGHTING),
    "talq": ("talq", Domain.LIGHTING),
    "waste_centre": ("waste_centre", Domain.WASTE),
    "waste_counter": ("waste_counter", Domain.WASTE),
    "fiware_waste": ("fiware_waste", Domain.WASTE),
    "stock_json": ("stock_json", Domain.MASK_DRIVE),
    "stock_csv": ("stock_csv", Domain.MASK_DRIVE),
    "fhir_beds": ("fhir_beds", Domain.HOSPITAL),
    "sivic": ("sivic", Domain.HOSPITAL),
}
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class Adapter(Protocol):
    """What the coordinator needs from an adapter module."""

    KIND: str

    def parse(
        self,
        payload: bytes | str,
        *,
        received_at: datetime,
        source: SourceConfig | None = None,
        rejects: list[AdapterError] | None = None,
    ) -> list[Reading]: ...

    def fetch(self, client: httpx.AsyncClient, source: SourceConfig) -> Awaitable[bytes]: ...


class SourcesFileError(Exception):
    """The sources file is unusable; ``errors`` lists every problem found, each with its place."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


def adapter_for(kind: str) -> Adapter:
    if kind not in KINDS:
        raise KeyError(f"unknown source kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    module: ModuleType = importlib.import_module(f"adapters.{KINDS[kind][0]}")
    return cast(Adapter, module)


def _expand_credentials(raw: dict[str, Any], where: str, env: dict[str, str]) -> str | None:
    """``credentials: ${NAME}`` reads the secret from the environment, so the file holds none."""
    value = raw.get("credentials")
    if isinstance(value, str) and (match := _ENV_REF.match(value.strip())):
        name = match.group(1)
        if name not in env:
            return f"{where}: credentials: environment variable {name} is not set"
        raw["credentials"] = env[name]
    return None


def _source_errors(raw: Any, where: str, env: dict[str, str]) -> tuple[SourceConfig | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: expected a mapping of fields"]
    ident = raw.get("id")
    if ident is not None:
        where = f"{where} (id {ident})"
    raw = dict(raw)
    errors = [e for e in [_expand_credentials(raw, where, env)] if e]
    try:
        source = SourceConfig.model_validate(raw)
    except ValidationError as err:
        for item in err.errors():
            loc = ".".join(str(p) for p in item["loc"]) or "(source)"
            errors.append(f"{where}: {loc}: {item['msg']}")
        return None, errors
    if source.kind not in KINDS:
        errors.append(f"{where}: kind: unknown kind {source.kind!r} (known: {', '.join(sorted(KINDS))})")
    if not source.url.startswith(("http://", "https://")):
        errors.append(f"{where}: url: an http:// or https:// URL is required")
    expected = KINDS.get(source.kind, (None, None))[1]
    if source.domain is not None and expected is not None and source.domain != expected:
        errors.append(
            f"{where}: domain: kind {source.kind} feeds {expected.value}, not {source.domain.value}"
        )
    return (None if errors else source), errors


def read_sources(path: str | Path, env: dict[str, str] | None = None) -> tuple[list[SourceConfig], list[str]]:
    """Every valid source and every error (``file: sources[i] (id X): field: reason``)."""
    env = dict(os.environ) if env is None else env
    name = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        return [], [f"{name}: cannot read: {err.strerror or err}"]
    except UnicodeDecodeError:
        return [], [f"{name}: not UTF-8 text"]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        return [], [f"{name}:{line} invalid YAML: {getattr(err, 'problem', None) or err}"]
    items = doc.get("sources") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        return [], [f"{name}: expected a list under 'sources:'"]
    sources: list[SourceConfig] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        source, problems = _source_errors(raw, f"{name}: sources[{index}]", env)
        errors += problems
        if source is None:
            continue
        if source.id in seen:
            errors.append(f"{name}: sources[{index}] (id {source.id}): id: duplicate source id")
            continue
        seen.add(source.id)
        sources.append(source)
    return sources, errors


def load_sources(path: str | Path, env: dict[str, str] | None = None) -> list[SourceConfig]:
    """The sources of a file, or :class:`SourcesFileError` listing all its problems."""
    sources, errors = read_sources(path, env)
    if errors:
        raise SourcesFileError(errors)
    return sources


def check_sources_file(path: str | Path) -> list[str]:
    """Errors of a sources file (empty when valid): what ``hypervision sources check FILE`` prints."""
    return read_sources(path)[1]
