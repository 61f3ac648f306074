"""Suppressions from the config file, as the diff's ``Suppression`` objects; and applying them without a store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from cloudwatchdog.model import Finding, FindingState
from cloudwatchdog.settings.state import SuppressionConfig
from cloudwatchdog.state.diff import Suppression, find_suppression


def from_config(items: Sequence[SuppressionConfig]) -> list[Suppression]:
    return [Suppression(reason=s.reason, owner=s.owner, expires=s.expires, source="config",
                        fingerprint=s.fingerprint, rule=s.rule, resource=s.resource, label=f"suppressions[{i}]")
            for i, s in enumerate(items)]


def expired(suppressions: Sequence[Suppression], now: datetime) -> list[Suppression]:
    """Those no longer in force (to warn about: they mute nothing)."""
    return [s for s in suppressions if not s.active(now)]


def apply_without_store(findings: Sequence[Finding], suppressions: Sequence[Suppression],
                        now: datetime) -> tuple[Finding, ...]:
    """``--no-state``: no lifecycle, but a suppressed finding is still marked so (and does not count for
    ``--fail-on``)."""
    out = []
    for f in findings:
        sup = find_suppression(f, suppressions, now)
        out.append(replace(f, state=FindingState.SUPPRESSED, suppression=sup.info()) if sup else f)
    return tuple(out)
