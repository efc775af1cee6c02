"""Rendered actions carried by an alert change: tasks, webhooks, CAP warnings, notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hypervision.domain import Severity


@dataclass(frozen=True, slots=True)
class TaskAction:
    """Create a field task for `team`, linked to the alert."""

    team: str
    title: str
    details: str
    priority: Severity
    due_in_s: float | None = None
    kind: Literal["task"] = "task"


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """POST the alert change to `url` (the worker signs it and retries)."""

    url: str
    kind: Literal["webhook"] = "webhook"


@dataclass(frozen=True, slots=True)
class CapText:
    headline: str
    description: str
    instruction: str


@dataclass(frozen=True, slots=True)
class CapAction:
    """Publish (Alert), update (Update) or withdraw (Cancel) the public CAP warning of this alert."""

    msg_type: Literal["Alert", "Update", "Cancel"]
    category: str
    event: str
    urgency: str
    severity: str  # CAP severity: Minor, Moderate, Severe, Extreme
    certainty: str
    fr: CapText
    en: CapText | None = None
    kind: Literal["cap"] = "cap"


@dataclass(frozen=True, slots=True)
class NotifyAction:
    """Notify the given teams or on-call rotations again (escalation or re-notification)."""

    teams: tuple[str, ...]
    reason: str
    kind: Literal["notify"] = "notify"


Action = TaskAction | WebhookAction | CapAction | NotifyAction

CAP_SEVERITY: dict[Severity, str] = {
    Severity.INFO: "Minor",
    Severity.WARNING: "Moderate",
    Severity.CRITICAL: "Severe",
    Severity.EMERGENCY: "Extreme",
}
