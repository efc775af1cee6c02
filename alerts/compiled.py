"""A rule compiled for the engine: condition trees, leaves, grouping and the labels it stamps."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from alerts.condition import Leaf, Node, compile_condition, needs_tick
from alerts.schedule import DEFAULT_LOCATION
from alerts.schema import Rule
from alerts.template import names_in
from hypervision.domain import Reading, Severity

INDEX_LABELS = ("domain", "source", "metric", "zone")


class CompiledRule:
    """Everything the engine needs from a rule, precomputed once per rule-set load."""

    def __init__(self, rule: Rule, location: tuple[float, float] = DEFAULT_LOCATION) -> None:
        self.rule = rule
        self.id = rule.id
        self.leaves: list[Leaf] = []
        self.when = compile_condition(rule, rule.when, self.leaves)
        self.clear = compile_condition(rule, rule.clear, self.leaves) if rule.clear is not None else None
        levels = [(lvl.severity, compile_condition(rule, lvl.when, self.leaves)) for lvl in rule.levels]
        self.levels: list[tuple[Severity, Node]] = sorted(levels, key=lambda x: -x[0].rank)
        for node in self._nodes():
            node.location = location
        self.for_ = rule.for_
        self.keep = rule.keep_firing_for
        self.update_every = rule.update_every
        self.group_by = tuple(rule.group_by)
        # Series-level grouping (by source or metric) pins the domain of the subject too.
        self.subject_labels = (
            ("domain", *self.group_by) if {"source", "metric"} & set(self.group_by) else self.group_by
        )
        texts = [rule.title, rule.description]
        texts += [text for task in rule.actions.tasks for text in (task.title, task.details)]
        if rule.cap is not None:
            for lang in (rule.cap.fr, rule.cap.en):
                if lang is not None:
                    texts += [lang.headline, lang.description, lang.instruction]
        self.template_names = names_in(*texts)
        kinds = {("domain", "source", "metric"): "series", ("domain", "source"): "source", ("zone",): "zone"}
        self.subject_kind: str | None = kinds.get(tuple(self.subject_labels))
        self.tick = needs_tick(self.when) or (self.clear is not None and needs_tick(self.clear))
        self.tick = self.tick or any(needs_tick(node) for _, node in self.levels)
        # Plain threshold rules need no memory while quiet: only these rules persist series data.
        self.persist_series = bool(
            self.tick
            or self.for_
            or self.keep
            # a subject fed by several series (per zone, or per source over many metrics) must
            # remember the other series' latest values
            or not {"source", "metric"} <= set(self.group_by)
            or any(getattr(leaf, "over", None) or getattr(leaf, "consecutive", 1) > 1 for leaf in self.leaves)
        )
        domains = {leaf.domain for leaf in self.leaves}
        metrics = {leaf.metric for leaf in self.leaves}
        self.fixed_labels: dict[str, str] = {}
        if len(domains) == 1 and None not in domains:
            self.fixed_labels["domain"] = str(domains.pop())
        if len(metrics) == 1 and None not in metrics:
            self.fixed_labels["metric"] = str(metrics.pop())
        self.shape = hashlib.sha1(
            rule.model_dump_json(include={"select", "group_by", "when", "clear", "levels"}).encode()
        ).hexdigest()[:12]

    def _nodes(self) -> list[Node]:
        out: list[Node] = []
        stack = [self.when, *(n for _, n in self.levels)] + ([self.clear] if self.clear else [])
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(node.children)
        return out

    def subject_of(self, reading: Reading) -> tuple[str, ...] | None:
        """The values of the subject labels for this reading; None if it has no zone to group by."""
        out = []
        for label in self.subject_labels:
            if label == "source":
                out.append(reading.source)
            elif label == "metric":
                out.append(reading.metric)
            elif label == "domain":
                out.append(reading.domain.value)
            else:
                if reading.zone is None:
                    return None
                out.append(reading.zone)
        return tuple(out)

    def labels_of(self, subject: tuple[str, ...]) -> dict[str, str]:
        return dict(zip(self.subject_labels, subject, strict=True))


def fingerprint(rule_id: str, labels: Mapping[str, str]) -> str:
    """Stable identity of an alert: rule id plus its subject labels (sorted)."""
    text = "\x1f".join([rule_id, *(f"{k}={labels[k]}" for k in sorted(labels))])
    return hashlib.sha256(text.encode()).hexdigest()[:24]
