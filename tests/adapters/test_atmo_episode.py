"""Atmo pollution-episode state: etat → level 0/1/2 per pollutant and the zone's worst level."""

from __future__ import annotations

import json

import pytest

from adapters import atmo_episode
from adapters.errors import AdapterError
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

NAME = "atmo_episode_pollution_alrt3j_feature.json"


def test_recorded_feature_gives_level_zero_and_text() -> None:
    readings = by_metric(atmo_episode.parse(fixture("air", NAME), received_at=at(2023, 9, 5, 8)))
    assert readings["episodeLevelSo2"].value == 0.0
    assert readings["episodeStateSo2"].value == "PAS DE DEPASSEMENT"
    assert readings["episodeLevel"].value == 0.0
    assert readings["episodeLevel"].source == "atmo_episode/17"
    assert readings["episodeLevel"].observed_at == at(2023, 9, 5, 10)


def test_worst_pollutant_sets_the_zone_level() -> None:
    base = doc("air", NAME)
    features = []
    for code, etat in (("5", "INFORMATION ET RECOMMANDATION"), ("7", "ALERTE"), ("3", "PAS DE DEPASSEMENT")):
        feature = json.loads(json.dumps(base))
        feature["properties"].update(code_pol=code, etat=etat, code_zone="21")
        features.append(feature)
    payload = json.dumps({"type": "FeatureCollection", "features": features})
    readings = by_metric(atmo_episode.parse(payload, received_at=at(2023, 9, 5, 8)))
    assert readings["episodeLevelPm10"].value == 1.0
    assert readings["episodeLevelO3"].value == 2.0
    assert readings["episodeLevelNo2"].value == 0.0
    assert readings["episodeLevel"].value == 2.0
    assert readings["episodeLevel"].attrs["worst_pollutant"] == "o3"


@pytest.mark.parametrize(
    ("etat", "level"),
    [("Procédure d'information-recommandation", 1), ("ALERTE SUR PERSISTANCE", 2), ("Pas de dépassement", 0)],
)
def test_level_reads_the_wordings_in_use(etat: str, level: int) -> None:
    assert atmo_episode.level_of(etat, "etat") == level


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(etat="VIGILANCE ROUGE"), "properties.etat"),
        (lambda p: p.update(etat=None), "properties.etat"),
        (lambda p: p.update(code_pol="SO2"), "properties.code_pol"),
        (lambda p: p.update(date_ech="5 septembre"), "properties.date_ech"),
    ],
)
def test_broken_feature_names_the_field(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        atmo_episode.parse(
            mutated("air", NAME, lambda d: change(d["properties"])), received_at=at(2023, 9, 5, 8)
        )
    assert caught.value.field == field
