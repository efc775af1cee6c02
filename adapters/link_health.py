"""Health and reconnect backoff of a long-lived feed connection (Asterisk AMI, MQTT broker)."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime


def backoff_delay(failures: int, *, initial: float, maximum: float, jitter: float = 0.0) -> float:
    """Exponential backoff: initial, 2×, 4×… capped; jitter (0–1) spreads reconnect storms."""
    base = min(maximum, initial * 2 ** max(0, failures - 1))
    return base * (1 - jitter * random.random())


@dataclass
class SourceHealth:
    """The same health every source reports: when it last worked, why it last failed, how often since."""

    source: str
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0

    def failed(self, reason: str, *, at: datetime, log: logging.Logger) -> None:
        """Count a failure; only the first of an outage is logged, so a dead peer does not flood logs."""
        if self.consecutive_failures == 0:
            log.warning("%s: %s (retrying with backoff)", self.source, reason)
        self.consecutive_failures += 1
        self.last_error, self.last_error_at = reason, at

    def succeeded(self, *, at: datetime, log: logging.Logger) -> None:
        if self.consecutive_failures:
            log.info("%s: recovered after %d failures", self.source, self.consecutive_failures)
        self.consecutive_failures, self.last_success = 0, at

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "consecutive_failures": self.consecutive_failures,
        }
