"""Is an S3 bucket or access-point policy public? (shared/EXPOSURE.md, "AWS S3").

The policy is evaluated as a whole. Every Allow statement becomes one *grant path* a principal: who it
reaches (everyone, a fixed principal, or everyone narrowed by conditions on trusted keys) and which actions
apply to its resources. Deny statements that cover a path's actions and resources then narrow it (the
negation of the Deny's conditions is an extra restriction) or remove it. A policy is public when some path
still reaches everyone.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from cloudwatchdog.model import Capabilities, Evidence, Level
from cloudwatchdog.providers.base import PolicyError as BasePolicyError

ResourceKind = Literal["bucket", "access-point"]


class PolicyError(BasePolicyError):
    """A malformed policy document. The message says what is wrong and where (statement Sid or index)."""


@dataclass(frozen=True)
class PolicyAnalysis:
    public: bool
    public_access: Capabilities
    external_principals: tuple[str, ...]
    external_access: Capabilities
    evidence: tuple[Evidence, ...]
    level: Level

    def to_dict(self) -> dict[str, Any]:
        """The ``check-policy --json`` shape (DESIGN.md)."""
        access = self.public_access if self.public else self.external_access
        return {
            "level": self.level.value,
            "read": access.read,
            "list": access.list,
            "write": access.write,
            "external_principals": list(self.external_principals),
            "evidence": [e.to_dict() for e in self.evidence],
        }


# --- Parsed document ----------------------------------------------------------------------------------------

_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL_FIELDS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::([^:]*):(.+)$")
# IAM replaces the ARN of a deleted user or role in a policy by its unique id; it then matches nobody.
_UNIQUE_ID = re.compile(r"^(?:AIDA|AROA|AIPA|ANPA|ANVA|AGPA|ASIA|AKIA)[A-Z0-9]{12,}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


@dataclass(frozen=True)
class _Principal:
    """One principal of a Principal/NotPrincipal element.

    ``kind``: everyone | account | arn | canonical | service | deleted. ``value`` is the external-principal
    spelling (12-digit account id, ARN as given, ``canonical:<id>``, service name). ``account`` is the owning
    account when known. ``label`` is how the policy wrote it, for evidence.
    """

    kind: str
    value: str
    account: str | None
    label: str
    anyone: bool = False  # "*" or {"AWS": "*"}: matches every request, anonymous ones included

    @property
    def is_everyone(self) -> bool:
        return self.kind == "everyone"


@dataclass(frozen=True)
class _Condition:
    operator: str  # as written, for evidence
    base: str  # operator without set prefix and IfExists, e.g. StringEquals
    set_prefix: str  # "", "ForAnyValue:" or "ForAllValues:"
    if_exists: bool
    key: str  # as written
    values: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.operator} {self.key} {_show_values(self.values)}"


@dataclass(frozen=True)
class _Statement:
    label: str  # '"Sid"' or 'statement #N'
    effect: str
    principals: tuple[_Principal, ...]
    not_principal: bool
    action_patterns: tuple[str, ...]
    not_action: bool
    resource_patterns: tuple[str, ...]
    not_resource: bool
    conditions: tuple[_Condition, ...]


@dataclass(frozen=True)
class _Context:
    account_id: str
    resource: ResourceKind
    trusted_orgs: frozenset[str]
    variables: bool  # policy variables are interpreted only under Version 2012-10-17

    @property
    def source(self) -> str:
        return "bucket-policy" if self.resource == "bucket" else "access-point-policy"


# --- Parsing ------------------------------------------------------------------------------------------------


def _load(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"policy is not valid JSON: {exc}") from exc
    if not isinstance(document, Mapping):
        raise PolicyError(f"policy must be a JSON object, got {type(document).__name__}")
    unknown = sorted(set(document) - _TOP_LEVEL_FIELDS)
    if unknown:
        raise PolicyError(f"policy has unknown top-level field(s): {', '.join(unknown)}")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(f"policy Version {version!r} is not one of {', '.join(_VERSIONS)}")
    if "Statement" not in document:
        raise PolicyError("policy has no Statement")
    return document


def _raw_statements(document: Mapping[str, Any]) -> list[Any]:
    statements = document["Statement"]
    # A single statement may be written as an object instead of a one-element list.
    if isinstance(statements, Mapping):
        return [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError("policy Statement must be an object or a non-empty list of objects")
    return statements


def _statement_label(raw: Any, index: int) -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("Sid"), str) and raw["Sid"]:
        return f'statement "{raw["Sid"]}"'
    return f"statement #{index + 1}"


def _parse_statement(raw: Any, index: int) -> _Statement:
    label = _statement_label(raw, index)
    where = label
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} is not an object")
    unknown = sorted(set(raw) - _STATEMENT_FIELDS)
    if unknown:
        raise PolicyError(f"{where} has unknown field(s): {', '.join(unknown)}")
    if "Sid" in raw and not isinstance(raw["Sid"], str):
        raise PolicyError(f"{where}: Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where}: Effect must be "Allow" or "Deny", got {effect!r}')
    principal_field = _one_of(raw, "Principal", "NotPrincipal", where)
    action_field = _one_of(raw, "Action", "NotAction", where)
    resource_field = _one_of(raw, "Resource", "NotResource", where)
    return _Statement(
        label=label,
        effect=effect,
        principals=_parse_principals(raw[principal_field], where, principal_field),
        not_principal=principal_field == "NotPrincipal",
        action_patterns=_strings(raw[action_field], where, action_field),
        not_action=action_field == "NotAction",
        resource_patterns=_strings(raw[resource_field], where, resource_field),
        not_resource=resource_field == "NotResource",
        conditions=_parse_conditions(raw.get("Condition", {}), where),
    )


def _one_of(raw: Mapping[str, Any], positive: str, negative: str, where: str) -> str:
    if positive in raw and negative in raw:
        raise PolicyError(f"{where} has both {positive} and {negative}")
    if positive in raw:
        return positive
    if negative in raw:
        return negative
    raise PolicyError(f"{where} has neither {positive} nor {negative}")


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{where}: {name} must be a non-empty string or a non-empty list of strings")
    return tuple(items)


def _parse_conditions(raw: Any, where: str) -> tuple[_Condition, ...]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    conditions: list[_Condition] = []
    for operator, block in raw.items():
        base, set_prefix, if_exists = _split_operator(operator, where)
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f"{where}: Condition operator {operator} must map condition keys to values")
        for key, value in block.items():
            values = _condition_values(value, where, f"{operator} {key}")
            conditions.append(_Condition(operator, base, set_prefix, if_exists, key, values))
    return tuple(conditions)


_BASE_OPERATORS = frozenset(
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals",
        "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
        "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null",
    }
)  # fmt: skip


def _split_operator(operator: str, where: str) -> tuple[str, str, bool]:
    set_prefix = ""
    base = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if base.startswith(prefix):
            set_prefix, base = prefix, base[len(prefix) :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _BASE_OPERATORS or (if_exists and base == "Null"):
        raise PolicyError(f"{where}: unknown condition operator {operator!r}")
    return base, set_prefix, if_exists


def _condition_values(value: Any, where: str, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(f"{where}: condition {what} has no values")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            raise PolicyError(
                f"{where}: condition {what} has a value that is not a string, number or boolean"
            )
    return tuple(out)


# --- Principals ---------------------------------------------------------------------------------------------


def _parse_principals(raw: Any, where: str, name: str) -> tuple[_Principal, ...]:
    if raw == "*":
        return (_Principal("everyone", "*", None, f'{name} "*"', anyone=True),)
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f'{where}: {name} must be "*" or an object such as {{"AWS": [...]}}, got {raw!r}')
    principals: list[_Principal] = []
    for kind, values in raw.items():
        if kind not in _PRINCIPAL_TYPES:
            raise PolicyError(f"{where}: {name} has unknown principal type {kind!r}")
        for value in _strings(values, where, f"{name} {kind}"):
            principals.append(_classify_principal(kind, value, where, name))
    return tuple(principals)


def _classify_principal(kind: str, value: str, where: str, name: str) -> _Principal:
    label = f'{name} {{"{kind}": "{value}"}}'
    if value == "*":
        # Only "*" and {"AWS": "*"} cover every request; {"Federated": "*"}, {"Service": "*"} reach everyone in an
        # Allow but do not, in a Deny or NotPrincipal, cover anonymous requests.
        return _Principal("everyone", "*" if kind == "AWS" else f"{kind}:*", None, label, anyone=kind == "AWS")
    if kind == "AWS":
        return _aws_principal(value, label, where)
    if kind == "Service":
        return _Principal("service", value, None, label)
    if kind == "CanonicalUser":
        return _Principal("canonical", f"canonical:{value}", None, label)
    return _federated_principal(value, label)


def _aws_principal(value: str, label: str, where: str) -> _Principal:
    if _ACCOUNT_ID.match(value):
        return _Principal("account", value, value, label)
    match = _IAM_ARN.match(value)
    if match:
        account, rest = match.groups()
        if "*" in account or "?" in account:
            return _Principal("everyone", value, None, label)  # any account: everyone authenticated
        if rest == "root":
            return _Principal("account", account, account, label)
        return _Principal("arn", value, account, label)
    if _UNIQUE_ID.match(value):
        return _Principal("deleted", value, None, label)
    raise PolicyError(f"{where}: unrecognised AWS principal {value!r}")


def _federated_principal(value: str, label: str) -> _Principal:
    match = _IAM_ARN.match(value)
    if match and _ACCOUNT_ID.match(match.group(1)):
        # A SAML/OIDC provider of one account: its federated users belong to that account.
        return _Principal("arn", value, match.group(1), label)
    # Web identity providers (Cognito, Google, Facebook, Login with Amazon): anyone can sign in.
    return _Principal("everyone", value, None, label)


# --- Who a path reaches -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """Who a grant path reaches: everyone, or the union of private paths, external identities and networks."""

    everyone: bool = False
    private: frozenset[str] = frozenset()  # owner account, trusted org, VPC, service: not external
    identities: frozenset[str] = frozenset()  # external principals: account ids, ARNs, org:, canonical:
    networks: frozenset[str] = frozenset()  # ip:<cidr>: unauthenticated access from those networks

    @property
    def nobody(self) -> bool:
        return not (self.everyone or self.private or self.identities or self.networks)

    @property
    def external(self) -> frozenset[str]:
        return self.identities | self.networks

    def union(self, other: _Reach) -> _Reach:
        if self.everyone or other.everyone:
            return EVERYONE
        return _Reach(
            False,
            self.private | other.private,
            self.identities | other.identities,
            self.networks | other.networks,
        )

    def narrow(self, other: _Reach) -> _Reach:
        """Both must hold (AND). An exact intersection is not representable; keep the narrower side: a private
        restriction beats an identity restriction, which beats a network one. Equally narrow sides are united,
        which can only over-report external principals, never hide them."""
        if self.everyone:
            return other
        if other.everyone:
            return self
        if self.nobody or other.nobody:
            return NOBODY
        mine, theirs = self._rank, other._rank
        if mine != theirs:
            return self if mine < theirs else other
        return self.union(other)

    @property
    def _rank(self) -> int:
        if not self.external:
            return 0
        return 1 if self.identities else 2


EVERYONE = _Reach(everyone=True)
NOBODY = _Reach()


def _private(why: str) -> _Reach:
    return _Reach(private=frozenset({why}))


def _principal_reach(principal: _Principal, ctx: _Context) -> _Reach:
    """The reach of a fixed (not everyone) principal."""
    if principal.kind == "service":
        return _private(f"service {principal.value}")
    if principal.kind == "deleted":
        return NOBODY
    if principal.account == ctx.account_id:
        return _private(f"owner account {ctx.account_id}")
    return _Reach(identities=frozenset({principal.value}))


def _account_reach(account: str, spelled: str, ctx: _Context) -> _Reach:
    if account == ctx.account_id:
        return _private(f"owner account {account}")
    return _Reach(identities=frozenset({spelled}))


# --- Condition keys -----------------------------------------------------------------------------------------
# One handler a trusted key, as in Cloud Custodian's iamaccess: it gets the values of one positive condition
# and returns who they restrict the request to, or a reason why they do not restrict.

_Verdict = _Reach | str  # a _Reach restricts; a str says why the condition does not restrict


def _is_fixed(value: str, ctx: _Context) -> bool:
    if "*" in value or "?" in value:
        return False
    return not (ctx.variables and "${" in value)


def _not_fixed(value: str, ctx: _Context) -> str:
    if ctx.variables and "${" in value:
        return f"value {value!r} contains a policy variable"
    return f"value {value!r} contains a wildcard"


def _each_value(values: Sequence[str], one: Callable[[str], _Verdict]) -> _Verdict:
    """Values of one key are ORed: the condition restricts only if every value does."""
    reach = NOBODY
    for value in values:
        verdict = one(value)
        if isinstance(verdict, str):
            return verdict
        reach = reach.union(verdict)
    return reach


def _vpc_key(key: str) -> Callable[[Sequence[str], str, _Context], _Verdict]:
    def handle(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
        def one(value: str) -> _Verdict:
            return _private(f"{key} {value}") if _is_fixed(value, ctx) else _not_fixed(value, ctx)

        return _each_value(values, one)

    return handle


def _account_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    def one(value: str) -> _Verdict:
        if not _is_fixed(value, ctx):
            return _not_fixed(value, ctx)
        return _account_reach(value, value, ctx)

    return _each_value(values, one)


def _org_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    def one(value: str) -> _Verdict:
        if not _is_fixed(value, ctx):
            return _not_fixed(value, ctx)
        if value in ctx.trusted_orgs:
            return _private(f"trusted organization {value}")
        return _Reach(identities=frozenset({f"org:{value}"}))

    return _each_value(values, one)


def _arn_reach(value: str, ctx: _Context) -> _Reach:
    match = _IAM_ARN.match(value)
    if match and match.group(2) == "root":
        return _account_reach(match.group(1), match.group(1), ctx)
    account = _ARN_ACCOUNT.match(value)
    if account and account.group(1) == ctx.account_id:
        return _private(f"owner account {ctx.account_id}")
    # Other accounts, and ARNs that do not name their account (arn:aws:s3:::bucket): reported as given.
    return _Reach(identities=frozenset({value}))


def _arn_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    def one(value: str) -> _Verdict:
        return _arn_reach(value, ctx) if _is_fixed(value, ctx) else _not_fixed(value, ctx)

    return _each_value(values, one)


_ROLE_ID_SESSIONS = re.compile(r"^[A-Z0-9]+:\*$")
_FEDERATED_USERID = re.compile(r"^(\d{12}):")  # "account:caller-specified-name" of a federated user


def _userid_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    def one(value: str) -> _Verdict:
        if not (_is_fixed(value, ctx) or _ROLE_ID_SESSIONS.match(value)):
            return _not_fixed(value, ctx)
        if value.lower() == "anonymous":
            return "aws:userid is anonymous for unauthenticated S3 requests: it selects the public"
        if _ACCOUNT_ID.match(value):
            return _account_reach(value, value, ctx)
        federated = _FEDERATED_USERID.match(value)
        if federated:
            return _account_reach(federated.group(1), federated.group(1), ctx)
        # A unique id does not reveal its account; such ids are in practice the owner's own roles and users.
        return _private(f"aws:userid {value}")

    return _each_value(values, one)


_ACCESS_POINT_ARN = re.compile(r"^arn:[^:*?]+:s3:[^:*?]+:(\d{12}):accesspoint/.+$")


def _access_point_arn_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    if ctx.resource == "access-point":
        return "s3:DataAccessPointArn does not restrict in an access-point policy (it is the access point)"

    def one(value: str) -> _Verdict:
        match = _ACCESS_POINT_ARN.match(value)
        # In a bucket policy the access-point name may be wildcarded (partition, region, account fixed).
        if match and not (ctx.variables and "${" in value):
            return _account_reach(match.group(1), value, ctx)
        return _arn_reach(value, ctx) if _is_fixed(value, ctx) else _not_fixed(value, ctx)

    return _each_value(values, one)


def _access_point_account_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    if ctx.resource == "access-point":
        return (
            "s3:DataAccessPointAccount does not restrict in an access-point policy "
            "(it is always the access point's own account)"
        )
    return _account_key(values, base, ctx)


_IPV4_MIN_PREFIX = 8
_IPV6_MIN_PREFIX = 32
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _source_ip_key(values: Sequence[str], base: str, ctx: _Context) -> _Verdict:
    if base != "IpAddress":
        return f"aws:SourceIp is only a network restriction with IpAddress, not {base}"

    def one(value: str) -> _Verdict:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not an IP address or CIDR"
        limit = _IPV4_MIN_PREFIX if network.version == 4 else _IPV6_MIN_PREFIX
        if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
            limit = _IPV4_MAPPED.prefixlen + _IPV4_MIN_PREFIX  # ::ffff:a.b.c.d/n stands for IPv4 a.b.c.d/(n-96)
        if network.prefixlen < limit:
            return f"CIDR {network} is broader than /{limit}"
        return _Reach(networks=frozenset({f"ip:{network}"}))

    return _each_value(values, one)


_KeyHandler = Callable[[Sequence[str], str, _Context], _Verdict]

_TRUSTED_KEYS: dict[str, _KeyHandler] = {
    "aws:sourcevpc": _vpc_key("aws:SourceVpc"),
    "aws:sourcevpce": _vpc_key("aws:SourceVpce"),
    "aws:sourcearn": _arn_key,
    "aws:sourceaccount": _account_key,
    "aws:sourceowner": _account_key,
    "aws:principalorgid": _org_key,
    "aws:principalaccount": _account_key,
    "aws:principalarn": _arn_key,
    "aws:userid": _userid_key,
    "s3:dataaccesspointaccount": _access_point_account_key,
    "s3:dataaccesspointarn": _access_point_arn_key,
    "aws:sourceip": _source_ip_key,
}

_POSITIVE_OPERATORS = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}
)
_NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}


def _condition_verdict(condition: _Condition, ctx: _Context) -> _Verdict:
    """Does this condition of an Allow restrict who can use it?"""
    if condition.if_exists:
        return f"{condition.operator} is true when {condition.key} is absent (e.g. internet requests)"
    if condition.set_prefix == "ForAllValues:":
        return f"{condition.operator} is true when {condition.key} is absent (empty set)"
    if condition.base in _NEGATIONS:
        return f"{condition.operator} is a negated operator: it grants everyone else"
    if condition.base not in _POSITIVE_OPERATORS:
        return f"{condition.operator} does not restrict to fixed principals"
    handler = _TRUSTED_KEYS.get(condition.key.lower())
    if handler is None:
        return f"{condition.key} is not a trust key"
    return handler(condition.values, condition.base, ctx)


def _negate(condition: _Condition) -> _Condition | str:
    """The condition under which a Deny does *not* apply, when that is a positive restriction."""
    if condition.base == "Null":
        return f"Null {condition.key} negates to a key-presence test, not a fixed value"
    positive = _NEGATIONS.get(condition.base)
    if positive is None:
        return f"negating {condition.operator} {condition.key} does not give a fixed value"
    if condition.set_prefix == "ForAnyValue:":
        return f"negating {condition.operator} gives ForAllValues:, true on an empty set"
    # A negated operator is true on a missing key, so with or without IfExists the Deny is escaped only by a
    # present key equal to a listed value.
    set_prefix = "ForAnyValue:" if condition.set_prefix == "ForAllValues:" else ""
    return replace(
        condition, operator=set_prefix + positive, base=positive, set_prefix=set_prefix, if_exists=False
    )


def _restriction(conditions: Iterable[_Condition], ctx: _Context) -> tuple[_Reach, list[str], list[str]]:
    """AND of an Allow's conditions: its reach, the restricting condition texts and why the others do not."""
    reach = EVERYONE
    restricting: list[str] = []
    ignored: list[str] = []
    for condition in conditions:
        verdict = _condition_verdict(condition, ctx)
        if isinstance(verdict, str):
            ignored.append(f"{condition.text}: {verdict}")
        else:
            restricting.append(condition.text)
            reach = reach.narrow(verdict)
    return reach, restricting, ignored


# --- Actions and resources ----------------------------------------------------------------------------------

_S3_ACTIONS = tuple(
    [
        "AbortMultipartUpload",
        "BypassGovernanceRetention",
        "CreateBucket",
        "DeleteBucket",
        "DeleteBucketOwnershipControls",
        "DeleteBucketPolicy",
        "DeleteBucketWebsite",
        "DeleteObject",
        "DeleteObjectTagging",
        "DeleteObjectVersion",
        "DeleteObjectVersionTagging",
        "GetAccelerateConfiguration",
        "GetAnalyticsConfiguration",
        "GetBucketAcl",
        "GetBucketCORS",
        "GetBucketLocation",
        "GetBucketLogging",
        "GetBucketNotification",
        "GetBucketObjectLockConfiguration",
        "GetBucketOwnershipControls",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketPublicAccessBlock",
        "GetBucketRequestPayment",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetBucketWebsite",
        "GetEncryptionConfiguration",
        "GetIntelligentTieringConfiguration",
        "GetInventoryConfiguration",
        "GetLifecycleConfiguration",
        "GetMetricsConfiguration",
        "GetObject",
        "GetObjectAcl",
        "GetObjectAttributes",
        "GetObjectLegalHold",
        "GetObjectRetention",
        "GetObjectTagging",
        "GetObjectTorrent",
        "GetObjectVersion",
        "GetObjectVersionAcl",
        "GetObjectVersionAttributes",
        "GetObjectVersionForReplication",
        "GetObjectVersionTagging",
        "GetObjectVersionTorrent",
        "GetReplicationConfiguration",
        "InitiateReplication",
        "ListBucket",
        "ListBucketMultipartUploads",
        "ListBucketVersions",
        "ListMultipartUploadParts",
        "ObjectOwnerOverrideToBucketOwner",
        "PutAccelerateConfiguration",
        "PutAnalyticsConfiguration",
        "PutBucketAcl",
        "PutBucketCORS",
        "PutBucketLogging",
        "PutBucketNotification",
        "PutBucketObjectLockConfiguration",
        "PutBucketOwnershipControls",
        "PutBucketPolicy",
        "PutBucketPublicAccessBlock",
        "PutBucketRequestPayment",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutBucketWebsite",
        "PutEncryptionConfiguration",
        "PutIntelligentTieringConfiguration",
        "PutInventoryConfiguration",
        "PutLifecycleConfiguration",
        "PutMetricsConfiguration",
        "PutObject",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "PutObjectRetention",
        "PutObjectTagging",
        "PutObjectVersionAcl",
        "PutObjectVersionTagging",
        "PutReplicationConfiguration",
        "ReplicateDelete",
        "ReplicateObject",
        "ReplicateTags",
        "RestoreObject",
    ]
)
_KNOWN_ACTIONS = {f"s3:{name}".lower(): f"s3:{name}" for name in _S3_ACTIONS}
# NotAction also allows actions this list does not know (new ones); one placeholder stands for them.
_OTHER_ACTIONS = "s3:<other actions>"

_READ_ACTIONS = frozenset(
    f"s3:{p}".lower()
    for p in [
        "GetObject",
        "GetObjectVersion",
        "GetObjectTorrent",
        "GetObjectVersionTorrent",
        "GetObjectVersionForReplication",
    ]
)
_LIST_ACTIONS = frozenset(
    a.lower() for a in ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
)
_WRITE_PREFIXES = tuple(
    f"s3:{p}".lower()
    for p in [
        "Put",
        "Delete",
        "Restore",
        "Replicate",
        "AbortMultipartUpload",
        "BypassGovernanceRetention",
        "CreateBucket",
        "ObjectOwnerOverride",
        "InitiateReplication",
    ]
)
_OBJECT_ACTION_PREFIXES = tuple(
    f"s3:{p}".lower()
    for p in [
        "GetObject",
        "PutObject",
        "DeleteObject",
        "RestoreObject",
        "ReplicateObject",
        "ReplicateDelete",
        "ReplicateTags",
        "AbortMultipartUpload",
        "ListMultipartUploadParts",
        "BypassGovernanceRetention",
        "InitiateReplication",
        "ObjectOwnerOverrideToBucketOwner",
    ]
)


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: * any run of characters (including /), ? one character; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _action_matches(patterns: Sequence[str], action: str) -> bool:
    return any(_glob(pattern, ignore_case=True).match(action) for pattern in patterns)


def _allowed_actions(statement: _Statement) -> frozenset[str]:
    """Lower-cased action names a statement covers: known S3 actions, plus unknown names or patterns."""
    patterns = statement.action_patterns
    if statement.not_action:
        names = {name for name in _KNOWN_ACTIONS if not _action_matches(patterns, name)}
        if not _action_matches(patterns, _OTHER_ACTIONS):
            names.add(_OTHER_ACTIONS)
        return frozenset(names)
    names = {name for name in _KNOWN_ACTIONS if _action_matches(patterns, name)}
    for pattern in patterns:
        if not any(_glob(pattern, ignore_case=True).match(name) for name in _KNOWN_ACTIONS):
            names.add(pattern.lower())  # an action this list does not know still counts as allowed
    return frozenset(names)


def _action_kind(action: str) -> str | None:
    """'object' or 'bucket' for a known action; None when unknown (assumed to apply to any resource)."""
    if action not in _KNOWN_ACTIONS:
        return None
    return "object" if action.startswith(_OBJECT_ACTION_PREFIXES) else "bucket"


_BUCKET_ARN = re.compile(r"^arn:[^:]*:s3:::(.*)$")
_ACCESS_POINT_RESOURCE = re.compile(r"^arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/(.*)$")


def _resource_kinds(pattern: str, ctx: _Context) -> frozenset[str]:
    """Which kinds of resource ('bucket', 'object') a Resource pattern can match for this policy."""
    if pattern == "*" or re.fullmatch(r"arn:\*(:\*)*", pattern):
        return frozenset({"bucket", "object"})
    match = (_BUCKET_ARN if ctx.resource == "bucket" else _ACCESS_POINT_RESOURCE).match(pattern)
    if match is None:
        return frozenset()
    rest = match.group(1)
    kinds: set[str] = set()
    object_marker = "/" if ctx.resource == "bucket" else "/object/"
    # A wildcard matches across "/", so "arn:aws:s3:::b*" reaches the bucket and its objects.
    if object_marker in rest or "*" in rest:
        kinds.add("object")
    if "/" not in rest:
        kinds.add("bucket")
    return frozenset(kinds)


def _statement_kinds(statement: _Statement, ctx: _Context) -> frozenset[str]:
    if statement.not_resource:
        # Everything except the listed resources: conservatively, any kind.
        return frozenset({"bucket", "object"})
    kinds: frozenset[str] = frozenset()
    for pattern in statement.resource_patterns:
        kinds |= _resource_kinds(pattern, ctx)
    return kinds


def _effective_actions(actions: Iterable[str], kinds: frozenset[str]) -> frozenset[str]:
    """Actions that apply to some resource the statement names (GetObject needs an object resource)."""
    return frozenset(a for a in actions if (kind := _action_kind(a)) is None or kind in kinds)


def _capabilities(actions: Iterable[str]) -> Capabilities:
    names = set(actions)
    return Capabilities(
        read=bool(names & _READ_ACTIONS),
        list=bool(names & _LIST_ACTIONS),
        write=any(name.startswith(_WRITE_PREFIXES) for name in names),
    )


def _pattern_covers(general: str, specific: str) -> bool:
    """Does pattern ``general`` match everything ``specific`` matches? Conservative: False when unsure."""
    if general == specific or general == "*":
        return True
    if not _has_wildcard(specific):
        return bool(_glob(general).match(specific))
    stem = general[:-1]
    return general.endswith("*") and not _has_wildcard(stem) and specific.startswith(stem)


def _patterns_overlap(left: str, right: str) -> bool:
    """Could two resource patterns match a common resource? Conservative: True when unsure."""
    if not _has_wildcard(left):
        return bool(_glob(right).match(left))
    if not _has_wildcard(right):
        return bool(_glob(left).match(right))
    stem_left = re.split(r"[*?]", left, maxsplit=1)[0]
    stem_right = re.split(r"[*?]", right, maxsplit=1)[0]
    return stem_left.startswith(stem_right) or stem_right.startswith(stem_left)


# A policy only governs its own bucket (or access point): AWS refuses resources outside it. So "b/*" already
# covers every object the policy can grant, and "b" the bucket itself, whatever the Allow wrote ("*", "b*").
_WHOLE_KIND = {
    ("bucket", "object"): re.compile(r"arn:[^:]*:s3:::[^/*?]+/\*"),
    ("bucket", "bucket"): re.compile(r"arn:[^:]*:s3:::[^/*?]+\*?"),
    ("access-point", "object"): re.compile(r"arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/[^/*?]+/object/\*"),
    ("access-point", "bucket"): re.compile(r"arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/[^/*?]+\*?"),
}


def _covers_whole_kind(pattern: str, kind: str | None, ctx: _Context) -> bool:
    if pattern == "*":
        return True
    whole = _WHOLE_KIND.get((ctx.resource, kind)) if kind is not None else None
    return whole is not None and whole.fullmatch(pattern) is not None


def _deny_covers_resources(deny: _Statement, allow: _Statement, kind: str | None, ctx: _Context) -> bool:
    """Does the Deny cover every resource through which the Allow grants an action of this kind?"""
    if not deny.not_resource and any(_covers_whole_kind(p, kind, ctx) for p in deny.resource_patterns):
        return True
    if allow.not_resource:
        return False
    # Only the Allow's resources the action applies to matter: a Deny of GetObject on b/* covers an Allow of
    # GetObject on [b, b/*].
    patterns = [p for p in allow.resource_patterns if kind is None or kind in _resource_kinds(p, ctx)]
    if deny.not_resource:
        return not any(
            _patterns_overlap(excluded, pattern)
            for excluded in deny.resource_patterns
            for pattern in patterns
        )
    return all(
        any(_pattern_covers(general, pattern) for general in deny.resource_patterns) for pattern in patterns
    )


def _deny_covers_action(deny: _Statement, action: str) -> bool:
    matched = _action_matches(deny.action_patterns, action)
    return not matched if deny.not_action else matched


# --- Grant paths --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    """One way an Allow statement grants access: a principal, who it reaches, and what it may do."""

    statement: _Statement
    principal: _Principal
    reach: _Reach
    actions: frozenset[str]  # lower-cased, already limited to the statement's resources


def _allow_paths(statement: _Statement, ctx: _Context) -> tuple[list[_Path], list[Evidence]]:
    actions = _effective_actions(_allowed_actions(statement), _statement_kinds(statement, ctx))
    what = _describe_actions(statement)
    if not actions:
        detail = f"{statement.label} allows {what}, but no S3 action it allows applies to its resources"
        return [], [Evidence(ctx.source, detail)]
    paths: list[_Path] = []
    evidence: list[Evidence] = []
    for principal in _grantees(statement):
        path, detail = _grant_path(statement, principal, actions, what, ctx)
        if path is not None:
            paths.append(path)
        evidence.append(Evidence(ctx.source, detail))
    return paths, evidence


def _grantees(statement: _Statement) -> tuple[_Principal, ...]:
    if not statement.not_principal:
        return statement.principals
    if any(p.anyone for p in statement.principals):
        return ()  # NotPrincipal "*" excludes everyone
    excluded = ", ".join(p.value for p in statement.principals)
    return (_Principal("everyone", "*", None, f"NotPrincipal (everyone except {excluded})"),)


def _grant_path(
    statement: _Statement, principal: _Principal, actions: frozenset[str], what: str, ctx: _Context
) -> tuple[_Path | None, str]:
    head = f"{statement.label} allows {what} to {principal.label}"
    if not principal.is_everyone:
        reach = _principal_reach(principal, ctx)
        fixed = None if reach.nobody else _Path(statement, principal, reach, actions)
        return fixed, head + _fixed_note(statement, principal, reach)
    reach, restricting, ignored = _restriction(statement.conditions, ctx)
    notes = f" ({'; '.join(ignored)})" if ignored else ""
    path = _Path(statement, principal, reach, actions)
    if reach.everyone:
        return path, f"{head} with no restricting condition{notes}"
    return path, f"{head} but only when {' and '.join(restricting)}: {_reach_text(reach)}{notes}"


def _fixed_note(statement: _Statement, principal: _Principal, reach: _Reach) -> str:
    if principal.kind == "deleted":
        return ": a deleted IAM principal (unique id), matches nobody"
    if principal.kind == "service":
        keys = {c.key.lower() for c in statement.conditions if c.base in _POSITIVE_OPERATORS}
        if keys & {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"}:
            return ": a service principal, not public and not external"
        return (
            ": a service principal, not public and not external; no aws:SourceArn/aws:SourceAccount "
            "condition, so the service may act on behalf of any account (confused-deputy risk)"
        )
    return ": " + _reach_text(reach)


def _reach_text(reach: _Reach) -> str:
    if reach.everyone:
        return "public"
    if reach.external:
        return "external principals " + ", ".join(sorted(reach.external))
    return "private path (" + ", ".join(sorted(reach.private)) + ")"


def _describe_actions(statement: _Statement) -> str:
    listed = ", ".join(statement.action_patterns)
    return f"every action except {listed}" if statement.not_action else listed


def _show_values(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


# --- Deny statements ----------------------------------------------------------------------------------------


def _principal_in(principal: _Principal, listed: Sequence[_Principal], *, loose: bool = False) -> bool:
    """Is ``principal`` among ``listed``? ``loose`` (for NotPrincipal, where a match exempts from the Deny) also
    counts any principal class that reaches everyone, such as a web identity provider, as containing it."""
    for other in listed:
        if other.anyone or other.value == principal.value or (loose and other.is_everyone):
            return True
        if other.kind == "account" and principal.account == other.account:
            return True
    return False


def _deny_escape(deny: _Statement, path: _Path, ctx: _Context) -> _Reach | str | None:
    """Who escapes ``deny`` on this path: NOBODY when it removes the path, a _Reach when it narrows it to
    those, a str when it does not restrict (why), None when it does not apply to the path's principal."""
    branches: list[_Reach] = []
    if deny.not_principal:
        if _principal_in(path.principal, deny.principals, loose=True):
            return None
        if path.principal.is_everyone:
            # Everyone except the listed principals is denied: the listed ones escape.
            branches.append(_listed_reach(deny.principals, ctx))
    elif not _principal_in(path.principal, deny.principals):
        # A Deny to some principals (even a class such as a web identity provider or any account's root) leaves
        # everyone else, anonymous callers included, allowed.
        return "it denies only some principals" if path.principal.is_everyone else None
    for condition in deny.conditions:
        negated = _negate(condition)
        verdict = negated if isinstance(negated, str) else _condition_verdict(negated, ctx)
        if isinstance(verdict, str):
            return f"{condition.text}: {verdict}"
        branches.append(verdict)
    # The Deny's conditions are ANDed, so escaping it needs only one of them false: an OR of the branches.
    escape = NOBODY
    for branch in branches:
        escape = escape.union(branch)
    return escape


def _listed_reach(principals: Sequence[_Principal], ctx: _Context) -> _Reach:
    reach = NOBODY
    for principal in principals:
        reach = reach.union(_principal_reach(principal, ctx))
    return reach


def _apply_deny(deny: _Statement, path: _Path, ctx: _Context) -> tuple[list[_Path], Evidence | None]:
    covered = frozenset(
        a
        for a in path.actions
        if _deny_covers_action(deny, a) and _deny_covers_resources(deny, path.statement, _action_kind(a), ctx)
    )
    if not covered:
        return [path], None
    escape = _deny_escape(deny, path, ctx)
    if escape is None:
        return [path], None
    head = f"{deny.label} (Deny)"
    target = f"{path.statement.label} ({path.principal.label})"
    if isinstance(escape, str):
        if not path.reach.everyone:
            return [path], None
        return [path], Evidence(ctx.source, f"{head} does not neutralise {target}: {escape}")
    if not path.principal.is_everyone and not escape.nobody:
        return [path], None  # a named principal stays named: the Deny's restriction does not change who it is
    narrowed = path.reach.narrow(escape)
    kept = path.actions - covered
    paths = [replace(path, actions=kept)] if kept else []
    if not narrowed.nobody:
        paths.append(replace(path, reach=narrowed, actions=covered))
    scope = "" if not kept else f" for {_summarise(covered)} (not for {_summarise(kept)})"
    if escape.nobody:
        detail = f"{head} neutralises {target}{scope}"
    else:
        detail = f"{head} restricts {target}{scope} to {_reach_text(narrowed)}"
    return paths, Evidence(ctx.source, detail)


def _summarise(actions: Iterable[str]) -> str:
    names = sorted(_KNOWN_ACTIONS.get(a, a) for a in actions)
    if len(names) > 4:
        return ", ".join(names[:4]) + f" and {len(names) - 4} more"
    return ", ".join(names)


# --- Entry point --------------------------------------------------------------------------------------------


def analyze_policy(
    document: str | Mapping[str, Any],
    *,
    account_id: str,
    resource: ResourceKind = "bucket",
    trusted_orgs: frozenset[str] = frozenset(),
) -> PolicyAnalysis:
    """Judge a bucket or access-point policy owned by ``account_id``. Raises PolicyError when malformed."""
    loaded = _load(document)
    statements = [_parse_statement(raw, i) for i, raw in enumerate(_raw_statements(loaded))]
    ctx = _Context(account_id, resource, frozenset(trusted_orgs), loaded.get("Version") == "2012-10-17")
    paths: list[_Path] = []
    evidence: list[Evidence] = []
    for statement in statements:
        if statement.effect == "Allow":
            found, notes = _allow_paths(statement, ctx)
            paths.extend(found)
            evidence.extend(notes)
    for deny in (s for s in statements if s.effect == "Deny"):
        paths, notes = _deny_all(deny, paths, ctx)
        evidence.extend(notes)
    return _result(paths, evidence, ctx)


def _deny_all(deny: _Statement, paths: list[_Path], ctx: _Context) -> tuple[list[_Path], list[Evidence]]:
    survivors: list[_Path] = []
    evidence: list[Evidence] = []
    for path in paths:
        kept, note = _apply_deny(deny, path, ctx)
        survivors.extend(kept)
        if note is not None:
            evidence.append(note)
    return survivors, evidence


def _result(paths: list[_Path], evidence: list[Evidence], ctx: _Context) -> PolicyAnalysis:
    public_paths = [p for p in paths if p.reach.everyone]
    external_paths = [p for p in paths if not p.reach.everyone and p.reach.external]
    public_access = _union_capabilities(public_paths)
    external = tuple(sorted({name for p in external_paths for name in p.reach.external}))
    if public_paths:
        level = Level.PUBLIC
        labels = ", ".join(dict.fromkeys(p.statement.label for p in public_paths))
        evidence.append(Evidence(ctx.source, f"policy is public through {labels}"))
    elif external:
        level = Level.CROSS_ACCOUNT
        detail = f"policy is not public; it grants external principals {', '.join(external)}"
        evidence.append(Evidence(ctx.source, detail))
    else:
        level = Level.PRIVATE
        evidence.append(Evidence(ctx.source, "policy is not public and grants no external principal"))
    return PolicyAnalysis(
        public=bool(public_paths),
        public_access=public_access,
        external_principals=external,
        external_access=_union_capabilities(external_paths),
        evidence=tuple(evidence),
        level=level,
    )


def _union_capabilities(paths: Iterable[_Path]) -> Capabilities:
    result = Capabilities()
    for path in paths:
        result = result | _capabilities(path.actions)
    return result
