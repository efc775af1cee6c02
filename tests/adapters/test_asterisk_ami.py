"""AMI framing, ActionID matching, queue readings, and caller identities dropped at parse time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.asterisk_ami import AmiFramer, Reply, action, fold, parse_message, queue_readings
from adapters.errors import AdapterError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "call_line"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
BANNER = b"Asterisk Call Manager/7.0.3\r\n"
CALLERS = ("0612345678", "+33698765432", "Jeanne Martin", "Paul Durand", "0380000000", "trunk-ovh")


def reply(name: str, action_id: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"$ACTIONID$", action_id.encode())


def collect(data: bytes, action_id: str, complete: str, chunk: int = 7) -> Reply:
    framer, pending = AmiFramer(), Reply(action_id, complete)
    for i in range(0, len(data), chunk):  # odd chunks: TCP splits anywhere
        for message in framer.feed(data[i : i + chunk]):
            pending.feed(message)
    assert framer.banner == "Asterisk Call Manager/7.0.3"
    return pending


def by_metric(readings, source: str) -> dict[str, object]:
    return {r.metric: r.value for r in readings if r.source == source}


def test_queue_summary_sample_ignores_the_interleaved_complete_of_another_action() -> None:
    data = BANNER + reply("asterisk_ami_queuesummary.txt", "hv-1")
    # Cut just before our own QueueSummaryComplete: the other action's one must not end the reply.
    cut = data.index(b"Event: QueueSummaryComplete\r\nActionID: hv-1")
    partial = collect(data[:cut], "hv-1", "QueueSummaryComplete")
    assert not partial.done
    assert [e["Queue"] for e in partial.events] == ["Sales", "Reception_12"]
    full = collect(data, "hv-1", "QueueSummaryComplete")
    assert full.done
    readings = queue_readings(fold(full.events), source_prefix="call_line:pbx", observed_at=NOW)
    assert by_metric(readings, "call_line:pbx:Sales") == {
        "callersWaiting": 0.0,
        "longestHoldTime": 0.0,
        "agentsLoggedIn": 2.0,
        "agentsAvailable": 2.0,
        "holdTime": 0.0,
        "talkTime": 0.0,
    }
    assert {r.domain.value for r in readings} == {"call_line"}


def test_queue_status_gives_counters_rates_and_derived_presence() -> None:
    done = collect(BANNER + reply("asterisk_ami_queuestatus.txt", "hv-2"), "hv-2", "QueueStatusComplete")
    assert done.done
    values = by_metric(
        queue_readings(fold(done.events), source_prefix="call_line:pbx", observed_at=NOW),
        "call_line:pbx:mairie-standard",
    )
    assert values == {
        "callersWaiting": 2.0,
        "longestHoldTime": 74.0,
        "agentsLoggedIn": 2.0,
        "agentsAvailable": 1.0,
        "holdTime": 38.0,
        "talkTime": 212.0,
        "callsCompleted": 57.0,
        "callsAbandoned": 9.0,
        "abandonRate": pytest.approx(9 / 66, abs=1e-4),
        "serviceLevel": 0.815,
    }


def test_summary_wins_over_status_when_both_are_folded() -> None:
    summary = collect(BANNER + reply("asterisk_ami_queuesummary.txt", "a"), "a", "QueueSummaryComplete")
    status = collect(BANNER + reply("asterisk_ami_queuestatus.txt", "b"), "b", "QueueStatusComplete")
    extra = parse_message("Event: QueueSummary\r\nQueue: mairie-standard\r\nLoggedIn: 4\r\nAvailable: 0\r\n")
    stats = fold([*summary.events, extra, *status.events])
    assert stats["mairie-standard"].agents_logged_in == 4
    assert stats["mairie-standard"].completed == 57


def test_caller_numbers_and_names_never_leave_the_parser() -> None:
    data = BANNER + reply("asterisk_ami_queuestatus.txt", "hv-3")
    framer = AmiFramer()
    messages = framer.feed(data)
    entries = [m for m in messages if m.get("Event") == "QueueEntry"]
    assert len(entries) == 2
    assert all(
        set(m) == {"Event", "Queue", "Position", "Uniqueid", "Wait", "Priority", "ActionID"} for m in entries
    )
    readings = queue_readings(fold(messages), source_prefix="call_line:pbx", observed_at=NOW)
    text = repr(messages) + "".join(r.model_dump_json() for r in readings)
    for secret in CALLERS:
        assert secret not in text


def test_error_response_for_our_action_raises_with_asterisk_reason() -> None:
    framer, pending = AmiFramer(), Reply("x1", "QueueStatusComplete")
    for m in framer.feed(BANNER + b"Response: Error\r\nActionID: x1\r\nMessage: Permission denied\r\n\r\n"):
        with pytest.raises(AdapterError, match="Permission denied"):
            pending.feed(m)


def test_banner_must_be_asterisk() -> None:
    with pytest.raises(AdapterError, match="not an Asterisk manager banner"):
        AmiFramer().feed(b"SSH-2.0-OpenSSH_9.6\r\n")


def test_an_endless_message_is_refused() -> None:
    framer = AmiFramer()
    framer.feed(BANNER)
    with pytest.raises(AdapterError, match="exceeds"):
        framer.feed(b"Key: " + b"v" * 70_000)


def test_bare_lf_line_ends_are_tolerated() -> None:
    messages = AmiFramer().feed(b"Asterisk Call Manager/2.10.4\nResponse: Success\nMessage: ok\n\n")
    assert messages == [{"Response": "Success", "Message": "ok"}]


def test_action_encoding_and_injection_refusal() -> None:
    assert action("QueueStatus", "7", Queue="support") == (
        b"Action: QueueStatus\r\nActionID: 7\r\nQueue: support\r\n\r\n"
    )
    with pytest.raises(AdapterError):
        action("Login", "1", Username="hv\r\nAction: Originate")


def test_queue_names_become_safe_source_ids() -> None:
    events = [parse_message("Event: QueueSummary\nQueue: Accueil mairie (jour)\nCallers: 3\n")]
    readings = queue_readings(fold(events), source_prefix="call_line:pbx", observed_at=NOW)
    assert readings[0].source == "call_line:pbx:Accueil_mairie_jour_"
    assert readings[0].attrs["queue"] == "Accueil mairie (jour)"
