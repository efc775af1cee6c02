"""Rendered actions carried by an alert change: tasks, webhooks, CAP warnings, notifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from alerts.lifecycle import AlertEvent
from alerts.schema import CapSpec, Rule
from alerts.schema import CapText as CapTextSpec
from alerts.template import render
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


def actions_for(
    rule: Rule,
    event: AlertEvent,
    severity: Severity,
    context: Mapping[str, object],
    *,
    severity_rose: bool = False,
    from_state: str | None = None,
) -> tuple[Action, ...]:
    """The actions a rule asks for on this change, rendered with the change's template values.

    Tasks on FIRE; webhooks on the events they list (not for a pending alert that never fired);
    for a public rule, a CAP Alert on FIRE, Update when the severity rose, Cancel on RESOLVE.
    """
    out: list[Action] = []
    if event == AlertEvent.FIRE:
        for task in rule.actions.tasks:
            out.append(
                TaskAction(
                    team=task.team,
                    title=render(task.title, context),
                    details=render(task.details, context),
                    priority=task.priority or severity,
                    due_in_s=task.due_in,
                )
            )
    if event != AlertEvent.PEND and not (event == AlertEvent.RESOLVE and from_state == "pending"):
        out.extend(WebhookAction(url=w.url) for w in rule.actions.webhooks if event.value in w.on)
    if rule.public and rule.cap is not None:
        msg_type = None
        if event == AlertEvent.FIRE:
            msg_type = "Alert"
        elif event == AlertEvent.UPDATE and severity_rose:
            msg_type = "Update"
        elif event == AlertEvent.RESOLVE and from_state == "firing":
            msg_type = "Cancel"
        if msg_type is not None:
            out.append(cap_action(rule.cap, msg_type, severity, context))
    return tuple(out)


def cap_action(cap: CapSpec, msg_type: Any, severity: Severity, context: Mapping[str, object]) -> CapAction:
    """The CAP message of a public rule, texts rendered, severity mapped to CAP's scale."""

    def text(spec: CapTextSpec) -> CapText:
        return CapText(
            headline=render(spec.headline, context),
            description=render(spec.description, context),
            instruction=render(spec.instruction, context),
        )

    return CapAction(
        msg_type=msg_type,
        category=cap.category,
        event=cap.event,
        urgency=cap.urgency,
        severity=CAP_SEVERITY[severity],
        certainty=cap.certainty,
        fr=text(cap.fr),
        en=text(cap.en) if cap.en is not None else None,
    )
