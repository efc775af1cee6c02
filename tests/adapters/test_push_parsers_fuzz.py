"""Whatever bytes arrive, the push parsers answer with readings or an AdapterError, never anything else."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import chirpstack, ttn
from adapters.asterisk_ami import AmiFramer, fold, queue_readings
from adapters.errors import AdapterError
from adapters.lorawan.decoders import DECODERS, decode
from adapters.lorawan.device import DeviceEntry
from adapters.lorawan.metrics import readings_for
from adapters.lorawan.uplink import Uplink
from adapters.queue_log import QueueLogWindow, parse_line

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(st.sampled_from(sorted(DECODERS)), st.binary(max_size=40))
def test_decoders_return_a_dict_or_refuse(name: str, payload: bytes) -> None:
    with contextlib.suppress(AdapterError):
        assert isinstance(decode(name, 85, payload), dict)


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=16), json_values, max_size=8))
def test_any_network_object_gives_valid_readings_or_an_adapter_error(decoded: dict) -> None:
    up = Uplink("chirpstack", "0101010101010101", NOW, 1, 1, b"", decoded or None)
    device = DeviceEntry(
        dev_eui="0101010101010101", source="waste:bin:1", domain="waste", options={"bin_depth_mm": 1000}
    )
    try:
        readings = readings_for(up, device, received_at=NOW)
    except AdapterError:
        return
    assert all(r.source == "waste:bin:1" for r in readings)


@settings(max_examples=100)
@given(json_values | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_envelopes_parse_or_refuse(doc) -> None:
    body = doc if isinstance(doc, str) else json.dumps(doc)
    for parse in (chirpstack.parse_up, ttn.parse_uplink):
        with contextlib.suppress(AdapterError):
            parse(body)


def test_absurd_nesting_is_refused() -> None:
    try:
        chirpstack.parse_up("[" * 100_000)
    except AdapterError as err:
        assert "nested too deeply" in str(err) or "invalid JSON" in str(err)
    else:
        raise AssertionError("accepted")


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=50), max_size=6))
def test_ami_stream_of_any_bytes(chunks: list[bytes]) -> None:
    framer = AmiFramer()
    try:
        framer.feed(b"Asterisk Call Manager/7.0.3\r\n")
        messages = [m for chunk in chunks for m in framer.feed(chunk)]
    except AdapterError:
        return
    queue_readings(fold(messages), source_prefix="call_line:pbx", observed_at=NOW)


@settings(max_examples=150)
@given(st.lists(st.text(max_size=12), min_size=0, max_size=9).map("|".join))
def test_queue_log_lines_of_any_shape(line: str) -> None:
    window = QueueLogWindow(timedelta(minutes=15))
    try:
        event = parse_line(line)
    except AdapterError:
        return
    if event is not None:
        window.add(event)
        window.stats(event.at)
