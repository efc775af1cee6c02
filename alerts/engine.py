"""The pure rules engine: readings and ticks in, alert changes out; condition state as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alerts.action import Action, actions_for, cap_action
from alerts.compiled import CompiledRule
from alerts.condition import Leaf, Witness
from alerts.lifecycle import AlertEvent
from alerts.loader import RuleSet
from alerts.schedule import DEFAULT_LOCATION, TZ
from alerts.subject import FIRING, INACTIVE, PENDING, Subject
from alerts.template import render
from hypervision.domain import Reading, Severity

_INDEX_CACHE_MAX = 10_000

__all__ = ["AlertChange", "Engine", "cap_action"]  # cap_action: re-exported for the CAP publisher


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One lifecycle event the worker applies to the stored alert with `alerts.lifecycle.transition`."""

    fingerprint: str
    rule_id: str
    event: AlertEvent
    severity: Severity
    labels: Mapping[str, str]
    title: str
    description: str
    value: float | str | None
    at: datetime
    actions: tuple[Action, ...] = ()
    public: bool = False
    from_state: str | None = field(default=None, compare=False)


class Engine:
    """Evaluates a RuleSet. Holds condition state only; acks, silences and escalations live on alerts."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        location = (rules.location.lat, rules.location.lon) if rules.location else DEFAULT_LOCATION
        self._compiled = {r.id: CompiledRule(r, location) for r in rules.rules if r.enabled}
        self._index: dict[tuple[str | None, str | None], list[tuple[CompiledRule, tuple[Leaf, ...]]]] = {}
        for cr in self._compiled.values():
            per_key: dict[tuple[str | None, str | None], list[Leaf]] = {}
            for leaf in cr.leaves:
                key = (leaf.domain.value if leaf.domain else None, leaf.metric)
                per_key.setdefault(key, []).append(leaf)
            for key, leaves in per_key.items():
                self._index.setdefault(key, []).append((cr, tuple(leaves)))
        self._lookup: dict[tuple[str, str], list[tuple[CompiledRule, tuple[Leaf, ...], bool]]] = {}
        self._tick_rules = [cr for cr in self._compiled.values() if cr.tick]
        self._subjects: dict[tuple[str, tuple[str, ...]], Subject] = {}
        self._by_rule: dict[str, dict[str, Subject]] = {rid: {} for rid in self._compiled}
        self._timers: dict[str, Subject] = {}
        self._dirty: dict[str, Subject | None] = {}

    # -- inputs -------------------------------------------------------------------------------

    def on_reading(self, reading: Reading, now: datetime) -> list[AlertChange]:
        """Feed one reading; `now` is the processing time (the reading's own time drives windows)."""
        domain = reading.domain.value
        candidates = self._candidates(domain, reading.metric)
        if not candidates:
            return []
        t = reading.observed_at.timestamp()
        nowt = now.timestamp()
        series_key = f"{reading.source}|{reading.metric}"
        # The subject tuples of the common groupings, built once per reading, not once per rule.
        by_kind = {
            "series": (domain, reading.source, reading.metric),
            "source": (domain, reading.source),
            "zone": (reading.zone,) if reading.zone is not None else None,
        }
        out: list[AlertChange] = []
        for cr, leaves, filtered in candidates:
            matched = [leaf for leaf in leaves if leaf.matches(reading)] if filtered else leaves
            if not matched:
                continue
            kind = cr.subject_kind
            subject_values = by_kind[kind] if kind is not None else cr.subject_of(reading)
            if subject_values is None:
                continue
            subject = self._subjects.get((cr.id, subject_values)) or self._subject(cr, subject_values)
            subject.last = reading
            subject.last_t = t
            changed = False
            for leaf in matched:
                per_leaf = subject.series[leaf.index]
                series = per_leaf.get(series_key)
                if series is None:
                    series = per_leaf[series_key] = leaf.new_series()
                elif t < series.t:
                    continue  # late, out-of-order reading: the newer value stands
                changed = leaf.observe(series, reading, t) or changed
            if changed and cr.persist_series:
                self._dirty[subject.key] = subject
            change = self._step(cr, subject, nowt, now)
            if change is not None:
                out.append(change)
        return out

    def on_tick(self, now: datetime) -> list[AlertChange]:
        """Advance time: `for` and `keep_firing_for` timers, absence and schedule conditions."""
        nowt = now.timestamp()
        out: list[AlertChange] = []
        seen: set[str] = set()
        for cr in self._tick_rules:
            for subject in list(self._by_rule[cr.id].values()):
                seen.add(subject.key)
                change = self._step(cr, subject, nowt, now)
                if change is not None:
                    out.append(change)
        for key, subject in list(self._timers.items()):
            if key not in seen:
                change = self._step(subject.rule, subject, nowt, now)
                if change is not None:
                    out.append(change)
        return out

    # -- state --------------------------------------------------------------------------------

    def take_dirty_state(self) -> dict[str, bytes | None]:
        """State keys changed since the last call: JSON bytes, or None to delete the key."""
        out: dict[str, bytes | None] = {}
        for key, subject in self._dirty.items():
            out[key] = None if subject is None or subject.blank else subject.dump()
        self._dirty = {}
        return out

    def dump_state(self) -> dict[str, bytes]:
        """Every non-blank state key (for a rule reload or a full snapshot)."""
        return {s.key: s.dump() for s in self._subjects_iter() if not s.blank}

    def load_state(self, entries: Mapping[str, bytes]) -> None:
        """Restore state after a restart; keys of unknown rules or unreadable ones are marked deleted."""
        for key, raw in entries.items():
            rule_id = key.split("|", 1)[0]
            cr = self._compiled.get(rule_id)
            if cr is None:
                self._dirty[key] = None
                continue
            try:
                subject = Subject.load(cr, raw)
            except ValueError:
                self._dirty[key] = None
                continue
            if subject.key != key:
                self._dirty[key] = None
                continue
            self._subjects[(cr.id, subject.subject)] = subject
            self._by_rule[cr.id][subject.key] = subject
            if subject.phase == PENDING or subject.clear_since is not None:
                self._timers[subject.key] = subject

    def with_rules(self, rules: RuleSet) -> Engine:
        """A new engine for `rules` that keeps this one's state (for a reload).

        Alerts of unchanged rules carry on (a pending `for` keeps its start, a firing alert does not
        fire again); a rule whose condition changed keeps its alert phase but restarts its series
        data; state of removed rules is reported deleted by the new engine's take_dirty_state.
        """
        engine = Engine(rules)
        engine.load_state(self.dump_state())
        # Keys that were dirty here and not yet persisted stay dirty in the new engine.
        for key in self._dirty:
            subject = engine._by_key(key)
            engine._dirty[key] = subject
        return engine

    def open_phases(self) -> dict[str, str]:
        """Fingerprint -> pending|firing, for diagnostics and tests."""
        return {s.fp: s.phase for s in self._subjects_iter() if s.phase != INACTIVE}

    # -- internals ----------------------------------------------------------------------------

    def _by_key(self, key: str) -> Subject | None:
        return self._by_rule.get(key.split("|", 1)[0], {}).get(key)

    def _subjects_iter(self) -> list[Subject]:
        return list(self._subjects.values())

    def _candidates(self, domain: str, metric: str) -> list[tuple[CompiledRule, tuple[Leaf, ...], bool]]:
        key = (domain, metric)
        found = self._lookup.get(key)
        if found is None:
            merged: dict[str, tuple[CompiledRule, list[Leaf]]] = {}
            for k in (key, (domain, None), (None, metric), (None, None)):
                for cr, leaves in self._index.get(k, ()):
                    merged.setdefault(cr.id, (cr, []))[1].extend(leaves)
            found = [
                (cr, tuple(leaves), any(leaf.filtered for leaf in leaves)) for cr, leaves in merged.values()
            ]
            if len(self._lookup) >= _INDEX_CACHE_MAX:  # metric names come from outside: bound the cache
                self._lookup.clear()
            self._lookup[key] = found
        return found

    def _subject(self, cr: CompiledRule, values: tuple[str, ...]) -> Subject:
        subject = self._subjects.get((cr.id, values))
        if subject is None:
            subject = Subject(cr, values)
            self._subjects[(cr.id, values)] = subject
            self._by_rule[cr.id][subject.key] = subject
        return subject

    def _severity(self, cr: CompiledRule, subject: Subject, nowt: float) -> Severity:
        for severity, node in cr.levels:
            if node.holds(subject.series, nowt, Witness()):
                return severity
        return cr.rule.severity

    def _step(self, cr: CompiledRule, s: Subject, nowt: float, now: datetime) -> AlertChange | None:
        witness = Witness()
        holds = cr.when.holds(s.series, nowt, witness)
        value = witness.value if witness.value is not None else s.latest_value
        if s.phase == INACTIVE:
            if not holds:
                return None
            if cr.for_ > 0:
                return self._move(cr, s, PENDING, AlertEvent.PEND, nowt, now, value, from_state=None)
            return self._fire(cr, s, nowt, now, value, from_state=None)
        if s.phase == PENDING:
            if not holds:
                return self._move(cr, s, INACTIVE, AlertEvent.RESOLVE, nowt, now, value, from_state=PENDING)
            if nowt - s.since >= cr.for_:
                return self._fire(cr, s, nowt, now, value, from_state=PENDING)
            return None
        clearing = cr.clear.holds(s.series, nowt, Witness()) if cr.clear is not None else not holds
        if clearing:
            if s.clear_since is None:
                s.clear_since = nowt
                self._dirty[s.key] = s
                if cr.keep > 0:
                    self._timers[s.key] = s
            if nowt - s.clear_since >= cr.keep:
                return self._move(cr, s, INACTIVE, AlertEvent.RESOLVE, nowt, now, value, from_state=FIRING)
            return None
        if s.clear_since is not None:
            s.clear_since = None
            self._timers.pop(s.key, None)
            self._dirty[s.key] = s
        severity = self._severity(cr, s, nowt)
        if severity.rank > s.severity.rank:
            s.severity = severity  # severity only rises while the alert is open: it never flaps down
            return self._emit(cr, s, AlertEvent.UPDATE, nowt, now, value, severity_rose=True)
        if holds and value != s.last_value and nowt - s.last_emit >= cr.update_every:
            return self._emit(cr, s, AlertEvent.UPDATE, nowt, now, value)
        return None

    def _fire(
        self, cr: CompiledRule, s: Subject, nowt: float, now: datetime, value: Any, from_state: str | None
    ) -> AlertChange:
        s.severity = self._severity(cr, s, nowt)
        return self._move(cr, s, FIRING, AlertEvent.FIRE, nowt, now, value, from_state=from_state)

    def _move(
        self,
        cr: CompiledRule,
        s: Subject,
        phase: str,
        event: AlertEvent,
        nowt: float,
        now: datetime,
        value: Any,
        from_state: str | None,
    ) -> AlertChange:
        if phase == PENDING:
            s.severity = self._severity(cr, s, nowt)
        s.phase = phase
        s.since = nowt
        s.clear_since = None
        if phase == PENDING:
            self._timers[s.key] = s
        else:
            self._timers.pop(s.key, None)
        change = self._emit(cr, s, event, nowt, now, value, from_state=from_state)
        if phase == INACTIVE:
            s.severity = cr.rule.severity
            s.last_value = None
        return change

    def _emit(
        self,
        cr: CompiledRule,
        s: Subject,
        event: AlertEvent,
        nowt: float,
        now: datetime,
        value: Any,
        *,
        severity_rose: bool = False,
        from_state: str | None = FIRING,
    ) -> AlertChange:
        s.last_emit = nowt
        s.last_value = value
        self._dirty[s.key] = s
        context = self._context(cr, s, value)
        labels = {**cr.rule.labels, **cr.fixed_labels}
        zone = s.ctx.get("zone")
        if zone and "zone" not in cr.subject_labels:
            labels["zone"] = zone  # lets inhibition match per-sensor alerts to their zone
        labels.update(s.labels)
        labels["rule"] = cr.id  # so silences and inhibition can match a rule by id
        actions = actions_for(
            cr.rule, event, s.severity, context, severity_rose=severity_rose, from_state=from_state
        )
        return AlertChange(
            fingerprint=s.fp,
            rule_id=cr.id,
            event=event,
            severity=s.severity,
            labels=labels,
            title=render(cr.rule.title, context),
            description=render(cr.rule.description, context),
            value=value,
            at=now,
            actions=actions,
            public=cr.rule.public,
            from_state=from_state,
        )

    def _context(self, cr: CompiledRule, s: Subject, value: Any) -> dict[str, object]:
        """Template values; only the names the rule's templates use are computed."""
        names = cr.template_names
        ctx = s.ctx
        context: dict[str, object] = {"value": value, "severity": s.severity.value, "rule": cr.id}
        for name in ("unit", "source", "metric", "zone", "domain"):
            context[name] = ctx.get(name)
        if "observed_at" in names:
            context["observed_at"] = _local(ctx.get("t"))
        if "since" in names:
            context["since"] = _local(s.since)
        for name, label in {**cr.rule.labels, **s.labels}.items():
            context[f"labels.{name}"] = label
        if any(name.startswith("values.") for name in names):
            for per_leaf in s.series:
                for key, series in per_leaf.items():
                    context.setdefault(f"values.{key.rsplit('|', 1)[-1]}", series.value)
        return context


def _local(t: Any) -> str | None:
    if not t:
        return None
    return datetime.fromtimestamp(float(t), UTC).astimezone(TZ).strftime("%d/%m/%Y %H:%M")
