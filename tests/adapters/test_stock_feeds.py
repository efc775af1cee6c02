"""Mask-drive stock: the OpenLMIS-shaped JSON feed and the team's CSV upload with line-numbered errors."""

from __future__ import annotations

import pytest

from adapters import stock_csv, stock_json
from adapters.errors import AdapterError
from adapters.source import SourceConfig
from tests.adapters.feeds import at, by_metric, fixture, mutated

RECEIVED = at(2026, 11, 30, 9, 30)
CSV = fixture("stock", "mask_stock_upload.csv").decode()


def test_json_summary_per_site() -> None:
    readings = stock_json.parse(fixture("stock", "mask_stock_summary.json"), received_at=RECEIVED)
    nord = by_metric([r for r in readings if r.source == "stock_json/gymnase-nord"])
    assert (nord["stockOnHand"].value, nord["stockOnHand"].unit) == (18000.0, "masks")
    assert (nord["distributedPerHour"].value, nord["distributedPerHour"].unit) == (450.0, "masks/h")
    # (18000 on hand - 2000 reserved) / (450 per hour × 10 h a day) = 3.56 days
    assert (nord["daysOfCover"].value, nord["daysOfCover"].unit) == (3.56, "d")
    assert nord["queueWait"].value == 15.0
    assert nord["stockOnHand"].attrs == {
        "lots": 2,
        "name": "Gymnase Nord",
        "orderable": "b3c5f2a0-0c1e-4c1b-9b7e-ffp2mask0001",
    }
    sud = by_metric([r for r in readings if r.source == "stock_json/salle-des-fetes-sud"])
    assert sud["daysOfCover"].value == 0.6  # given by the feed, not recomputed


def test_opening_day_length_comes_from_the_source_options() -> None:
    source = SourceConfig(id="mask:drive", kind="stock_json", options={"hours_per_day": 8})
    readings = stock_json.parse(
        fixture("stock", "mask_stock_summary.json"), received_at=RECEIVED, source=source
    )
    cover = [r for r in readings if r.metric == "daysOfCover" and r.source == "mask:drive/gymnase-nord"]
    assert cover[0].value == pytest.approx(16000 / (450 * 8), abs=0.01)


def test_processed_date_dates_a_summary_without_occurred_date() -> None:
    payload = mutated("stock", "mask_stock_summary.json", lambda d: d["content"][0].pop("occurredDate"))
    readings = stock_json.parse(payload, received_at=RECEIVED)
    assert readings[0].observed_at.isoformat() == "2026-11-30T00:00:00+01:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s.update(stockOnHand=-5), "content[0].stockOnHand"),
        (lambda s: s.pop("stockOnHand"), "content[0].stockOnHand"),
        (lambda s: s.update(reserved="beaucoup"), "content[0].reserved"),
        (lambda s: s["facility"].pop("id"), "content[0].facility.id"),
        (lambda s: s.update(queueWaitMinutes=100000), "content[0].queueWaitMinutes"),
    ],
)
def test_json_broken_variants(change, field: str) -> None:
    payload = mutated("stock", "mask_stock_summary.json", lambda d: change(d["content"][0]))
    with pytest.raises(AdapterError) as caught:
        stock_json.parse(payload, received_at=RECEIVED)
    assert caught.value.field == field


def test_csv_upload_with_semicolons_and_decimal_comma() -> None:
    readings = stock_csv.parse(CSV, received_at=RECEIVED)
    est = by_metric([r for r in readings if r.source == "stock_csv/mairie-annexe-est"])
    assert est["distributedPerHour"].value == 120.5
    assert est["stockOnHand"].attrs == {"line": 4, "name": "Mairie annexe Est"}
    assert len({r.source for r in readings}) == 3


def test_csv_with_commas_and_a_byte_order_mark() -> None:
    body = "\ufeffsite,observed_at,on_hand\nnord,2026-11-30T10:00:00+01:00,12\n".encode()
    readings = stock_csv.parse(body, received_at=RECEIVED)
    assert [(r.source, r.metric, r.value) for r in readings] == [("stock_csv/nord", "stockOnHand", 12.0)]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (CSV.replace(";18000;", ";dix-huit mille;"), "line 2.on_hand", "not a number"),
        (CSV.replace("2400", "-2400"), "line 3.on_hand", "below the minimum"),
        (CSV.replace("2026-11-30T10:05:00+01:00", "30/11/2026"), "line 4.observed_at", "not an ISO 8601"),
        (CSV.replace(";5;Mairie", ";Mairie"), "line 4", "6 cells for 7 columns"),
        (CSV.replace("on_hand", "stock"), "line 1", "missing column(s) on_hand"),
    ],
)
def test_csv_errors_name_line_and_column(body: str, field: str, reason: str) -> None:
    with pytest.raises(AdapterError) as caught:
        stock_csv.parse(body, received_at=RECEIVED)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_csv_bad_line_does_not_stop_the_others_when_collecting() -> None:
    rejects: list[AdapterError] = []
    readings = stock_csv.parse(CSV.replace("2400", "-2400"), received_at=RECEIVED, rejects=rejects)
    assert {r.source for r in readings} == {"stock_csv/gymnase-nord", "stock_csv/mairie-annexe-est"}
    assert [e.field for e in rejects] == ["line 3.on_hand"]


def test_csv_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(AdapterError, match="not UTF-8"):
        stock_csv.parse(CSV.encode("utf-16"), received_at=RECEIVED)
