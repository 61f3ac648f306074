"""Findings to and from the JSON kept in the store (the shape of ``Finding.to_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudwatchdog.model import (
    AccessLogging,
    Evidence,
    Finding,
    FindingState,
    Probe,
    Remediation,
    Severity,
    SuppressionInfo,
)


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    rem = d.get("remediation") or {}
    sup = d.get("suppression")
    prev = d.get("previous_severity")
    return Finding(
        id=str(d["id"]),
        rule_id=str(d["rule_id"]),
        title=str(d["title"]),
        severity=Severity(d["severity"]),
        resource_uid=str(d["resource_uid"]),
        provider=str(d["provider"]),
        account=str(d["account"]),
        region=str(d["region"]),
        resource_type=str(d["resource_type"]),
        resource_name=str(d["resource_name"]),
        message=str(d["message"]),
        evidence=tuple(Evidence(str(e["source"]), str(e["detail"])) for e in d.get("evidence") or ()),
        remediation=Remediation(str(rem.get("summary", "")), rem.get("cli")),
        state=FindingState(d.get("state", "new")),
        first_seen=d.get("first_seen"),
        last_seen=d.get("last_seen"),
        compliance=tuple(str(c) for c in d.get("compliance") or ()),
        resolved_at=d.get("resolved_at"),
        previous_severity=Severity(prev) if prev else None,
        suppression=SuppressionInfo(str(sup["reason"]), str(sup["owner"]), sup.get("expires"), str(sup["source"]))
        if sup else None,
        account_name=d.get("account_name"),
        access_logging=_access_logging(d.get("access_logging")),
        anonymous_probe=_probe(d.get("anonymous_probe")),
    )


def _access_logging(value: Any) -> AccessLogging | None:
    if not isinstance(value, Mapping):
        return None
    return AccessLogging(str(value.get("status", "unknown")), str(value.get("detail", "")))


def _probe(value: Any) -> Probe | None:
    if not isinstance(value, Mapping):
        return None
    status, agrees = value.get("status"), value.get("agrees")
    return Probe(str(value.get("operation", "")), str(value.get("at", "")),
                 status if isinstance(status, int) else None, agrees if isinstance(agrees, bool) else None,
                 str(value.get("detail", "")))
