"""The typed parts of an incident dossier: one parsed access-log record, time spans, coverage gaps, the access
evidence a provider returns, and the dossier itself with its JSON contract shape (``Dossier.to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cloudwatchdog.model import DataSample


class Principal(StrEnum):
    ANONYMOUS = "anonymous"  # no credentials at all
    OWNER = "owner"  # the resource's own account / project / storage account
    ORGANISATION = "organisation"  # another account of the same organisation (known to the store or trusted)
    EXTERNAL = "external"  # an identified principal outside the organisation
    UNKNOWN = "unknown"  # the log cannot tell (a GCS usage log names no principal): counted as external

    @property
    def external(self) -> bool:
        return self in (Principal.ANONYMOUS, Principal.EXTERNAL, Principal.UNKNOWN)


class Operation(StrEnum):
    READ = "read"  # object content read (GET object)
    LIST = "list"  # listing of the container's objects
    WRITE = "write"
    OTHER = "other"  # HEAD, ACL reads, ...: not counted as a read


class AccessStatus(StrEnum):
    ANALYSED = "analysed"  # logs cover the whole window
    PARTIAL = "partial"  # logs cover part of it: the gaps say where and why
    NO_LOGS = "no_logs"  # logging was off or left nothing
    UNKNOWN = "unknown"  # logs exist or may exist but could not be read


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request as a log line states it. Text fields are untrusted, as the cloud wrote them."""

    time: datetime  # aware UTC
    ip: str
    requester: str  # as the log gives it ("-" or "" when anonymous)
    principal: Principal
    operation: Operation
    key: str  # object name ("" when none)
    status: int  # HTTP status
    bytes_sent: int
    request_id: str = ""  # the cloud's request id, when the log gives it (to count a request once across sources)


@dataclass(frozen=True)
class TimeSpan:
    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, str]:
        return {"from": iso(self.start), "to": iso(self.end)}


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"from": iso(self.start), "to": iso(self.end), "reason": self.reason}

    def sentence(self) -> str:
        return (f"access during {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} cannot be established: "
                f"{self.reason}")


@dataclass(frozen=True)
class StartEvidence:
    """Evidence that the exposure began at ``at`` (or earlier), and where it comes from."""

    at: datetime
    evidence: str

    def to_dict(self) -> dict[str, str]:
        return {"at": iso(self.at), "evidence": self.evidence}


@dataclass(frozen=True)
class ClientCount:
    ip: str
    requester: str
    requests: int
    bytes_sent: int

    def to_dict(self) -> dict[str, Any]:
        return {"ip": self.ip, "requester": self.requester, "requests": self.requests, "bytes_sent": self.bytes_sent}


@dataclass(frozen=True)
class ObjectCount:
    key: str
    requests: int
    bytes_sent: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "requests": self.requests, "bytes_sent": self.bytes_sent}


@dataclass(frozen=True)
class AccessCounts:
    """What the logs show in the counted period (successful reads and lists only)."""

    requests: int = 0  # every principal
    external_requests: int = 0  # anonymous, external and unknown principals
    anonymous_requests: int = 0
    owner_requests: int = 0
    organisation_requests: int = 0
    distinct_ips: int = 0  # of external requests
    distinct_ips_exact: bool = True  # False above the exact-count cap: an estimate
    objects: int = 0  # distinct objects read from outside
    bytes_sent: int = 0  # to outside
    first: datetime | None = None  # first and last external access
    last: datetime | None = None
    top_clients: tuple[ClientCount, ...] = ()
    objects_read: tuple[ObjectCount, ...] = ()
    ranking_exact: bool = True  # False when the bounded counters had to drop rare entries
    lines: int = 0  # log lines read
    skipped_lines: int = 0  # malformed lines, counted and skipped
    first_external: datetime | None = None  # earliest successful external read/list seen in any log read


@dataclass(frozen=True)
class AccessEvidence:
    """A provider's answer for one resource: what the logs say, where they are silent, and why."""

    status: AccessStatus
    sources: tuple[str, ...] = ()
    coverage: tuple[TimeSpan, ...] = ()
    gaps: tuple[Gap, ...] = ()
    counts: AccessCounts = field(default_factory=AccessCounts)
    notes: tuple[str, ...] = ()  # what the logs cannot say (e.g. a usage log names no principal)
    start_evidence: tuple[StartEvidence, ...] = ()  # e.g. the creation date of a resource created open


@dataclass(frozen=True)
class AccessTarget:
    """The resource whose access is analysed, as the store knows it."""

    uid: str
    provider: str
    account: str
    region: str
    type: str
    name: str
    first_seen: datetime  # first time any scan saw it
    known_accounts: frozenset[str] = frozenset()  # accounts of the organisation (the store's)


@dataclass(frozen=True)
class Dossier:
    finding: dict[str, Any]  # the finding as in scan JSON
    resource: dict[str, Any]
    windows: tuple[TimeSpan, ...]
    open_now: bool
    estimated_start: StartEvidence | None
    data: DataSample | None
    access: AccessEvidence
    generated_at: datetime
    start_evidence: tuple[StartEvidence, ...] = ()  # every piece of evidence of an earlier start, oldest first

    def to_dict(self) -> dict[str, Any]:
        a, c = self.access, self.access.counts
        return {
            "finding": self.finding,
            "resource": self.resource,
            "windows": [w.to_dict() for w in self.windows],
            "estimated_start": self.estimated_start.to_dict() if self.estimated_start else None,
            "data": self.data.to_dict() if self.data is not None else None,
            "access": {
                "status": a.status.value,
                "sources": list(a.sources),
                "coverage": [s.to_dict() for s in a.coverage],
                "gaps": [g.to_dict() for g in a.gaps],
                "requests": c.requests,
                "external_requests": c.external_requests,
                "anonymous_requests": c.anonymous_requests,
                "distinct_ips": c.distinct_ips,
                "objects": c.objects,
                "bytes_sent": c.bytes_sent,
                "first": iso(c.first) if c.first else None,
                "last": iso(c.last) if c.last else None,
                "top_clients": [t.to_dict() for t in c.top_clients],
                "objects_read": [o.to_dict() for o in c.objects_read],
                # Beyond the contract: the owner's and the organisation's own requests, counted apart; how exact
                # the counts are; what was skipped; what the logs cannot say.
                "owner_requests": c.owner_requests,
                "organisation_requests": c.organisation_requests,
                "distinct_ips_exact": c.distinct_ips_exact,
                "ranking_exact": c.ranking_exact,
                "lines": c.lines,
                "skipped_lines": c.skipped_lines,
                "notes": list(a.notes),
            },
            # Beyond the contract: every piece of evidence of an earlier start, the estimate's included.
            "start_evidence": [e.to_dict() for e in self.start_evidence],
            "open_now": self.open_now,
            "generated_at": iso(self.generated_at),
        }


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
