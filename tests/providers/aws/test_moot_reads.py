"""Reads another answer makes moot (``providers.aws.moot``): the bucket-level Block Public Access of a bucket with
nothing for it to block, AWS's policy status of a policy our analysis finds public, and the bucket ACL of a bucket
whose ACLs are disabled (BucketOwnerEnforced). Fewer requests, and every verdict, principal and finding stays what
reading them gives.

Against a real moto server; the reference scan reads all three on every bucket (the decisions patched to "needed").
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.aws import collect_bucket
from cloudwatchdog.providers.aws.exposure import bucket_exposure
from cloudwatchdog.providers.aws.model import NotRead, PublicAccessBlock
from cloudwatchdog.providers.aws.moot import (
    ACLS_DISABLED,
    NOTHING_TO_BLOCK,
    POLICY_FOUND_PUBLIC,
    acl_moot,
    nothing_to_block,
    policy_found_public,
)
from cloudwatchdog.providers.aws.normalize import normalize_account
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan

PAB = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
OTHER_CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def _policy(name: str, condition: dict[str, Any] | None = None, principal: Any = "*") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                                 "Resource": f"arn:aws:s3:::{name}/*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _seed(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    names = ("plain", "pab-on-private", "policy-public", "policy-restricted", "policy-vpce", "acl-public",
             "acl-ignored", "object-public", "enforced", "cross-account", "with-ap", "enforced-public",
             "enforced-canonical", "enforced-other")
    for name in names:
        s3.create_bucket(Bucket=name)
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    owner_id = s3.get_bucket_acl(Bucket="plain")["Owner"]["ID"]
    for name, principal in (("enforced-public", "*"), ("enforced-canonical", {"CanonicalUser": owner_id}),
                            ("enforced-other", {"AWS": "arn:aws:iam::210987654321:root"})):
        # A policy naming the owner's canonical id is the owner's own grant: telling needs the ACL's owner id.
        s3.put_bucket_policy(Bucket=name, Policy=_policy(name, principal=principal))
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=enforced)
    s3.put_public_access_block(Bucket="pab-on-private", PublicAccessBlockConfiguration=dict.fromkeys(PAB, True))
    s3.put_bucket_policy(Bucket="policy-public", Policy=_policy("policy-public"))
    s3.put_bucket_policy(Bucket="policy-restricted", Policy=_policy("policy-restricted"))
    s3.put_public_access_block(Bucket="policy-restricted", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket="policy-vpce", Policy=_policy(
        "policy-vpce", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    s3.put_bucket_acl(Bucket="acl-public", ACL="public-read")
    s3.put_bucket_acl(Bucket="acl-ignored", ACL="public-read")
    s3.put_public_access_block(Bucket="acl-ignored", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_object(Bucket="object-public", Key="a.csv", Body=b"x", ACL="public-read")
    s3.put_object(Bucket="plain", Key="a.csv", Body=b"x")
    s3.put_bucket_ownership_controls(Bucket="enforced", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    owner = s3.get_bucket_acl(Bucket="cross-account")["Owner"]
    s3.put_bucket_acl(Bucket="cross-account", AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_CANONICAL}, "Permission": "READ"}]})
    # "with-ap": nothing to block on the bucket itself, but an internet access point with a public policy whose
    # verdict combines the bucket level (RestrictPublicBuckets on there: latent).
    s3.put_public_access_block(Bucket="with-ap", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    control = emulator_client(session, "s3control", moto.endpoint)
    control.create_access_point(AccountId=DEFAULT_ACCOUNT, Name="the-ap", Bucket="with-ap",
                                PublicAccessBlockConfiguration=dict.fromkeys(PAB, False))
    resource = f"arn:aws:s3:us-east-1:{DEFAULT_ACCOUNT}:accesspoint/the-ap/object/*"
    control.put_access_point_policy(AccountId=DEFAULT_ACCOUNT, Name="the-ap", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": resource}]}))


def _scan(cfg: Config) -> tuple[Any, Counter[str]]:
    """The scan, and the per-bucket requests its raw snapshot records (a skip, or the policy status of a bucket
    without a policy, was never sent)."""
    result = run_scan(cfg, load_rules())
    ops: Counter[str] = Counter()
    for bucket in result.raw[0]["buckets"]:
        calls = bucket["calls"]
        for operation, answer in calls.items():
            synthesised = operation == "GetBucketPolicyStatus" and "absent" in calls["GetBucketPolicy"]
            if "skipped" not in answer and not synthesised:
                ops[operation] += 1
    return result, ops


def _without_level_notes(exposure: dict[str, Any]) -> dict[str, Any]:
    """The exposure minus the notes that only say which Block Public Access flags are on at which level."""
    evidence = [e for e in exposure["evidence"] if e["source"] != "block-public-access"]
    return {**exposure, "evidence": evidence}


def test_moot_reads_are_not_sent_and_change_no_verdict_or_finding(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(moto)
    cfg = Config(providers=Providers(aws=AwsProvider(
        endpoint_url=moto.endpoint, credential="emulator", sharing=False, regions=["us-east-1"])))
    result, ops = _scan(cfg)
    with monkeypatch.context() as m:
        m.setattr(collect_bucket, "nothing_to_block", lambda calls, object_acls: False)
        m.setattr(collect_bucket, "policy_found_public", lambda policy, account, trusted: False)
        m.setattr(collect_bucket, "acl_moot", lambda calls: False)
        reference, reference_ops = _scan(cfg)

    (raw,) = result.raw
    pab = {b["name"]: b["calls"]["GetPublicAccessBlock"] for b in raw["buckets"]}
    assert sorted(n for n, r in pab.items() if r == {"skipped": NOTHING_TO_BLOCK}) == [
        "cross-account", "enforced", "pab-on-private", "plain"]
    acl = {b["name"]: b["calls"]["GetBucketAcl"] for b in raw["buckets"]}
    assert sorted(n for n, r in acl.items() if r == {"skipped": ACLS_DISABLED}) == [
        "enforced", "enforced-other", "enforced-public"]  # "enforced-canonical" needs the owner's canonical id
    assert "ok" in acl["enforced-canonical"]
    assert all("ok" in r or "absent" in r for n, r in pab.items() if r != {"skipped": NOTHING_TO_BLOCK})
    status = {b["name"]: b["calls"]["GetBucketPolicyStatus"] for b in raw["buckets"]}
    assert sorted(n for n, r in status.items() if r == {"skipped": POLICY_FOUND_PUBLIC}) == [
        "enforced-public", "policy-public", "policy-restricted"]
    assert "ok" in status["policy-vpce"]  # not public by our analysis: AWS's second opinion is asked
    assert ops["GetPublicAccessBlock"] == reference_ops["GetPublicAccessBlock"] - 4 == 10
    assert ops["GetBucketPolicyStatus"] == reference_ops["GetBucketPolicyStatus"] - 3 == 3
    assert ops["GetBucketAcl"] == reference_ops["GetBucketAcl"] - 3 == 11

    new = {r.name: r.to_dict() for r in result.resources}
    old = {r.name: r.to_dict() for r in reference.resources}
    assert new.keys() == old.keys() and len(new) == 16  # 14 buckets, the access point, the account
    for name, resource in new.items():
        before = old[name]
        if resource["type"] != "aws.s3.bucket" or pab.get(name) != {"skipped": NOTHING_TO_BLOCK}:
            if name in ("policy-public", "policy-restricted", "enforced-public"):  # AWS's answer (not asked now)
                assert before["properties"]["policy_status_public"] is True
                before = {**before, "properties": {**before["properties"], "policy_status_public": None}}
            assert resource == before, name  # read as before: everything identical, evidence included
            continue
        levels = resource["properties"]["public_access_block"]
        assert levels["bucket"] == {"not_read": NOTHING_TO_BLOCK} and levels["effective"] is None
        # Only the notes on which flags are on at the bucket level (read by the reference) are gone.
        assert _without_level_notes(resource["exposure"]) == _without_level_notes(before["exposure"]), name
        assert all(e["source"] != "block-public-access" for e in resource["exposure"]["evidence"]), name
    assert old["pab-on-private"]["properties"]["public_access_block"]["bucket"]["ignore_public_acls"] is True
    assert new["cross-account"]["exposure"]["external_principals"] == [f"canonical:{OTHER_CANONICAL}"]
    assert new["the-ap"]["exposure"]["latent"] is True and new["the-ap"]["exposure"]["level"] == "private"
    assert new["plain"]["exposure"]["level"] == "private" and new["acl-ignored"]["exposure"]["latent"] is True
    assert new["enforced-public"]["exposure"]["level"] == "public"
    assert new["enforced-canonical"]["exposure"]["level"] == "private"  # the owner's own grant, told by the ACL
    assert new["enforced-other"]["exposure"]["external_principals"] == ["210987654321"]
    assert [f.to_dict() for f in result.findings] == [f.to_dict() for f in reference.findings]
    assert {f.resource_name for f in result.findings} >= {"policy-public", "acl-public", "object-public"}


ACL_PRIVATE = {"ok": {"Owner": {"ID": "o"}, "Grants": [
    {"Grantee": {"Type": "CanonicalUser", "ID": "o"}, "Permission": "FULL_CONTROL"}]}}
ACL_PUBLIC = {"ok": {"Owner": {"ID": "o"}, "Grants": [
    {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
     "Permission": "READ_ACP"}]}}
NO_POLICY = {"absent": "NoSuchBucketPolicy"}
NO_OWNERSHIP = {"absent": "OwnershipControlsNotFoundError"}
ENFORCED = {"ok": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}}
DENIED = {"error": {"operation": "X", "code": "AccessDenied", "message": ""}}


@pytest.mark.parametrize(("calls", "objects", "moot"), [
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE,
      "ListObjectsV2": {"ok": {}}}, [{"key": "k", "GetObjectAcl": ACL_PRIVATE}], True),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE}, [],
     True),  # no sample taken (object_acl_sample: 0)
    ({"GetBucketPolicy": {"ok": {"Policy": "{}"}}, "GetBucketOwnershipControls": NO_OWNERSHIP,
      "GetBucketAcl": ACL_PRIVATE}, [], False),  # any policy, even one not public
    ({"GetBucketPolicy": DENIED, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE}, [],
     False),  # a policy that could not be read
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": DENIED, "GetBucketAcl": ACL_PRIVATE}, [],
     False),  # whether ACLs are in force is unknown
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PUBLIC}, [],
     False),  # a public grant (READ_ACP counts)
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": DENIED}, [], False),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": {"ok": "junk"}}, [],
     False),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE,
      "ListObjectsV2": DENIED}, [], False),  # the sample could not be listed
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE,
      "ListObjectsV2": {"ok": {}}}, [{"key": "k", "GetObjectAcl": ACL_PUBLIC}], False),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketAcl": ACL_PRIVATE,
      "ListObjectsV2": {"ok": {}}}, [{"key": "k", "GetObjectAcl": DENIED}], False),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": ENFORCED, "GetBucketAcl": DENIED}, [], True),
    ({"GetBucketPolicy": NO_POLICY, "GetBucketOwnershipControls": ENFORCED, "GetBucketAcl": ACL_PUBLIC}, [], True),
    ({}, [], False),
])
def test_nothing_to_block_only_when_every_answer_says_so(
    calls: dict[str, Any], objects: list[Any], moot: bool
) -> None:
    assert nothing_to_block(calls, objects) is moot


def test_policy_found_public_only_for_a_policy_read_and_judged_public() -> None:
    assert policy_found_public({"ok": {"Policy": _policy("b")}}, DEFAULT_ACCOUNT, frozenset()) is True
    vpce = _policy("b", {"StringEquals": {"aws:SourceVpce": "vpce-1"}})
    assert policy_found_public({"ok": {"Policy": vpce}}, DEFAULT_ACCOUNT, frozenset()) is False
    for answer in ({"ok": {"Policy": "{not json"}}, {"ok": {}}, DENIED, NO_POLICY, None):
        assert policy_found_public(answer, DEFAULT_ACCOUNT, frozenset()) is False


def _snapshot(bucket_calls: dict[str, Any], object_acls: list[Any] | None = None) -> dict[str, Any]:
    return {"account": DEFAULT_ACCOUNT, "status": "ok", "calls": {
        "GetPublicAccessBlock": {"absent": "NoSuchPublicAccessBlockConfiguration"},
        "ListBuckets": {"ok": {"Buckets": [{"Name": "b", "BucketRegion": "us-east-1"}]}}},
        "tag_listings": {"us-east-1": {"ok": {"ResourceTagMappingList": []}}},
        "buckets": [{"name": "b", "calls": bucket_calls, "object_acls": object_acls or []}]}


def test_a_skip_the_answers_do_not_bear_out_is_unknown_never_a_value() -> None:
    # "Nothing to block", yet the ACL grants to AllUsers: IgnorePublicAcls would decide, and it was not read.
    (bucket,) = normalize_account(_snapshot({
        "GetBucketAcl": ACL_PUBLIC, "GetBucketPolicy": NO_POLICY, "GetBucketPolicyStatus": NO_POLICY,
        "GetBucketOwnershipControls": NO_OWNERSHIP, "GetPublicAccessBlock": {"skipped": NOTHING_TO_BLOCK}})).buckets
    assert isinstance(bucket.bucket_pab, ReadError) and bucket.bucket_pab.code == "NotCollected"
    assert bucket_exposure(bucket).level is Level.UNKNOWN
    # Borne out: NotRead, and the bucket is private.
    (bucket,) = normalize_account(_snapshot({
        "GetBucketAcl": ACL_PRIVATE, "GetBucketPolicy": NO_POLICY, "GetBucketPolicyStatus": NO_POLICY,
        "GetBucketOwnershipControls": NO_OWNERSHIP, "GetPublicAccessBlock": {"skipped": NOTHING_TO_BLOCK}})).buckets
    assert bucket.bucket_pab == NotRead(NOTHING_TO_BLOCK) and bucket_exposure(bucket).level is Level.PRIVATE
    # "Found public", yet the policy is not public by our analysis: AWS's answer is missing, so it is an error.
    vpce = {"ok": {"Policy": _policy("b", {"StringEquals": {"aws:SourceVpce": "vpce-1"}})}}
    inv = normalize_account(_snapshot({
        "GetBucketAcl": ACL_PRIVATE, "GetBucketPolicy": vpce, "GetBucketPolicyStatus": {"skipped": POLICY_FOUND_PUBLIC},
        "GetBucketOwnershipControls": NO_OWNERSHIP, "GetPublicAccessBlock": {"ok": {
            "PublicAccessBlockConfiguration": dict.fromkeys(PAB, False)}}}))
    (bucket,) = inv.buckets
    assert isinstance(bucket.policy_status_public, ReadError) and any("GetBucketPolicyStatus" in e for e in inv.errors)
    # Borne out: not asked (None), no error.
    public = {"ok": {"Policy": _policy("b")}}
    inv = normalize_account(_snapshot({
        "GetBucketAcl": ACL_PRIVATE, "GetBucketPolicy": public,
        "GetBucketPolicyStatus": {"skipped": POLICY_FOUND_PUBLIC}, "GetBucketOwnershipControls": NO_OWNERSHIP,
        "GetPublicAccessBlock": {"ok": {"PublicAccessBlockConfiguration": dict.fromkeys(PAB, False)}}}))
    (bucket,) = inv.buckets
    assert bucket.policy_status_public is None and inv.errors == ()
    assert bucket.bucket_pab == PublicAccessBlock() and bucket_exposure(bucket).level is Level.PUBLIC


CANONICAL_POLICY = {"ok": {"Policy": _policy("b", principal={"CanonicalUser": "o"})}}


@pytest.mark.parametrize(("calls", "moot"), [
    ({"GetBucketOwnershipControls": ENFORCED, "GetBucketPolicy": NO_POLICY}, True),
    ({"GetBucketOwnershipControls": ENFORCED, "GetBucketPolicy": {"ok": {"Policy": _policy("b")}}}, True),
    ({"GetBucketOwnershipControls": ENFORCED, "GetBucketPolicy": CANONICAL_POLICY}, False),  # needs the owner id
    ({"GetBucketOwnershipControls": ENFORCED, "GetBucketPolicy": {"ok": {"Policy": "{not json"}}}, False),
    ({"GetBucketOwnershipControls": ENFORCED, "GetBucketPolicy": DENIED}, False),
    ({"GetBucketOwnershipControls": ENFORCED}, False),
    ({"GetBucketOwnershipControls": NO_OWNERSHIP, "GetBucketPolicy": NO_POLICY}, False),  # ACLs in force
    ({"GetBucketOwnershipControls": DENIED, "GetBucketPolicy": NO_POLICY}, False),
    ({"GetBucketOwnershipControls": {"ok": "junk"}, "GetBucketPolicy": NO_POLICY}, False),
])
def test_the_bucket_acl_is_moot_only_when_acls_are_disabled_and_no_policy_needs_the_owner(
    calls: dict[str, Any], moot: bool
) -> None:
    assert acl_moot(calls) is moot


def test_an_acl_skip_the_answers_do_not_bear_out_is_unknown_never_a_value() -> None:
    skipped = {"skipped": ACLS_DISABLED}
    # Not read, yet ACLs are in force: the ACL could grant anything, so the bucket is unknown.
    inv = normalize_account(_snapshot({
        "GetBucketAcl": skipped, "GetBucketPolicy": NO_POLICY, "GetBucketPolicyStatus": NO_POLICY,
        "GetBucketOwnershipControls": NO_OWNERSHIP, "GetPublicAccessBlock": {"ok": {
            "PublicAccessBlockConfiguration": dict.fromkeys(PAB, False)}}}))
    (bucket,) = inv.buckets
    assert isinstance(bucket.acl, ReadError) and bucket.acl.code == "NotCollected"
    assert any("GetBucketAcl" in e for e in inv.errors) and bucket_exposure(bucket).level is Level.UNKNOWN
    # Not read under a policy naming a canonical user: whether that is the owner is unknown.
    inv = normalize_account(_snapshot({
        "GetBucketAcl": skipped, "GetBucketPolicy": CANONICAL_POLICY, "GetBucketPolicyStatus": {"ok": {
            "PolicyStatus": {"IsPublic": False}}},
        "GetBucketOwnershipControls": ENFORCED, "GetPublicAccessBlock": {"ok": {
            "PublicAccessBlockConfiguration": dict.fromkeys(PAB, False)}}}))
    (bucket,) = inv.buckets
    assert isinstance(bucket.acl, ReadError) and bucket.acl.code == "NotCollected"
    # Borne out: NotRead, no error, and the verdict is the policy's (ACLs grant nothing).
    inv = normalize_account(_snapshot({
        "GetBucketAcl": skipped, "GetBucketPolicy": NO_POLICY, "GetBucketPolicyStatus": NO_POLICY,
        "GetBucketOwnershipControls": ENFORCED, "GetPublicAccessBlock": {"skipped": NOTHING_TO_BLOCK}}))
    (bucket,) = inv.buckets
    assert bucket.acl == NotRead(ACLS_DISABLED) and inv.errors == ()
    assert bucket_exposure(bucket).level is Level.PRIVATE
