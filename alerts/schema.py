"""Schema of rule files: pydantic models that validate the YAML before anything is compiled."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from alerts.duration import Duration
from alerts.template import check_template
from hypervision.domain import Domain, Severity

_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")
_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")

Op = Literal[">", ">=", "<", "<=", "==", "!=", "in", "not in"]
Agg = Literal["latest", "mean", "max", "min", "count", "rate"]
GroupLabel = Literal["source", "metric", "zone"]
Scalar = float | str


def _rule_id(value: str) -> str:
    if not _RULE_ID.match(value):
        raise ValueError(
            "a rule id is 1-100 lowercase letters, digits and _.- starting with a letter or digit"
        )
    return value


def _template(value: str) -> str:
    check_template(value)
    return value


RuleId = Annotated[str, AfterValidator(_rule_id)]
Template = Annotated[str, Field(max_length=2000), AfterValidator(_template)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Selector(_Model):
    """Which readings a rule (or one leaf of its condition) looks at; unset fields match anything."""

    domain: Domain | None = None
    metric: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=200, description="glob, e.g. air:station:*")
    zone: str | None = Field(default=None, max_length=64, description="glob on the reading's zone")
    attrs: dict[str, str | float | bool] = Field(default_factory=dict)


class _Leaf(_Model):
    # A leaf may narrow the rule's selector, e.g. one leaf on pollen and one on the helpline.
    domain: Domain | None = None
    metric: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=200)
    attrs: dict[str, str | float | bool] = Field(default_factory=dict)


class Compare(_Leaf):
    """A comparison on the latest value, a window aggregate, or N consecutive readings."""

    op: Op
    value: Scalar | list[Scalar]
    agg: Agg = "latest"
    over: Duration | None = Field(default=None, gt=0)
    consecutive: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _coherent(self) -> Compare:
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"`{self.op}` needs a list of values")
        if self.op not in ("in", "not in") and isinstance(self.value, list):
            raise ValueError(f"`{self.op}` compares with one value, not a list")
        if self.op in (">", ">=", "<", "<=") and not isinstance(self.value, float | int):
            raise ValueError(f"`{self.op}` needs a number")
        if self.agg != "latest":
            if self.over is None:
                raise ValueError(f"agg `{self.agg}` needs `over` (the window, e.g. 24h)")
            if self.op in ("in", "not in", "==", "!=") and self.agg != "count":
                raise ValueError(f"agg `{self.agg}` is numeric: use >, >=, < or <=")
            if self.consecutive != 1:
                raise ValueError("`consecutive` applies to the latest value, not to a window aggregate")
        elif self.over is not None:
            raise ValueError("`over` needs an aggregate: agg: mean | max | min | count | rate")
        return self


class Absent(_Leaf):
    """True when no reading has arrived for `absent_for` (a silent sensor is an alert)."""

    absent_for: Duration = Field(gt=0)


class Schedule(_Model):
    """True at the times given, in Europe/Paris; every field given must hold."""

    hours: list[str] | None = None
    weekdays: list[str] | None = None
    sun: Literal["night", "day"] | None = None
    opening_hours: str | None = Field(default=None, max_length=500)

    @field_validator("hours", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str] | None) -> list[str] | None:
        for span in value or ():
            if not _HOURS.match(span):
                raise ValueError(f"{span!r}: hours are HH:MM-HH:MM (may cross midnight, e.g. 22:00-06:00)")
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[str] | None) -> list[str] | None:
        out = [day.lower()[:2] for day in value or ()]
        for day, given in zip(out, value or (), strict=True):
            if day not in WEEKDAYS:
                raise ValueError(f"{given!r}: weekdays are mo tu we th fr sa su")
        return out if value is not None else None

    @field_validator("opening_hours")
    @classmethod
    def _opening_hours(cls, value: str | None) -> str | None:
        if value is not None:
            from alerts.schedule import check_opening_hours

            check_opening_hours(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Schedule:
        if not (self.hours or self.weekdays or self.sun or self.opening_hours):
            raise ValueError("a schedule needs hours, weekdays, sun or opening_hours")
        return self


class ScheduleCond(_Model):
    schedule: Schedule


class AllOf(_Model):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Model):
    any: list[Condition] = Field(min_length=1)


class Not(_Model):
    not_: Condition = Field(alias="not")


_KINDS = (("all", "all"), ("any", "any"), ("not", "not"), ("schedule", "schedule"), ("absent_for", "absent"))


_MODEL_TAGS = {
    "Compare": "compare",
    "Absent": "absent",
    "ScheduleCond": "schedule",
    "AllOf": "all",
    "AnyOf": "any",
    "Not": "not",
}


def _kind(data: Any) -> str | None:
    if isinstance(data, dict):
        for key, kind in _KINDS:
            if key in data:
                return kind
        return "compare" if "op" in data else None
    return _MODEL_TAGS.get(type(data).__name__)


Condition = Annotated[
    Annotated[Compare, Tag("compare")]
    | Annotated[Absent, Tag("absent")]
    | Annotated[ScheduleCond, Tag("schedule")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _kind,
        custom_error_type="condition_kind",
        custom_error_message="a condition has `op` (comparison), absent_for, schedule, all, any or not",
    ),
]
CONDITION_TAGS = frozenset(kind for _, kind in _KINDS) | {"compare"}


class Level(_Model):
    """A higher severity reached while the alert is open, when its own condition holds."""

    severity: Severity
    when: Condition


class TaskSpec(_Model):
    team: str = Field(min_length=1, max_length=64)
    title: Template
    details: Template = ""
    priority: Severity | None = None
    due_in: Duration | None = None


class WebhookSpec(_Model):
    url: str = Field(pattern=r"^https?://", max_length=500)
    on: list[Literal["fire", "update", "resolve", "escalate", "renotify"]] = ["fire", "resolve"]


class EscalateSpec(_Model):
    """While firing and not acknowledged: every `after`, raise severity one level and notify."""

    after: Duration = Field(gt=0)
    repeat: int = Field(default=1, ge=1, le=20)
    notify: list[str] = Field(default_factory=list)
    to: Severity | None = Field(default=None, description="cap of the raised severity")


class RenotifySpec(_Model):
    """Acknowledged but still firing after `after`: notify again, up to `repeat` times."""

    after: Duration = Field(gt=0)
    repeat: int = Field(default=1, ge=1, le=20)
    notify: list[str] = Field(default_factory=list)


class Actions(_Model):
    tasks: list[TaskSpec] = Field(default_factory=list)
    webhooks: list[WebhookSpec] = Field(default_factory=list)
    escalate: EscalateSpec | None = None
    renotify: RenotifySpec | None = None


class CapText(_Model):
    headline: Template = Field(max_length=160)
    description: Template = ""
    instruction: Template = ""


class CapSpec(_Model):
    """Fields of the public CAP 1.2 warning (see the publishing issue)."""

    category: Literal[
        "Geo",
        "Met",
        "Safety",
        "Security",
        "Rescue",
        "Fire",
        "Health",
        "Env",
        "Transport",
        "Infra",
        "CBRNE",
        "Other",
    ]
    event: str = Field(min_length=1, max_length=100)
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"] = "Expected"
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"] = "Observed"
    fr: CapText
    en: CapText | None = None


def _series_grouping() -> list[GroupLabel]:
    return ["source", "metric"]


class Rule(_Model):
    id: RuleId
    title: Template
    description: Template = ""
    select: Selector = Field(default_factory=Selector)
    group_by: list[GroupLabel] = Field(default_factory=_series_grouping)
    when: Condition
    for_: Duration = Field(default=0.0, alias="for")
    clear: Condition | None = None
    keep_firing_for: Duration = 0.0
    severity: Severity = Severity.WARNING
    levels: list[Level] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    update_every: Duration = Field(default=300.0, ge=0)
    actions: Actions = Field(default_factory=Actions)
    public: bool = False
    cap: CapSpec | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.public and self.cap is None:
            raise ValueError("a public rule needs `cap` (category, event, urgency, certainty, fr headline)")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by repeats a label")
        return self


class Matcher(_Model):
    """label OP value; OP is = (glob) or != (not glob)."""

    label: str
    value: str
    op: Literal["=", "!="] = "="


class InhibitRule(_Model):
    """While an alert matching `source` is open, alerts matching `target` with equal labels are muted."""

    source: list[Matcher] = Field(min_length=1)
    target: list[Matcher] = Field(min_length=1)
    equal: list[str] = Field(default_factory=lambda: ["zone"])


class Location(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class RuleFile(_Model):
    """One YAML file: rules, optional inhibition rules and the territory's location for sun times."""

    rules: list[Rule] = Field(default_factory=list)
    inhibit: list[InhibitRule] = Field(default_factory=list)
    location: Location | None = None


for _model in (AllOf, AnyOf, Not, Level, Rule, RuleFile):
    _model.model_rebuild()


def json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file, for editors (YAML language servers) and the API."""
    return RuleFile.model_json_schema(by_alias=True)
