"""The territory's zones: polygons and INSEE codes from one GeoJSON file shared with the wall-screen map."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

# The same file the wall screen draws, so a warning's area is exactly the zone operators see.
SHIPPED_ZONES = Path(str(files("ui"))) / "zones.geojson"

Ring = tuple[tuple[float, float], ...]  # (lon, lat) pairs, GeoJSON order, closed


class ZonesError(ValueError):
    """The zones file is unreadable or a feature lacks what a zone needs."""


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    insee: str
    ring: Ring

    def cap_polygon(self) -> str:
        """The CAP 1.2 polygon: ``lat,lon`` pairs separated by spaces, first and last the same."""
        return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in self.ring)

    def contains(self, lat: float, lon: float) -> bool:
        """Ray casting: whether the point lies inside the zone's outer ring."""
        inside = False
        for (x1, y1), (x2, y2) in itertools.pairwise(self.ring):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


def parse_zones(doc: Any) -> dict[str, Zone]:
    """Zones from a GeoJSON FeatureCollection whose features carry ``id``, ``name`` and ``insee``."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ZonesError("expected a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ZonesError("features must be an array")
    zones: dict[str, Zone] = {}
    for index, feature in enumerate(features):
        zone = _zone(feature, f"features[{index}]")
        if zone.id in zones:
            raise ZonesError(f"features[{index}]: zone {zone.id!r} appears twice")
        zones[zone.id] = zone
    return zones


def _zone(feature: Any, where: str) -> Zone:
    if not isinstance(feature, dict):
        raise ZonesError(f"{where}: expected a Feature object")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise ZonesError(f"{where}.properties: expected an object")
    texts: dict[str, str] = {}
    for name in ("id", "name", "insee"):
        value = props.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ZonesError(f"{where}.properties.{name}: expected a non-empty text")
        texts[name] = value.strip()
    if not (len(texts["insee"]) == 5 and texts["insee"].isalnum()):
        raise ZonesError(f"{where}.properties.insee: an INSEE code has 5 characters (2A/2B for Corsica)")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise ZonesError(f"{where}.geometry: expected a Polygon")
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings or not isinstance(rings[0], list):
        raise ZonesError(f"{where}.geometry.coordinates: expected an array of rings")
    return Zone(texts["id"], texts["name"], texts["insee"], _ring(rings[0], f"{where}.geometry"))


def _ring(raw: list[Any], where: str) -> Ring:
    points: list[tuple[float, float]] = []
    for i, pair in enumerate(raw):
        ok = (
            isinstance(pair, list)
            and len(pair) >= 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in pair[:2])
        )
        if not ok or not (-180 <= pair[0] <= 180 and -90 <= pair[1] <= 90) or not math.isfinite(pair[0]):
            raise ZonesError(f"{where}.coordinates[0][{i}]: expected [longitude, latitude]")
        points.append((float(pair[0]), float(pair[1])))
    if len(points) < 4 or points[0] != points[-1]:
        raise ZonesError(f"{where}: a ring needs at least 4 positions, the last equal to the first")
    return tuple(points)


def load_zones(path: Path | None = None) -> dict[str, Zone]:
    """The zones of ``path`` (the shipped file when None); read once per path."""
    return _load(path or SHIPPED_ZONES)


@lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, Zone]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ZonesError(f"cannot read zones from {path}: {err}") from err
    return parse_zones(doc)
