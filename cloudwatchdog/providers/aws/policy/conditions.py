"""Condition keys: does a condition of an Allow restrict who can use it, and to whom?

One handler a trusted key, as in Cloud Custodian's iamaccess: it gets the values of one positive condition and
returns who they restrict the request to (a ``Reach``), or a reason why they do not restrict (a ``str``).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from cloudwatchdog.providers.aws.policy.document import Condition
from cloudwatchdog.providers.aws.policy.principals import ACCOUNT_ID, IAM_ARN
from cloudwatchdog.providers.aws.policy.quote import clip
from cloudwatchdog.providers.aws.policy.reach import (
    EVERYONE,
    Context,
    Reach,
    account_reach,
    private,
    union_all,
)

Verdict = Reach | str  # a Reach restricts; a str says why the condition does not restrict
_KeyHandler = Callable[[Sequence[str], str, Context], Verdict]

_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


def _is_fixed(value: str, ctx: Context) -> bool:
    if "*" in value or "?" in value:
        return False
    return not (ctx.variables and "${" in value)


def _not_fixed(value: str, ctx: Context) -> str:
    if ctx.variables and "${" in value:
        return f"value {clip(value)!r} contains a policy variable"
    return f"value {clip(value)!r} contains a wildcard"


def _each_value(values: Sequence[str], one: Callable[[str], Verdict]) -> Verdict:
    """Values of one key are ORed: the condition restricts only if every value does."""
    reaches: list[Reach] = []
    for value in values:
        verdict = one(value)
        if isinstance(verdict, str):
            return verdict
        reaches.append(verdict)
    return union_all(reaches)


def _vpc_key(key: str) -> Callable[[Sequence[str], str, Context], Verdict]:
    def handle(values: Sequence[str], base: str, ctx: Context) -> Verdict:
        def one(value: str) -> Verdict:
            return private(f"{key} {value}") if _is_fixed(value, ctx) else _not_fixed(value, ctx)

        return _each_value(values, one)

    return handle


def _account_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    def one(value: str) -> Verdict:
        if not _is_fixed(value, ctx):
            return _not_fixed(value, ctx)
        return account_reach(value, value, ctx)

    return _each_value(values, one)


def _org_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    def one(value: str) -> Verdict:
        if not _is_fixed(value, ctx):
            return _not_fixed(value, ctx)
        if value in ctx.trusted_orgs:
            return private(f"trusted organization {value}")
        return Reach(identities=frozenset({f"org:{value}"}))

    return _each_value(values, one)


def _arn_reach(value: str, ctx: Context) -> Reach:
    match = IAM_ARN.match(value)
    if match and match.group(2) == "root":
        return account_reach(match.group(1), match.group(1), ctx)
    account = _ARN_ACCOUNT.match(value)
    if account and account.group(1) == ctx.account_id:
        return private(f"owner account {ctx.account_id}")
    # Other accounts, and ARNs that do not name their account (arn:aws:s3:::bucket): reported as given.
    return Reach(identities=frozenset({value}))


def _arn_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    def one(value: str) -> Verdict:
        return _arn_reach(value, ctx) if _is_fixed(value, ctx) else _not_fixed(value, ctx)

    return _each_value(values, one)


# An ARN that names its account, with or without a resource part after it.
_NAMED_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12})(?::|$)")


def _source_key(arn: bool) -> _KeyHandler:
    """aws:SourceArn (``arn``), aws:SourceAccount, aws:SourceOwner. Naming the owning account, or an ARN in it,
    keeps the grant inside the account, even when the ARN is malformed (no resource part): never external."""

    def handle(values: Sequence[str], base: str, ctx: Context) -> Verdict:
        def one(value: str) -> Verdict:
            if not _is_fixed(value, ctx):
                return _not_fixed(value, ctx)
            named = _NAMED_ACCOUNT.match(value)
            if (named.group(1) if named else value) == ctx.account_id:
                return private(f"owner account {ctx.account_id}")
            return _arn_reach(value, ctx) if arn else account_reach(value, value, ctx)

        return _each_value(values, one)

    return handle


def _kms_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    """s3:x-amz-server-side-encryption-aws-kms-key-id: the S3 user guide lists a fixed value among those that make
    a grant non-public (only principals allowed to use that key can send it). A key ARN of another account is
    external."""

    def one(value: str) -> Verdict:
        if not _is_fixed(value, ctx):
            return _not_fixed(value, ctx)
        if _ARN_ACCOUNT.match(value):
            return _arn_reach(value, ctx)
        return private(f"s3:x-amz-server-side-encryption-aws-kms-key-id {value}")

    return _each_value(values, one)


_ROLE_ID_SESSIONS = re.compile(r"^[A-Z0-9]+:\*$")
_FEDERATED_USERID = re.compile(r"^(\d{12}):")  # "account:caller-specified-name" of a federated user


def _userid_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    def one(value: str) -> Verdict:
        if not (_is_fixed(value, ctx) or _ROLE_ID_SESSIONS.match(value)):
            return _not_fixed(value, ctx)
        if value.lower() == "anonymous":
            return "aws:userid is anonymous for unauthenticated S3 requests: it selects the public"
        if ACCOUNT_ID.match(value):
            return account_reach(value, value, ctx)
        federated = _FEDERATED_USERID.match(value)
        if federated:
            return account_reach(federated.group(1), federated.group(1), ctx)
        # A unique id does not reveal its account; such ids are in practice the owner's own roles and users.
        return private(f"aws:userid {value}")

    return _each_value(values, one)


_ACCESS_POINT_ARN = re.compile(r"^arn:[^:*?]+:s3:[^:*?]+:(\d{12}):accesspoint/.+$")


def _access_point_arn_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    if ctx.resource == "access-point":
        return "s3:DataAccessPointArn does not restrict in an access-point policy (it is the access point)"

    def one(value: str) -> Verdict:
        match = _ACCESS_POINT_ARN.match(value)
        # In a bucket policy the access-point name may be wildcarded (partition, region, account fixed).
        if match and not (ctx.variables and "${" in value):
            return account_reach(match.group(1), value, ctx)
        return _arn_reach(value, ctx) if _is_fixed(value, ctx) else _not_fixed(value, ctx)

    return _each_value(values, one)


def _access_point_account_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    if ctx.resource == "access-point":
        return (
            "s3:DataAccessPointAccount does not restrict in an access-point policy "
            "(it is always the access point's own account)"
        )
    return _account_key(values, base, ctx)


_IPV4_MIN_PREFIX = 8
_IPV6_MIN_PREFIX = 32
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _source_ip_key(values: Sequence[str], base: str, ctx: Context) -> Verdict:
    if base != "IpAddress":
        return f"aws:SourceIp is only a network restriction with IpAddress, not {base}"

    def one(value: str) -> Verdict:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{clip(value)!r} is not an IP address or CIDR"
        limit = _IPV4_MIN_PREFIX if network.version == 4 else _IPV6_MIN_PREFIX
        if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
            limit = _IPV4_MAPPED.prefixlen + _IPV4_MIN_PREFIX  # ::ffff:a.b.c.d/n stands for IPv4 a.b.c.d/(n-96)
        if network.prefixlen < limit:
            return f"CIDR {network} is broader than /{limit}"
        return Reach(networks=frozenset({f"ip:{network}"}))

    return _each_value(values, one)


_TRUSTED_KEYS: dict[str, _KeyHandler] = {
    "aws:sourcevpc": _vpc_key("aws:SourceVpc"),
    "aws:sourcevpce": _vpc_key("aws:SourceVpce"),
    "aws:sourcearn": _source_key(arn=True),
    "aws:sourceaccount": _source_key(arn=False),
    "aws:sourceowner": _source_key(arn=False),
    "aws:principalorgid": _org_key,
    "aws:principalaccount": _account_key,
    "aws:principalarn": _arn_key,
    "aws:userid": _userid_key,
    "s3:dataaccesspointaccount": _access_point_account_key,
    "s3:dataaccesspointarn": _access_point_arn_key,
    "aws:sourceip": _source_ip_key,
    "s3:x-amz-server-side-encryption-aws-kms-key-id": _kms_key,
}

POSITIVE_OPERATORS = frozenset(
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


def condition_verdict(condition: Condition, ctx: Context) -> Verdict:
    """Does this condition of an Allow restrict who can use it?"""
    if condition.if_exists:
        return f"{condition.operator} is true when {condition.key} is absent (e.g. internet requests)"
    if condition.set_prefix == "ForAllValues:":
        return f"{condition.operator} is true when {condition.key} is absent (empty set)"
    if condition.base in _NEGATIONS:
        return f"{condition.operator} is a negated operator: it grants everyone else"
    if condition.base not in POSITIVE_OPERATORS:
        return f"{condition.operator} does not restrict to fixed principals"
    handler = _TRUSTED_KEYS.get(condition.key.lower())
    if handler is None:
        return f"{condition.key} is not a trust key"
    return handler(condition.values, condition.base, ctx)


def negate(condition: Condition) -> Condition | str:
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


def restriction(conditions: Iterable[Condition], ctx: Context) -> tuple[Reach, list[str], list[str]]:
    """AND of an Allow's conditions: its reach, the restricting condition texts and why the others do not."""
    reach = EVERYONE
    restricting: list[str] = []
    ignored: list[str] = []
    for condition in conditions:
        verdict = condition_verdict(condition, ctx)
        if isinstance(verdict, str):
            ignored.append(f"{condition.text}: {verdict}")
        else:
            restricting.append(condition.text)
            reach = reach.narrow(verdict)
    return reach, restricting, ignored
