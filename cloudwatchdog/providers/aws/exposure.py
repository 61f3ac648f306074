"""Effective exposure of an S3 bucket or access point (shared/EXPOSURE.md, "AWS S3").

A bucket is public through its policy (unless RestrictPublicBuckets) or through a bucket/object ACL grant
to AllUsers or AuthenticatedUsers (unless IgnorePublicAcls, or ACLs disabled by BucketOwnerEnforced). Block
Public Access combines by OR over the account and bucket level. A verdict that needs an unreadable setting
is unknown; unreadable object ACLs only where one could take effect (not under IgnorePublicAcls, disabled ACLs,
or a Deny in the bucket policy that removes every untrusted path to the objects).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cloudwatchdog.model import NO_CAPABILITIES, Capabilities, Evidence, Exposure, ReadError
from cloudwatchdog.providers.aws.model import (
    ALL_USERS_URI,
    AUTHENTICATED_USERS_URI,
    BUCKET_OWNER_ENFORCED,
    LOG_DELIVERY_URI,
    Acl,
    GranteeType,
    NotRead,
    PublicAccessBlock,
    S3AccessPoint,
    S3Bucket,
)
from cloudwatchdog.providers.aws.policy.analysis import PolicyAnalysis, analyze_policy
from cloudwatchdog.providers.aws.policy.document import MALFORMED_POLICY, PolicyDocument
from cloudwatchdog.providers.verdict import Route
from cloudwatchdog.providers.verdict import VerdictReport as _Report
from cloudwatchdog.providers.verdict import verdict as _verdict

# How one route to public access stands: it makes the resource public, is neutralised by a guardrail (latent),
# does not exist, or cannot be told because a setting it needs is unreadable.

_PUBLIC_GROUPS = {
    ALL_USERS_URI: "AllUsers (anyone)",
    AUTHENTICATED_USERS_URI: "AuthenticatedUsers (any AWS account)",
}
_BUCKET_PERMISSIONS = {
    "READ": Capabilities(list=True),
    "WRITE": Capabilities(write=True),
    "READ_ACP": NO_CAPABILITIES,
    "WRITE_ACP": Capabilities(write=True),
    "FULL_CONTROL": Capabilities(list=True, write=True),
}
_OBJECT_PERMISSIONS = {
    "READ": Capabilities(read=True),
    "READ_ACP": NO_CAPABILITIES,
    "WRITE_ACP": Capabilities(write=True),  # may rewrite the object's ACL: a change of access
    "FULL_CONTROL": Capabilities(read=True, write=True),
}


# --- Block Public Access ------------------------------------------------------------------------------------

# A level not read (NotRead) is not on: when no other level has the flag on, the flag is unknown. (Reads are left
# out only where they cannot matter: the account level has every flag on, or there is nothing to block.)
_Levels = Sequence[tuple[str, PublicAccessBlock | ReadError | NotRead | None]]


@dataclass(frozen=True)
class _Guardrail:
    """One Block Public Access flag combined over levels: on (naming the levels), off, or unknown."""

    name: str
    on: bool | None
    levels: tuple[str, ...]

    def describe(self) -> str:
        if self.on:
            return f"{self.name} is on at the {' and '.join(self.levels)} level"
        if self.on is None:
            return f"{self.name} could not be read at every level"
        return f"{self.name} is off at every level ({', '.join(self.levels)})"


def _guardrail(levels: _Levels, name: str, flag: Callable[[PublicAccessBlock], bool]) -> _Guardrail:
    on = tuple(level for level, pab in levels if isinstance(pab, PublicAccessBlock) and flag(pab))
    if on:
        return _Guardrail(name, True, on)
    if any(isinstance(pab, ReadError | NotRead) for _, pab in levels):
        return _Guardrail(name, None, ())
    return _Guardrail(name, False, tuple(level for level, _ in levels))


def _restrict(levels: _Levels) -> _Guardrail:
    return _guardrail(levels, "RestrictPublicBuckets", lambda pab: pab.restrict_public_buckets)


def _ignore_acls(levels: _Levels) -> _Guardrail:
    return _guardrail(levels, "IgnorePublicAcls", lambda pab: pab.ignore_public_acls)


def _block_new(
    levels: _Levels, name: str, flag: Callable[[PublicAccessBlock], bool], what: str
) -> list[Evidence]:
    """BlockPublicAcls/BlockPublicPolicy only refuse new public grants: say so when they are on."""
    rail = _guardrail(levels, name, flag)
    if not rail.on:
        return []
    return [
        Evidence("block-public-access", f"{rail.describe()}: it only refuses new {what}; existing ones stay")
    ]


# --- Policy route -------------------------------------------------------------------------------------------


_Analysis = PolicyAnalysis | ReadError | None


def _analyse(
    policy: PolicyDocument | ReadError | None,
    *,
    account: str,
    resource: Literal["bucket", "access-point"],
    trusted_orgs: frozenset[str] = frozenset(),
) -> _Analysis:
    """Analyse a policy document. None: no policy; a ReadError (unreadable or unparsable): cannot tell."""
    if policy is None or isinstance(policy, ReadError):
        return policy
    return analyze_policy(policy, account_id=account, resource=resource, trusted_orgs=trusted_orgs)


def _policy_route(
    analysis: _Analysis,
    restrict: _Guardrail,
    report: _Report,
    *,
    source: str,
    ignored_principals: frozenset[str] = frozenset(),
) -> None:
    name = source.replace("-", " ")
    if analysis is None:
        report.note(source, f"no {name}")
        report.route("policy", "none", NO_CAPABILITIES)
        return
    if isinstance(analysis, ReadError):
        if analysis.code == MALFORMED_POLICY:
            report.add(source, f"{name} could not be parsed: {analysis.message}")
        else:
            report.read_error(analysis)
        report.route("policy", "unknown", NO_CAPABILITIES)
        report.external_unknown = True
        return
    report.evidence.extend(analysis.evidence)
    external = [p for p in analysis.external_principals if p not in ignored_principals]
    if not analysis.public:
        report.route("policy", "none", NO_CAPABILITIES)
        report.grant_external(external, analysis.external_access)
        return
    _public_policy(analysis, external, restrict, report, name)


def _public_policy(
    analysis: PolicyAnalysis, external: Sequence[str], restrict: _Guardrail, report: _Report, name: str
) -> None:
    if restrict.on:
        cut = f"; it also cuts the policy's cross-account access ({', '.join(external)})" if external else ""
        report.add(
            "block-public-access",
            f"{restrict.describe()}: the public {name} is neutralised (latent){cut}",
        )
        report.route("policy", "latent", analysis.public_access)
        return
    if restrict.on is None:
        report.add(
            "block-public-access", f"{restrict.describe()}: cannot tell a public {name} from a latent one"
        )
        report.route("policy", "unknown", analysis.public_access)
        return
    report.add("block-public-access", f"{restrict.describe()}: the public {name} is in force")
    report.route("policy", "public", analysis.public_access)
    report.grant_external(external, analysis.external_access)


# --- ACL route ----------------------------------------------------------------------------------------------


@dataclass
class _AclGrants:
    public: list[tuple[str, Capabilities]] = field(default_factory=list)  # (evidence detail, access)
    external: list[tuple[str, str, Capabilities]] = field(default_factory=list)  # (principal, detail, access)
    unreadable: bool = False  # the bucket ACL, or an object ACL that could take effect, could not be read
    objects_unreadable: list[ReadError] = field(default_factory=list)  # sampled object ACLs that could not be read


def _grantee_name(grantee_type: GranteeType, grantee: str) -> str:
    if grantee_type == GranteeType.GROUP:
        return _PUBLIC_GROUPS.get(grantee, grantee.rsplit("/", 1)[-1])
    if grantee_type == GranteeType.EMAIL:
        return f"email grantee {grantee}"
    return f"canonical user {grantee}"


def _collect_grants(
    acl: Acl, where: str, owner: str, table: dict[str, Capabilities], out: _AclGrants, *, objects: bool
) -> list[str]:
    """Sort one ACL's grants into public and external ones; return notes on the rest."""
    notes: list[str] = []
    for grant in acl.grants:
        access = table.get(grant.permission, NO_CAPABILITIES)
        text = f"{where} grants {grant.permission} to {_grantee_name(grant.grantee_type, grant.grantee)}"
        if objects and access.read:
            text += ": some objects are readable"
        if grant.grantee_type == GranteeType.GROUP:
            if grant.grantee in _PUBLIC_GROUPS:
                out.public.append((text, access))
            elif grant.grantee == LOG_DELIVERY_URI:
                notes.append(f"{text} (S3 server access logging; not public)")
            else:
                notes.append(f"{text} (unknown group; not counted as public)")
        elif grant.grantee_type == GranteeType.EMAIL:
            out.external.append((f"email:{grant.grantee}", f"{text} (another account)", access))
        elif grant.grantee != owner:
            out.external.append((f"canonical:{grant.grantee}", f"{text} (another account)", access))
    return notes


def _acl_grants(bucket: S3Bucket, report: _Report) -> _AclGrants:
    out = _AclGrants()
    owner = bucket.acl.owner_id if isinstance(bucket.acl, Acl) else None
    if isinstance(bucket.acl, ReadError):
        report.read_error(bucket.acl)
        out.unreadable = True
    elif isinstance(bucket.acl, Acl):  # (NotRead: ACLs disabled, the collector did not ask; ``moot``)
        for note in _collect_grants(
            bucket.acl, "bucket ACL", bucket.acl.owner_id, _BUCKET_PERMISSIONS, out, objects=False
        ):
            report.note("bucket-acl", note)
    for sample in bucket.object_acls:
        if isinstance(sample.acl, ReadError):
            report.read_error(sample.acl)
            out.objects_unreadable.append(sample.acl)
            continue
        where = f'object ACL of "{sample.key}"'
        notes = _collect_grants(
            sample.acl, where, owner or sample.acl.owner_id, _OBJECT_PERMISSIONS, out, objects=True
        )
        for note in notes:
            report.note("object-acl", note)
    return out


def _objects_shut(analysis: _Analysis, ignore: _Guardrail, disabled: bool | None) -> str | None:
    """Why no object ACL can take effect, if none can: then an object ACL that could not be read does not
    matter. (A sampled ACL could also name another account; the sample never covers every object anyway.)"""
    if disabled:
        return "ACLs are disabled (Object Ownership is BucketOwnerEnforced)"
    if ignore.on:
        return ignore.describe()
    if isinstance(analysis, PolicyAnalysis) and analysis.objects_closed:
        return "a Deny in the bucket policy removes every untrusted path to the objects"
    return None


def _object_acls_unread(grants: _AclGrants, why: str | None, report: _Report) -> None:
    """Unreadable object ACLs make the ACL route unknown, unless no object ACL can take effect."""
    if not grants.objects_unreadable:
        return
    if why is None:
        grants.unreadable = True
        return
    count = len(grants.objects_unreadable)
    report.add("object-acl", f"{count} sampled object ACL(s) could not be read, but no object ACL can take "
                             f"effect: {why}")


def _acls_disabled(ownership: str | ReadError | None, report: _Report) -> bool | None:
    """BucketOwnerEnforced disables ACLs; None when the setting is unreadable."""
    if isinstance(ownership, ReadError):
        report.read_error(ownership)
        return None
    return ownership == BUCKET_OWNER_ENFORCED


def _acl_route(grants: _AclGrants, disabled: bool | None, ignore: _Guardrail, report: _Report) -> None:
    for detail in [d for d, _ in grants.public] + [d for _, d, _ in grants.external]:
        report.add("bucket-acl" if detail.startswith("bucket") else "object-acl", detail)
    if not (grants.public or grants.external or grants.unreadable):
        report.note("bucket-acl", "no ACL grant to AllUsers, AuthenticatedUsers or another account")
    access = NO_CAPABILITIES
    for _, granted in grants.public:
        access = access | granted
    if disabled:
        route: Route = "latent" if grants.public else "none"
        if grants.public or grants.external:
            latent = " (latent)" if grants.public else ""
            detail = "Object Ownership is BucketOwnerEnforced: ACLs are disabled, ACL grants have no effect"
            report.add("object-ownership", detail + latent)
    elif not grants.public:
        # With ACLs in force, an unreadable ACL may hide a public grant.
        route = "unknown" if grants.unreadable else "none"
    elif ignore.on:
        report.add(
            "block-public-access", f"{ignore.describe()}: the public ACL grants are neutralised (latent)"
        )
        route = "latent"
    elif disabled is None or ignore.on is None:
        route = "unknown"
        report.add("block-public-access", "cannot tell whether the public ACL grants are in force")
    else:
        report.add("block-public-access", f"{ignore.describe()}: the public ACL grants are in force")
        route = "public"
    report.route("acl", route, access)
    _acl_external(grants, disabled, report)


def _acl_external(grants: _AclGrants, disabled: bool | None, report: _Report) -> None:
    if disabled:
        return
    if grants.unreadable or (grants.external and disabled is None):
        report.external_unknown = True
    for principal, _, access in grants.external:
        if disabled is False:
            report.grant_external([principal], access)


# --- Verdicts -----------------------------------------------------------------------------------------------


def _policy_status(bucket: S3Bucket, analysis: _Analysis, report: _Report) -> None:
    """Record AWS's own IsPublic answer when it disagrees with ours, or when we could not parse the policy; it never
    decides the verdict."""
    status = bucket.policy_status_public
    if isinstance(status, ReadError):
        report.read_error(status)
        return
    if status is None:
        return
    theirs = (f"GetBucketPolicyStatus says the policy is {'public' if status else 'not public'} "
              f"(IsPublic={str(status).lower()})")
    if isinstance(analysis, ReadError):
        if analysis.code == MALFORMED_POLICY:  # AWS read the policy we could not: its answer is evidence
            report.add("aws-policy-status", f"{theirs}; our analysis could not judge the policy")
        return
    ours = analysis.public if isinstance(analysis, PolicyAnalysis) else False
    if status != ours:
        report.add("aws-policy-status", f"{theirs}, but our analysis finds it {'public' if ours else 'not public'}")


def bucket_exposure(bucket: S3Bucket) -> Exposure:
    """The effective exposure of one bucket, with its evidence."""
    report = _Report()
    levels = (("account", bucket.account_pab), ("bucket", bucket.bucket_pab))
    analysis = _analyse(bucket.policy, account=bucket.account, resource="bucket", trusted_orgs=bucket.trusted_orgs)
    owner = frozenset({f"canonical:{bucket.acl.owner_id}"}) if isinstance(bucket.acl, Acl) else frozenset()
    _policy_route(analysis, _restrict(levels), report, source="bucket-policy", ignored_principals=owner)
    report.notes.extend(
        _block_new(levels, "BlockPublicPolicy", lambda pab: pab.block_public_policy, "public policies")
    )
    grants = _acl_grants(bucket, report)
    disabled = _acls_disabled(bucket.object_ownership, report)
    ignore = _ignore_acls(levels)
    _object_acls_unread(grants, _objects_shut(analysis, ignore, disabled), report)
    _acl_route(grants, disabled, ignore, report)
    report.notes.extend(
        _block_new(levels, "BlockPublicAcls", lambda pab: pab.block_public_acls, "public ACLs")
    )
    _pab_errors(levels, report)
    _policy_status(bucket, analysis, report)
    for error in bucket.other_errors:
        report.read_error(error)
    return _verdict(report, incomplete=bool(bucket.other_errors))


def _pab_errors(levels: _Levels, report: _Report) -> None:
    for level, pab in levels:
        if isinstance(pab, ReadError):
            report.read_error(pab)
            if "unknown" not in report.routes.values() and "public" not in report.routes.values():
                report.note(
                    "block-public-access",
                    f"{level}-level settings unreadable, but nothing here depends on them",
                )


def bucket_grants_public(bucket: S3Bucket) -> bool | None:
    """Would the bucket be public with every guardrail (Block Public Access, Object Ownership) off?
    None when the policy or an ACL needed to tell is unreadable."""
    report = _Report()
    analysis = _analyse(bucket.policy, account=bucket.account, resource="bucket", trusted_orgs=bucket.trusted_orgs)
    grants = _acl_grants(bucket, report)
    # Guardrails are off here, but a Deny in the policy is not a guardrail: it still closes the objects.
    closed = isinstance(analysis, PolicyAnalysis) and analysis.objects_closed
    _object_acls_unread(grants, "closed by the bucket policy" if closed else None, report)
    if (isinstance(analysis, PolicyAnalysis) and analysis.public) or grants.public:
        return True
    if isinstance(analysis, ReadError) or grants.unreadable:
        return None
    return False


def access_point_exposure(ap: S3AccessPoint) -> Exposure:
    """The exposure of one access point: its own policy, under the combined Block Public Access settings."""
    report = _Report()
    origin = ap.network_origin
    if isinstance(origin, ReadError):
        report.read_error(origin)
        return _verdict(report, incomplete=True)
    if origin.upper() == "VPC":
        report.add(
            "access-point",
            f"network origin is VPC ({ap.vpc_id or 'unknown VPC'}): never reachable from the internet",
        )
        return _verdict(report)
    report.note("access-point", f"network origin is {origin}: reachable from the internet")
    levels = [("account", ap.account_pab), ("access point", ap.pab)]
    if isinstance(ap.bucket_pab, PublicAccessBlock | ReadError):
        levels.append(("bucket", ap.bucket_pab))
    analysis = _analyse(ap.policy, account=ap.account, resource="access-point", trusted_orgs=ap.trusted_orgs)
    _policy_route(analysis, _restrict(levels), report, source="access-point-policy")
    _pab_errors(levels, report)
    return _verdict(report)
