"""The bucketed sliding window: exact while samples are sparser than a bucket, bounded when dense."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.window import BUCKETS, Window

SPAN = 3600.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=SPAN / BUCKETS, max_value=900),  # gap >= one bucket width: exact
            st.floats(min_value=-1000, max_value=1000, allow_nan=False),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_sparse_samples_give_exact_aggregates(raw: list[tuple[float, float]]) -> None:
    window = Window(SPAN)
    samples: list[tuple[float, float]] = []
    t = 0.0
    for gap, value in raw:
        t += gap
        assert window.add(t, value)
        samples.append((t, value))
        inside = [(ts, v) for ts, v in samples if ts > t - SPAN]
        values = [v for _, v in inside]
        assert window.aggregate("count") == len(values)
        assert window.aggregate("mean") == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-9)
        assert window.aggregate("max") == max(values)
        assert window.aggregate("min") == min(values)
        if len(inside) > 1:
            expected_rate = (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]) * 3600
            assert window.aggregate("rate") == pytest.approx(expected_rate, rel=1e-9, abs=1e-9)
        else:
            assert window.aggregate("rate") is None
    again = Window.load(SPAN, window.dump())
    assert [again.aggregate(a) for a in ("mean", "count", "max")] == pytest.approx(
        [window.aggregate(a) for a in ("mean", "count", "max")], rel=1e-12
    )


def test_dense_samples_stay_bounded_and_count_everything_recent() -> None:
    window = Window(SPAN)
    for i in range(86_400):  # a day of one sample per second into a one-hour window
        window.add(float(i), float(i % 10))
    assert len(window.buckets) <= BUCKETS + 1
    count = window.aggregate("count")
    assert count is not None and SPAN <= count <= SPAN + SPAN / BUCKETS + 1
    assert window.aggregate("mean") == pytest.approx(4.5, abs=0.05)
    assert (window.aggregate("min"), window.aggregate("max")) == (0.0, 9.0)


def test_older_samples_are_refused() -> None:
    window = Window(SPAN)
    assert window.add(100.0, 1.0)
    assert not window.add(50.0, 99.0)
    assert window.aggregate("max") == 1.0


@pytest.mark.parametrize("bad", [[[1, 2, 3]], "x", [[1] * 8, "y"]])
def test_load_rejects_malformed_state(bad: object) -> None:
    with pytest.raises(ValueError):
        Window.load(SPAN, bad)


def test_unknown_aggregate() -> None:
    window = Window(SPAN)
    window.add(0.0, 1.0)
    with pytest.raises(ValueError, match="median"):
        window.aggregate("median")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=600),  # dense and sparse: merges, new buckets, evictions
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        ),
        min_size=0,
        max_size=600,
    )
)
def test_saved_form_kept_incrementally_is_the_full_serialisation(raw: list[tuple[float, float]]) -> None:
    window = Window(SPAN)
    t = 0.0
    for gap, value in raw:
        t += gap
        window.add(t, value)
        assert orjson.dumps([window.dump_json()]) == orjson.dumps([window.dump()])
    reloaded = Window.load(SPAN, orjson.loads(orjson.dumps(window.dump())))
    assert orjson.dumps(reloaded.dump_json()) == orjson.dumps(reloaded.dump())
    if raw:
        reloaded.add(t + 1000, 1.0)  # a new bucket and an eviction after a reload keep it exact
        assert orjson.dumps(reloaded.dump_json()) == orjson.dumps(reloaded.dump())
