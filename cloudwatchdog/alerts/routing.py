"""Which targets get which events (pure).

A target gets an event when the event's kind is in the target's events (its `events:` list, or the channel's
default) and the finding passes every filter the target sets:

- ``min_severity``: the finding's severity (after an escalation, the new one) is at least this;
- ``providers``, ``accounts``, ``rules``: the finding's provider / account / rule id is listed (``*`` and ``?``
  wildcards for accounts and rules); an empty list lets everything through;
- ``tags``: the resource has every listed tag key with one of its listed values.

A channel may let some events past the severity and tag filters (``Notifier.bypasses_filters``: PagerDuty's
resolves, so that an incident never stays open because its resolve was filtered out).
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudwatchdog.alerts.events import AlertEvent
from cloudwatchdog.alerts.registry import NOTIFIERS
from cloudwatchdog.glob import glob_match
from cloudwatchdog.settings.notifications import TargetBase


def route(events: Sequence[AlertEvent], targets: Sequence[TargetBase]) -> list[tuple[str, AlertEvent]]:
    """Every (target name, event) pair to deliver, targets in config order, events in the given order."""
    return [(t.label, e) for t in targets for e in events if matches(t, e)]


def matches(target: TargetBase, event: AlertEvent) -> bool:
    if event.kind.value not in target.wanted_events:
        return False
    f = event.finding
    if target.providers and f.provider not in target.providers:
        return False
    if target.accounts and not _any_glob(f.account, target.accounts):
        return False
    if target.rules and not _any_glob(f.rule_id, target.rules):
        return False
    if NOTIFIERS.get(target.type).bypasses_filters(event):
        return True
    if f.severity.rank < target.min_severity.rank:
        return False
    return _tags_match(target.tags, event)


def _any_glob(value: str, patterns: Sequence[str]) -> bool:
    return any(glob_match(p, value) for p in patterns)


def _tags_match(wanted: dict[str, str | list[str]], event: AlertEvent) -> bool:
    for key, allowed in wanted.items():
        value = event.resource_tags.get(key)
        if value is None:
            return False
        if value not in (allowed if isinstance(allowed, list) else [allowed]):
            return False
    return True
