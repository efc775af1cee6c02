"""Domain types shared by adapters, rules and the service: plain validated data, no I/O."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

TERRITORY_TZ = "Europe/Paris"

MAX_ATTRS = 32
MAX_ATTR_KEY = 64
MAX_ATTR_TEXT = 256
MAX_TEXT_VALUE = 64


class Domain(StrEnum):
    """The seven families of feeds the control room watches."""

    LIGHTING = "lighting"
    WASTE = "waste"
    MASK_DRIVE = "mask_drive"
    AIR = "air"
    POLLEN = "pollen"
    CALL_LINE = "call_line"
    HOSPITAL = "hospital"


DOMAINS: tuple[str, ...] = tuple(d.value for d in Domain)


class Severity(StrEnum):
    """Alert severities, in increasing order of urgency."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.INFO,
    Severity.WARNING,
    Severity.CRITICAL,
    Severity.EMERGENCY,
)


class AlertState(StrEnum):
    """States of the alert lifecycle (see alerts.lifecycle for the allowed moves)."""

    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TaskState(StrEnum):
    """States of a field-team task."""

    OPEN = "open"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-/@]{0,199}$")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def _check_source(value: str) -> str:
    if not _SOURCE_RE.match(value):
        raise ValueError(
            "source must be 1-200 characters of letters, digits and _.:-/@, starting with a letter or digit"
        )
    return value


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError("must start with a letter and use at most 64 letters, digits or _.-")
    return value


SourceId = Annotated[str, AfterValidator(_check_source)]
MetricName = Annotated[str, AfterValidator(_check_name)]
ZoneId = Annotated[str, AfterValidator(_check_name)]
AttrValue = str | float | int | bool | None


class Reading(BaseModel):
    """One measurement of one metric from one source, as it travels on the bus."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    source: SourceId
    domain: Domain
    metric: MetricName
    value: float | str
    unit: str = Field(default="", max_length=32)
    observed_at: AwareDatetime
    zone: ZoneId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    attrs: dict[str, AttrValue] = Field(default_factory=dict)

    @field_validator("value", mode="before")
    @classmethod
    def _value_is_finite_or_short_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, int | float):
            if not math.isfinite(float(value)):
                raise ValueError("value must be a finite number")
            return float(value)
        if isinstance(value, str):
            if not value or len(value) > MAX_TEXT_VALUE:
                raise ValueError(f"a text value must be 1-{MAX_TEXT_VALUE} characters")
            return value
        raise ValueError("value must be a finite number or a short text state")

    @field_validator("attrs")
    @classmethod
    def _attrs_are_bounded(cls, attrs: dict[str, AttrValue]) -> dict[str, AttrValue]:
        if len(attrs) > MAX_ATTRS:
            raise ValueError(f"at most {MAX_ATTRS} attributes")
        for key, val in attrs.items():
            if not key or len(key) > MAX_ATTR_KEY:
                raise ValueError(f"attribute names are 1-{MAX_ATTR_KEY} characters")
            if isinstance(val, str) and len(val) > MAX_ATTR_TEXT:
                raise ValueError(f"attribute {key!r} is longer than {MAX_ATTR_TEXT} characters")
            if isinstance(val, float) and not math.isfinite(val):
                raise ValueError(f"attribute {key!r} must be finite")
        return attrs

    @property
    def key(self) -> str:
        """Identity of the series this reading belongs to in the picture."""
        return f"{self.source}|{self.metric}"

    @property
    def numeric(self) -> float | None:
        return self.value if isinstance(self.value, float) else None

    @property
    def observed_at_utc(self) -> datetime:
        return self.observed_at.astimezone(UTC)
