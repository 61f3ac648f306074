"""Digests: the events routed to a `mode: digest` target since its last digest become one message (pure).

The daemon keeps the routed events of digest targets (in the outbox) and, on each target's `schedule`, calls
``build_digests`` with what has piled up. Events are listed new first, then reopened, escalated and resolved, most
severe first within each kind; an event routed twice (same finding, kind and time) is listed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.registry import build_payload
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.settings.notifications import TargetBase

_KIND_ORDER = {EventKind.NEW: 0, EventKind.REOPENED: 1, EventKind.ESCALATED: 2, EventKind.RESOLVED: 3}


def digest_order(events: Sequence[AlertEvent]) -> list[AlertEvent]:
    unique: dict[str, AlertEvent] = {}
    for e in events:
        unique.setdefault(e.key, e)
    return sorted(unique.values(), key=lambda e: (_KIND_ORDER[e.kind], -e.finding.severity.rank,
                                                  e.finding.resource_name, e.finding.rule_id, e.at))


def build_digests(
    routed: Sequence[tuple[str, AlertEvent]],
    targets: Sequence[TargetBase],
    templates_for: Callable[[TargetBase], Templates],
) -> list[tuple[str, Payload]]:
    """One payload per digest target that has events in ``routed`` (pairs from ``routing.route``), in config
    order. Pairs for immediate targets are ignored."""
    pending: dict[str, list[AlertEvent]] = {}
    for name, event in routed:
        pending.setdefault(name, []).append(event)
    out: list[tuple[str, Payload]] = []
    for target in targets:
        events = pending.get(target.label)
        if target.mode != "digest" or not events:
            continue
        out.append((target.label, build_payload(target, digest_order(events), templates_for(target), digest=True)))
    return out
