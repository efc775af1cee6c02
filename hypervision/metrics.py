"""Prometheus metrics of every process (prometheus-client); names start with ``hypervision_``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

READINGS_INGESTED = Counter(
    "hypervision_readings_ingested_total", "Readings accepted onto the bus", ["source_kind", "domain"]
)
READINGS_REJECTED = Counter(
    "hypervision_readings_rejected_total", "Items refused at the edge and dead-lettered", ["source_kind"]
)
READINGS_PROCESSED = Counter("hypervision_readings_processed_total", "Readings handled by workers")
READINGS_DEADLETTERED = Counter(
    "hypervision_readings_deadlettered_total", "Readings a worker gave up on (poison) and dead-lettered"
)
RULE_EVALUATION = Histogram(
    "hypervision_rule_evaluation_seconds",
    "Time to evaluate the rules over one batch of readings",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
ALERT_MOVES = Counter("hypervision_alert_moves_total", "Alert lifecycle moves", ["event", "severity"])
WS_CLIENTS = Gauge("hypervision_ws_clients", "Connected WebSocket clients")


def note_moves(moves: Sequence[Any]) -> None:
    for move in moves:
        ALERT_MOVES.labels(event=move.event.value, severity=move.alert.get("severity", "")).inc()
