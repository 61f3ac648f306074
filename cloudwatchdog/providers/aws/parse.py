"""Pure parsers of one AWS ``ok`` payload each (an ACL, a policy, Block Public Access, ...): the typed value, or a
``ShapeError`` on anything unexpected. Imports no SDK; used by the normalizer and by the collector's decisions on
which reads another answer makes moot (``moot``)."""

from __future__ import annotations

from typing import Any

from cloudwatchdog.providers.aws.model import Acl, Grant, GranteeType, PublicAccessBlock
from cloudwatchdog.providers.aws.policy.document import PolicyDocument
from cloudwatchdog.providers.aws.policy.document import parse_policy as parse_policy_document
from cloudwatchdog.providers.shapes import ShapeError
from cloudwatchdog.providers.shapes import as_list as _list
from cloudwatchdog.providers.shapes import as_mapping as _mapping
from cloudwatchdog.providers.shapes import as_str as _str


def parse_grant(value: Any) -> Grant:
    grant = _mapping(value, "grant")
    if "Permission" not in grant:
        raise ShapeError(f"grant without Permission: {dict(grant)!r}")
    permission = _str(grant["Permission"], "grant Permission")
    grantee = _mapping(grant.get("Grantee"), "grant Grantee")
    kind = grantee.get("Type")
    if kind == GranteeType.GROUP:
        return Grant(GranteeType.GROUP, _str(grantee.get("URI"), "group grantee URI"), permission)
    if kind == GranteeType.CANONICAL_USER:
        return Grant(
            GranteeType.CANONICAL_USER, _str(grantee.get("ID"), "canonical user grantee ID"), permission
        )
    if kind == GranteeType.EMAIL:
        return Grant(
            GranteeType.EMAIL, _str(grantee.get("EmailAddress"), "email grantee address"), permission
        )
    raise ShapeError(f"unknown grantee type {kind!r}")


def parse_acl(payload: Any) -> Acl:
    body = _mapping(payload, "ACL response")
    owner = _mapping(body.get("Owner"), "ACL Owner")
    grants = tuple(parse_grant(g) for g in _list(body.get("Grants", []), "ACL Grants"))
    return Acl(owner_id=_str(owner.get("ID"), "ACL Owner ID"), grants=grants)


def parse_policy(payload: Any) -> PolicyDocument:
    """The policy document, parsed once here; the parser's PolicyError becomes a MalformedPolicy ReadError."""
    return parse_policy_document(_str(_mapping(payload, "policy response").get("Policy"), "Policy"))


def parse_policy_status(payload: Any) -> bool:
    status = _mapping(_mapping(payload, "policy status response").get("PolicyStatus"), "PolicyStatus")
    value = status.get("IsPublic")
    if not isinstance(value, bool):
        raise ShapeError(f"PolicyStatus.IsPublic is not a boolean: {value!r}")
    return value


def parse_pab_config(value: Any) -> PublicAccessBlock:
    conf = _mapping(value, "PublicAccessBlockConfiguration")
    flags: dict[str, bool] = {}
    for key, attr in (
        ("BlockPublicAcls", "block_public_acls"),
        ("IgnorePublicAcls", "ignore_public_acls"),
        ("BlockPublicPolicy", "block_public_policy"),
        ("RestrictPublicBuckets", "restrict_public_buckets"),
    ):
        flag = conf.get(key, False)  # an omitted flag is off, as AWS treats it
        if not isinstance(flag, bool):
            raise ShapeError(f"{key} is not a boolean: {flag!r}")
        flags[attr] = flag
    return PublicAccessBlock(**flags)


def parse_pab(payload: Any) -> PublicAccessBlock:
    return parse_pab_config(
        _mapping(payload, "public access block response").get("PublicAccessBlockConfiguration")
    )


def parse_ownership(payload: Any) -> str:
    controls = _mapping(_mapping(payload, "ownership response").get("OwnershipControls"), "OwnershipControls")
    rules = _list(controls.get("Rules"), "OwnershipControls.Rules")
    if not rules:
        raise ShapeError("OwnershipControls.Rules is empty")
    return _str(_mapping(rules[0], "ownership rule").get("ObjectOwnership"), "ObjectOwnership")


def parse_tags(payload: Any) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in _list(_mapping(payload, "tagging response").get("TagSet"), "TagSet"):
        t = _mapping(tag, "tag")
        tags[_str(t.get("Key"), "tag Key")] = _str(t.get("Value"), "tag Value")
    return tags


def _listed_names(payload: Any, key: str, what: str) -> frozenset[str]:
    """The names in a listing response (ListBuckets, ListAccessPoints); every entry must carry one."""
    entries = _list(_mapping(payload, f"{what} listing response").get(key, []), key)
    return frozenset(_str(_mapping(e, f"{what} entry").get("Name"), f"{what} entry Name") for e in entries)


def parse_bucket_listing(payload: Any) -> frozenset[str]:
    return _listed_names(payload, "Buckets", "bucket")


def parse_access_point_listing(payload: Any) -> frozenset[str]:
    return _listed_names(payload, "AccessPointList", "access point")


def parse_location(payload: Any) -> str:
    constraint = _mapping(payload, "location response").get("LocationConstraint")
    if constraint in (None, ""):
        return "us-east-1"
    if constraint == "EU":
        return "eu-west-1"
    return _str(constraint, "LocationConstraint")


__all__ = [
    "ShapeError",
    "parse_access_point_listing",
    "parse_acl",
    "parse_bucket_listing",
    "parse_grant",
    "parse_location",
    "parse_ownership",
    "parse_pab",
    "parse_pab_config",
    "parse_policy",
    "parse_policy_status",
    "parse_tags",
]
