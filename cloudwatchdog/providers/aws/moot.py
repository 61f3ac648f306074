"""Pure: which per-bucket reads the bucket's other answers make moot, so that the collector does not send them and
the normalizer can check, from the same raw answers, that leaving them out was right.

- The bucket-level Block Public Access (``NOTHING_TO_BLOCK``): its four flags only ever act on a public grant. Under
  ``nothing_to_block`` there is none to act on: no bucket policy (the answer was NoSuchBucketPolicy) and no ACL
  grant to AllUsers or AuthenticatedUsers (the bucket ACL and every sampled object ACL read, or ACLs disabled by
  BucketOwnerEnforced). An answer that could not be read or understood keeps the read. An access point on the
  bucket keeps it too (its verdict combines the bucket level); the collector reads it once the access points are
  listed.
- The bucket ACL (``ACLS_DISABLED``): under Object Ownership BucketOwnerEnforced, ACLs are disabled and grant nothing,
  and AWS answers every read of the bucket ACL with full control for the bucket owner (it refuses to disable ACLs on
  a bucket whose ACL grants anyone else). Its one other use is the owner's canonical id, which only a bucket policy
  naming a ``CanonicalUser`` principal needs: such a policy, or one we cannot parse, keeps the read.
- AWS's own policy status (``POLICY_FOUND_PUBLIC``): a second opinion that never decides the verdict. It is asked
  where it can disagree usefully: when our analysis finds the policy not public (AWS may see a public route we
  missed) or cannot judge it. A policy our analysis finds public is public whatever AWS says.

Imports no SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cloudwatchdog.providers.aws.model import ALL_USERS_URI, AUTHENTICATED_USERS_URI, BUCKET_OWNER_ENFORCED
from cloudwatchdog.providers.aws.parse import ShapeError, parse_acl, parse_ownership, parse_policy
from cloudwatchdog.providers.aws.policy.analysis import analyze_policy
from cloudwatchdog.providers.aws.policy.document import PolicyError

NOTHING_TO_BLOCK = "not read: no bucket policy and no public ACL grant for it to act on"
ACLS_DISABLED = "not read: Object Ownership is BucketOwnerEnforced, so ACLs are disabled and grant nothing"
POLICY_FOUND_PUBLIC = "not asked: our analysis finds the policy public, AWS's answer could not change that"
_PUBLIC_GROUPS = frozenset({ALL_USERS_URI, AUTHENTICATED_USERS_URI})


def _acl_private(result: Any) -> bool:
    """An ACL read and understood, granting nothing to AllUsers or AuthenticatedUsers."""
    if not isinstance(result, Mapping) or "ok" not in result:
        return False
    try:
        acl = parse_acl(result["ok"])
    except ShapeError:
        return False
    return not any(grant.grantee in _PUBLIC_GROUPS for grant in acl.grants)


def acls_disabled(result: Any) -> bool | None:
    """Object Ownership BucketOwnerEnforced (ACLs disabled): True; ACLs in force: False; unknown: None."""
    if not isinstance(result, Mapping):
        return None
    if "absent" in result:
        return False  # no ownership controls: ACLs are in force
    if "ok" not in result:
        return None
    try:
        return parse_ownership(result["ok"]) == BUCKET_OWNER_ENFORCED
    except ShapeError:
        return None


def acl_moot(calls: Mapping[str, Any]) -> bool:
    """True when the bucket ACL cannot change the verdict nor its evidence (see the module's text): ACLs disabled by
    BucketOwnerEnforced, and no bucket policy, or one that names no ``CanonicalUser`` principal."""
    if acls_disabled(calls.get("GetBucketOwnershipControls")) is not True:
        return False
    policy = calls.get("GetBucketPolicy")
    if not isinstance(policy, Mapping):
        return False
    if "absent" in policy:
        return True
    if "ok" not in policy:
        return False
    try:
        document = parse_policy(policy["ok"])
    except (ShapeError, PolicyError):
        return False
    except Exception:  # (a bug on a hostile policy: read the ACL, and leave the failure to the normalizer)
        return False
    return not any(p.kind == "canonical" for statement in document.statements for p in statement.principals)


def nothing_to_block(calls: Mapping[str, Any], object_acls: Iterable[Any]) -> bool:
    """True when no Block Public Access flag could change this bucket's verdict (see the module's text)."""
    policy = calls.get("GetBucketPolicy")
    if not isinstance(policy, Mapping) or "absent" not in policy:
        return False
    disabled = acls_disabled(calls.get("GetBucketOwnershipControls"))
    if disabled is None:
        return False
    if disabled:
        return True  # ACL grants have no effect at all; their evidence does not depend on the flags
    if not _acl_private(calls.get("GetBucketAcl")):
        return False
    listing = calls.get("ListObjectsV2")
    if listing is not None and not (isinstance(listing, Mapping) and "ok" in listing):
        return False
    return all(isinstance(s, Mapping) and _acl_private(s.get("GetObjectAcl")) for s in object_acls)


def policy_found_public(policy: Any, account: str, trusted_orgs: frozenset[str]) -> bool:
    """The GetBucketPolicy answer holds a policy our analysis finds public (so AWS's policy status is moot)."""
    if not isinstance(policy, Mapping) or "ok" not in policy:
        return False
    try:
        document = parse_policy(policy["ok"])
        return analyze_policy(document, account_id=account, resource="bucket", trusted_orgs=trusted_orgs).public
    except (ShapeError, PolicyError):
        return False
    except Exception:  # (a bug on a hostile policy: ask AWS, and leave the failure to the normalizer's analysis)
        return False


__all__ = [
    "ACLS_DISABLED", "NOTHING_TO_BLOCK", "POLICY_FOUND_PUBLIC", "acl_moot", "acls_disabled", "nothing_to_block",
    "policy_found_public",
]
