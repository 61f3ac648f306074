"""The domain model: typed, frozen, free of any SDK, database or network import.

Collectors produce raw snapshots (plain JSON-able dicts); normalizers turn them into the typed inputs below
(``S3Bucket``, ``S3AccessPoint``); the exposure analysis turns those into an ``Exposure``; the rule engine turns
``Resource`` objects into ``Finding`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    PUBLIC = "public"
    CROSS_ACCOUNT = "cross-account"
    PRIVATE = "private"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


SEVERITIES = tuple(s.value for s in Severity)  # highest first

_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact behind a verdict: where it comes from (``bucket-policy``, ``bucket-acl``, ``block-public-access``,
    ``object-ownership``, ``access-point``, ``read-error``, ...) and what it says, precisely enough to act on
    (the statement Sid or index, the grant, the setting)."""

    source: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "detail": self.detail}


@dataclass(frozen=True)
class Capabilities:
    """What a grant allows: read objects, list keys, write (put/delete objects, or change ACLs/policy)."""

    read: bool = False
    list: bool = False
    write: bool = False

    def __or__(self, other: Capabilities) -> Capabilities:
        return Capabilities(self.read or other.read, self.list or other.list, self.write or other.write)

    @property
    def any(self) -> bool:
        return self.read or self.list or self.write


NO_CAPABILITIES = Capabilities()


@dataclass(frozen=True, slots=True)
class Exposure:
    """The effective verdict for one resource (see docs/exposure.md).

    ``read``/``list``/``write`` describe the access that makes the verdict: for ``public`` what anyone can do, for
    ``cross-account`` what the external principals can do. For a ``latent`` verdict they describe what would be
    public if the neutralising guardrail were removed.
    """

    level: Level
    latent: bool = False
    read: bool = False
    list: bool = False
    write: bool = False
    external_principals: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "latent": self.latent,
            "read": self.read,
            "list": self.list,
            "write": self.write,
            "external_principals": list(self.external_principals),
            "evidence": [e.to_dict() for e in self.evidence],
        }


# --- A setting that could not be read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadError:
    """A setting that could not be read. Its presence makes a verdict ``unknown`` unless the verdict does not
    depend on it."""

    operation: str  # the API call, e.g. "GetBucketAcl"
    code: str  # the error code, e.g. "AccessDenied", "Throttling", "NoSuchBucket", "InvalidResponse"
    message: str

    def describe(self) -> str:
        return f"{self.operation} failed: {self.code}: {self.message}"



# --- What sampled objects hold (data sampling) -------------------------------------------------------------------


class DataClass(StrEnum):
    """Kinds of sensitive data the sampler recognises (the JSON contract names; extend, never rename)."""

    PERSON_NAME = "person_name"
    EMAIL = "email"
    PHONE = "phone"
    POSTAL_ADDRESS = "postal_address"
    DATE_OF_BIRTH = "date_of_birth"
    CREDIT_CARD = "credit_card"
    BANK_ACCOUNT = "bank_account"
    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    VIN = "vin"
    VEHICLE_REGISTRATION = "vehicle_registration"
    IP_ADDRESS = "ip_address"
    CREDENTIAL = "credential"


class DataStatus(StrEnum):
    SAMPLED = "sampled"
    NOT_SAMPLED = "not_sampled"
    UNKNOWN = "unknown"  # objects could not be read: never "no personal data"


@dataclass(frozen=True)
class DataClassCount:
    """One kind of data found in a resource's sampled objects: how many values, in how many objects, which object
    keys (untrusted text from the cloud) and masked examples only (never a value in clear)."""

    data_class: DataClass
    count: int
    objects: int
    keys: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.data_class.value, "count": self.count, "objects": self.objects,
                "keys": list(self.keys), "examples": list(self.examples)}


@dataclass(frozen=True)
class DataSample:
    """What sampling a resource's objects found: counts, object keys and masked examples, nothing in clear."""

    status: DataStatus
    reason: str = ""
    objects_listed: int = 0
    objects_sampled: int = 0
    bytes_read: int = 0
    classes: tuple[DataClassCount, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason, "objects_listed": self.objects_listed,
                "objects_sampled": self.objects_sampled, "bytes_read": self.bytes_read,
                "classes": [c.to_dict() for c in self.classes], "summary": self.summary()}

    def summary(self) -> str:
        """For people: "1,204 e-mail addresses, 1,198 phone numbers in 3 of 20 sampled objects (a.csv, ...)"."""
        if self.status is not DataStatus.SAMPLED:
            return f"{self.status.value}: {self.reason}" if self.reason else self.status.value
        if not self.classes:
            return f"nothing sensitive found in {self.objects_sampled} sampled objects"
        found = ", ".join(f"{c.count:,} {_data_noun(c.data_class, c.count)}" for c in self.classes)
        keys = list(dict.fromkeys(k for c in self.classes for k in c.keys))
        holding = max(c.objects for c in self.classes)
        shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
        return f"{found} in {holding} of {self.objects_sampled} sampled objects ({shown})"


_DATA_NOUNS: dict[DataClass, tuple[str, str]] = {
    DataClass.PERSON_NAME: ("person name", "person names"),
    DataClass.EMAIL: ("e-mail address", "e-mail addresses"),
    DataClass.PHONE: ("phone number", "phone numbers"),
    DataClass.POSTAL_ADDRESS: ("postal address", "postal addresses"),
    DataClass.DATE_OF_BIRTH: ("date of birth", "dates of birth"),
    DataClass.CREDIT_CARD: ("credit card number", "credit card numbers"),
    DataClass.BANK_ACCOUNT: ("bank account number", "bank account numbers"),
    DataClass.NATIONAL_ID: ("national id number", "national id numbers"),
    DataClass.PASSPORT: ("passport number", "passport numbers"),
    DataClass.VIN: ("vehicle identification number", "vehicle identification numbers"),
    DataClass.VEHICLE_REGISTRATION: ("vehicle registration", "vehicle registrations"),
    DataClass.IP_ADDRESS: ("IP address", "IP addresses"),
    DataClass.CREDENTIAL: ("credential", "credentials"),
}


def _data_noun(data_class: DataClass, count: int) -> str:
    one, many = _DATA_NOUNS[data_class]
    return one if count == 1 else many


# --- What rules match on and what scans produce -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resource:
    """One scanned resource with its exposure verdict. ``properties`` holds the normalized settings that rules may
    match on (plain JSON-able values, e.g. ``public_access_block.account.block_public_acls``)."""

    uid: str
    provider: str  # aws | gcp | azure
    account: str
    region: str
    type: str  # aws.s3.bucket, aws.s3.access_point, aws.account, ...
    name: str
    exposure: Exposure
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    # An aggregate's exposure only summarises other resources (an Azure storage account rolls up its containers) or
    # carries account-level settings: it is not counted as an exposed resource of its own (see counts_as_exposed).
    aggregate: bool = False
    # What sampling its objects found (data sampling on, verdict qualifies); None: not part of this scan.
    data: DataSample | None = None
    # The account's name as configured or discovered (AWS account name, GCP project name, Azure subscription name).
    account_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract shape (DESIGN.md), plus ``tags`` and ``properties``, and ``data`` when sampled."""
        doc: dict[str, Any] = {
            "uid": self.uid,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "type": self.type,
            "name": self.name,
            "tags": dict(self.tags),
            "exposure": self.exposure.to_dict(),
            "properties": dict(self.properties),
        }
        if self.data is not None:
            doc["data"] = self.data.to_dict()
        return doc


def counts_as_exposed(resource: Resource) -> bool:
    """Whether this resource is counted in public/latent tallies and exposure windows: not an aggregate, whose
    exposure only summarises other resources or carries account-level settings (its parts are counted), so
    "resources public now" counts each exposed thing once."""
    return not resource.aggregate


class FindingState(StrEnum):
    NEW = "new"
    OPEN = "open"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Remediation:
    summary: str
    cli: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "cli": self.cli}


@dataclass(frozen=True)
class SuppressionInfo:
    """Why a finding is muted, by whom, until when (``expires`` ISO date or None), and where it was set
    (``config`` or ``cli``)."""

    reason: str
    owner: str
    expires: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "owner": self.owner, "expires": self.expires, "source": self.source}


@dataclass(frozen=True)
class AccessLogging:
    """Whether access logs record the requests to an exposed resource, read after the analysis for exposed
    resources only (`cloudwatchdog incident` reads those logs): ``on`` (``detail`` says where), ``off``, or
    ``unknown`` (``detail`` says why)."""

    status: str  # on | off | unknown
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Probe:
    """What one unauthenticated request to an exposed resource answered (``verify: {anonymous: true}``):
    ``status`` None when no answer came (``detail`` says why); ``agrees`` whether the answer is what the verdict
    predicts (None: it cannot tell). Evidence beside the analysis, never a verdict of its own."""

    operation: str  # LIST or READ
    at: str
    status: int | None
    agrees: bool | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "at": self.at, "status": self.status, "agrees": self.agrees,
                "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # stable fingerprint of (rule_id, resource_uid)
    rule_id: str
    title: str
    severity: Severity
    resource_uid: str
    provider: str
    account: str
    region: str
    resource_type: str
    resource_name: str
    message: str
    evidence: tuple[Evidence, ...]
    remediation: Remediation
    state: FindingState = FindingState.NEW
    first_seen: str | None = None
    last_seen: str | None = None
    compliance: tuple[str, ...] = ()
    # Lifecycle, filled from the state store: when it was resolved (state resolved), the severity it had before
    # this scan escalated it, and the suppression that mutes it (state suppressed).
    resolved_at: str | None = None
    previous_severity: Severity | None = None
    suppression: SuppressionInfo | None = None
    account_name: str | None = None  # the account's configured or discovered name, when it has one
    access_logging: AccessLogging | None = None  # exposed resources only; None: not checked
    anonymous_probe: Probe | None = None  # verify: anonymous, public verdicts only; None: not probed

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity.value,
            "resource_uid": self.resource_uid,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "resource_type": self.resource_type,
            "resource_name": self.resource_name,
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation.to_dict(),
            "compliance": list(self.compliance),
            "state": self.state.value,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "previous_severity": self.previous_severity.value if self.previous_severity else None,
            "suppression": self.suppression.to_dict() if self.suppression else None,
            "account_name": self.account_name,
            "access_logging": self.access_logging.to_dict() if self.access_logging else None,
            "anonymous_probe": self.anonymous_probe.to_dict() if self.anonymous_probe else None,
        }


class CoverageStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    ERROR = "error"


@dataclass(frozen=True)
class Coverage:
    provider: str
    account: str
    status: CoverageStatus
    resources: int
    errors: tuple[str, ...] = ()
    api_calls: int = 0
    # What this scan enumerated for the account: resource types, or ``type@region`` for regional listings. A
    # resource absent from a complete scan is gone only if its type (and region) was in scope: turning a feature
    # off or dropping a region from the config must not look like a fix. None: not stated (everything).
    scope: tuple[str, ...] | None = None
    name: str | None = None  # the account's configured or discovered name
    # A targeted rescan (a change event's hint): only these resources were read, as ``type:name`` (target_key).
    # Nothing else of the account is in scope: an absent resource of another name is not gone. None: not targeted.
    targets: tuple[str, ...] | None = None

    def covers(self, resource_type: str, region: str, name: str | None = None) -> bool:
        if self.targets is not None and (name is None or target_key(resource_type, name) not in self.targets):
            return False
        return self.scope is None or resource_type in self.scope or f"{resource_type}@{region}" in self.scope

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "status": self.status.value,
            "resources": self.resources,
            "errors": list(self.errors),
            "api_calls": self.api_calls,
            "scope": list(self.scope) if self.scope is not None else None,
            "name": self.name,
            **({"targets": list(self.targets)} if self.targets is not None else {}),
        }


def target_key(resource_type: str, name: str) -> str:
    """How a targeted rescan names one resource in ``Coverage.targets``."""
    return f"{resource_type}:{name}"


# --- One scan --------------------------------------------------------------------------------------------------

# The raw provider answers of one account, project or subscription (JSON-able), as collectors return them.
Snapshot = Mapping[str, Any]


@dataclass(frozen=True)
class ScanResult:
    id: str
    started_at: str
    finished_at: str
    coverage: tuple[Coverage, ...]
    resources: tuple[Resource, ...]
    findings: tuple[Finding, ...]
    raw: tuple[Snapshot, ...] = field(default=(), repr=False)  # the provider answers behind this result
    # Findings this scan resolved (state resolved), known only when the scan is recorded in the state store.
    resolved: tuple[Finding, ...] = ()
    # The start to the microsecond (ISO 8601): the store orders scans by it (two scans started within one second
    # are still ordered). Used only while it agrees with ``started_at``, which stays the start to the second.
    started_at_exact: str | None = None

    @property
    def complete(self) -> bool:
        return all(c.status is CoverageStatus.OK for c in self.coverage) and bool(self.coverage)

    def findings_at_or_above(self, severity: Severity) -> list[Finding]:
        """Active findings (not suppressed) at or above ``severity``: what ``--fail-on`` counts."""
        return [f for f in self.findings
                if f.severity.rank >= severity.rank and f.state is not FindingState.SUPPRESSED]

    def count_by_level(self) -> dict[str, int]:
        """Resources by verdict (and latent), each exposed thing once: aggregate types are left out, unless their
        verdict is unknown (an unknown is never hidden)."""
        counts = {level.value: 0 for level in Level}
        counts["latent"] = 0
        for r in self.resources:
            if not counts_as_exposed(r) and r.exposure.level is not Level.UNKNOWN:
                continue
            counts[r.exposure.level.value] += 1
            if r.exposure.latent:
                counts["latent"] += 1
        return counts
