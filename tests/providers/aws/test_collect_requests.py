"""Fewer requests, same answers: what the account-wide listings tell (bucket regions, tags) is not asked again per
bucket, and every resource, verdict, piece of evidence and finding stays what the per-bucket reads give.

Against a real moto server; requests are counted per operation with a botocore ``before-send`` handler on the
session the collector's clients come from. The reference scan reads every bucket the old way: the listings step
is replaced by one that lists nothing, so every bucket asks GetBucketLocation and GetBucketTagging.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo.seed_aws import seed_demo_estate
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.aws import collect, collect_bucket
from cloudwatchdog.providers.aws.collect import collect_aws, scan_account
from cloudwatchdog.providers.aws.exposure import bucket_exposure
from cloudwatchdog.providers.aws.listings import TagListings, bucket_of_arn, listed_regions, skipped_bucket_pab
from cloudwatchdog.providers.aws.model import ACCOUNT_DECIDES, NotRead, PublicAccessBlock
from cloudwatchdog.providers.aws.normalize import normalize_account
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan
from tests.conftest import OTHER_ACCOUNT


def _counting(session: Any) -> Counter[str]:
    ops: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        ops[event_name.split(".", 2)[2]] += 1

    session.register("before-send", count)
    return ops


def _per_bucket_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect, "_list_regions_and_tags", lambda reader, cfg, snapshot: {})


def _picture(cfg: Config) -> tuple[list[Any], list[Any]]:
    result = run_scan(cfg, load_rules())
    return (sorted((r.to_dict() for r in result.resources), key=lambda r: r["uid"]),
            sorted((f.to_dict() for f in result.findings), key=lambda f: f["id"]))


def test_listings_change_no_resource_verdict_evidence_or_finding(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = seed_demo_estate(moto.endpoint)
    cfg = Config(providers=Providers(aws=estate.aws_provider()))
    resources, findings = _picture(cfg)
    with monkeypatch.context() as m:
        _per_bucket_reads(m)
        old_resources, old_findings = _picture(cfg)
    assert len(resources) > 30 and any(r["tags"] for r in resources) and findings
    assert {r["region"] for r in resources if r["type"] == "aws.s3.bucket"} >= {"us-east-1", "eu-west-1"}
    assert resources == old_resources
    assert findings == old_findings


def _seed(moto: MotoServer) -> Any:
    session = account_core(moto.endpoint)
    east = emulator_client(session, "s3", moto.endpoint)
    for i in range(6):
        east.create_bucket(Bucket=f"east-{i}")
    east.put_bucket_tagging(Bucket="east-1", Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    east.put_bucket_tagging(Bucket="east-2", Tagging={"TagSet": [{"Key": "gone", "Value": "soon"}]})
    east.delete_bucket_tagging(Bucket="east-2")  # tagged once: the tagging API must not bring it back
    west = emulator_client(session, "s3", moto.endpoint, region="eu-west-1")
    west.create_bucket(Bucket="west-0", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    west.put_bucket_tagging(Bucket="west-0", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    west.create_bucket(Bucket="west-1", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    south = emulator_client(session, "s3", moto.endpoint, region="ap-south-1")
    south.create_bucket(Bucket="south-0", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    return session


def _provider(moto: MotoServer, **kwargs: Any) -> AwsProvider:
    return AwsProvider(endpoint_url=moto.endpoint, max_attempts=2, sharing=False, object_acl_sample=0, **kwargs)


def test_regions_and_tags_come_from_the_listings(moto: MotoServer) -> None:
    session = _seed(moto)
    ops = _counting(session)
    snapshot = scan_account(session, _provider(moto, regions=["us-east-1", "eu-west-1"]), account_id=DEFAULT_ACCOUNT)
    inv = normalize_account(snapshot)
    assert inv.errors == ()
    got = {b.name: (b.region, b.tags) for b in inv.buckets}
    assert got == {
        **{f"east-{i}": ("us-east-1", {"team": "data"} if i == 1 else {}) for i in range(6)},
        "west-0": ("eu-west-1", {"env": "prod"}),
        "west-1": ("eu-west-1", {}),
        "south-0": ("ap-south-1", {}),  # region: GetBucketLocation (not a configured region)
    }
    # 9 buckets: 3 listings of buckets (all, us-east-1, eu-west-1), 2 tag listings (the regions holding buckets
    # the listings placed); GetBucketLocation and GetBucketTagging only for south-0, which no listing placed (its
    # region's tags were not listed, and a bucket a listing does not name is "no tags" only in a listed region).
    assert ops["ListBuckets"] == 3 and ops["GetResources"] == 2
    assert ops["GetBucketLocation"] == 1
    assert ops["GetBucketTagging"] == 1
    assert ops["GetBucketAcl"] == ops["GetBucketPolicy"] == 9
    assert ops["GetPublicAccessBlock"] == 1  # the account's: no bucket has a policy or public ACL to block (moot)
    assert [b["name"] for b in snapshot["buckets"] if "GetBucketLocation" in b["calls"]] == ["south-0"]
    assert [b["name"] for b in snapshot["buckets"] if "GetBucketTagging" in b["calls"]] == ["south-0"]


def test_a_failed_tag_listing_costs_the_per_bucket_reads_back(moto: MotoServer) -> None:
    session = _seed(moto)

    def deny(**_: Any) -> Any:  # in-process: moto does not enforce IAM by default
        http = AWSResponse("https://injected.invalid/", 400, {}, None)  # type: ignore[arg-type]
        return http, {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
                      "ResponseMetadata": {"HTTPStatusCode": 400}}

    session.register("before-call.resource-groups-tagging-api.GetResources", deny)
    ops = _counting(session)
    inv = normalize_account(scan_account(session, _provider(moto, regions=["us-east-1"]), account_id=DEFAULT_ACCOUNT))
    assert inv.errors == ()  # nothing lost: every bucket's tags were read one by one
    assert {b.name: b.tags for b in inv.buckets}["east-1"] == {"team": "data"}
    assert {b.name: b.tags for b in inv.buckets}["west-0"] == {"env": "prod"}
    assert ops["GetBucketTagging"] == 9


def test_a_server_that_cuts_the_listing_loses_no_bucket(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    session = _seed(moto)
    monkeypatch.setattr(collect, "LIST_PAGE", 4)  # moto returns the first MaxBuckets and no ContinuationToken
    snapshot = scan_account(session, _provider(moto, regions=["us-east-1"]), account_id=DEFAULT_ACCOUNT)
    assert len(snapshot["buckets"]) == 9
    assert normalize_account(snapshot).errors == ()


def test_listings_are_read_back_only_where_they_are_whole() -> None:
    snapshot = {
        "calls": {"ListBuckets": {"ok": {"Buckets": [{"Name": "a", "BucketRegion": "eu-west-1"}, {"Name": "b"}]}}},
        "bucket_region_listings": {"us-east-1": {"ok": {"Buckets": [{"Name": "b"}]}},
                                   "eu-west-2": {"error": {"code": "AccessDenied"}}},
        "tag_listings": {"us-east-1": {"ok": {"ResourceTagMappingList": [
                             {"ResourceARN": "arn:aws:s3:::a", "Tags": [{"Key": "k", "Value": "v"}]},
                             {"ResourceARN": "arn:aws:s3:::a/object", "Tags": []}]}},
                         "eu-west-1": {"error": {"code": "Throttling"}}},
    }
    assert listed_regions(snapshot) == {"a": "eu-west-1", "b": "us-east-1"}
    tags = TagListings(snapshot)
    assert tags.answers("a", "eu-west-1")  # named by a listing, whichever region it came from
    assert tags.tagging_result("a") == {"ok": {"TagSet": [{"Key": "k", "Value": "v"}]}}
    assert tags.answers("b", "us-east-1") and tags.tagging_result("b") == {"absent": "NoSuchTagSet"}
    assert not tags.answers("c", "eu-west-1")  # its region's listing failed: never "no tags"
    assert not tags.answers("c", None)
    assert bucket_of_arn("arn:aws-cn:s3:::x") == "x" and bucket_of_arn("arn:aws:s3:us-east-1:1:accesspoint/x") is None


def test_region_listings_that_disagree_place_nothing() -> None:
    """A server that ignores the BucketRegion filter names every bucket in every listing, or says another region in
    the entry: such a bucket is not placed by the listings (GetBucketLocation reads it), never put in a wrong region
    (whose whole tag listing would then say "no tags")."""
    snapshot = {
        "calls": {"ListBuckets": {"ok": {"Buckets": [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]}}},
        "bucket_region_listings": {
            "eu-west-1": {"ok": {"Buckets": [{"Name": "a"}, {"Name": "b", "BucketRegion": "us-east-1"},
                                             {"Name": "c"}]}},
            "us-east-1": {"ok": {"Buckets": [{"Name": "a"}]}}},
    }
    assert listed_regions(snapshot) == {"c": "eu-west-1"}


def test_accounts_are_read_side_by_side_in_their_order(moto: MotoServer) -> None:
    for account in (DEFAULT_ACCOUNT, OTHER_ACCOUNT):
        emulator_client(account_core(moto.endpoint, account), "s3", moto.endpoint).create_bucket(
            Bucket=f"b-{account}")
    both_started = threading.Barrier(2, timeout=20)  # breaks (the account fails) unless both run at once

    def progress(label: str, advance: int) -> None:
        if advance == 0:
            both_started.wait()

    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", sharing=False, max_accounts=2,
                      accounts=[AwsAccount(id=DEFAULT_ACCOUNT),
                                AwsAccount(id=OTHER_ACCOUNT, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit")])
    snapshots = collect_aws(cfg, progress=progress)
    assert [(s["account"], s["status"], [b["name"] for b in s["buckets"]]) for s in snapshots] == [
        (DEFAULT_ACCOUNT, "ok", [f"b-{DEFAULT_ACCOUNT}"]), (OTHER_ACCOUNT, "ok", [f"b-{OTHER_ACCOUNT}"])]


def _seed_account_pab_on(moto: MotoServer) -> Any:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    owner = None
    for name in ("policy-public", "acl-public", "object-public", "pab-partial", "pab-all", "enforced", "plain"):
        s3.create_bucket(Bucket=name)
        owner = s3.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    s3.put_bucket_policy(Bucket="policy-public", Policy=PUBLIC_POLICY.replace("NAME", "policy-public"))
    s3.put_bucket_acl(Bucket="acl-public", ACL="public-read")
    s3.put_object(Bucket="object-public", Key="a.csv", Body=b"x", ACL="public-read")
    s3.put_public_access_block(Bucket="pab-partial", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket="pab-partial", Policy=PUBLIC_POLICY.replace("NAME", "pab-partial"))
    s3.put_public_access_block(Bucket="pab-all", PublicAccessBlockConfiguration=dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True))
    s3.put_bucket_acl(Bucket="pab-all", ACL="public-read-write")
    s3.put_bucket_ownership_controls(Bucket="enforced", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert owner
    emulator_client(session, "s3control", moto.endpoint).put_public_access_block(
        AccountId=DEFAULT_ACCOUNT, PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True))
    return session


PUBLIC_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
                 '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::NAME/*"}]}')


def _levels_named(value: Any) -> Any:
    """Evidence as the reference words it, with the bucket level (not read) no longer named beside the account's."""
    if isinstance(value, dict):
        return {k: _levels_named(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_levels_named(v) for v in value]
    return value.replace(" at the account and bucket level", " at the account level") if isinstance(value, str) \
        else value


def test_all_account_flags_on_the_bucket_level_is_not_read_and_nothing_is_judged_otherwise(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_account_pab_on(moto)
    cfg = Config(providers=Providers(aws=AwsProvider(
        endpoint_url=moto.endpoint, credential="emulator", sharing=False, regions=["us-east-1"])))
    result = run_scan(cfg, load_rules())
    with monkeypatch.context() as m:
        m.setattr(collect, "_fully_on", lambda result: False)  # the reference: every bucket-level PAB read
        m.setattr(collect_bucket, "nothing_to_block", lambda calls, object_acls: False)
        reference = run_scan(cfg, load_rules())
    (raw,) = result.raw
    assert [b["calls"]["GetPublicAccessBlock"] for b in raw["buckets"]] == [{"skipped": ACCOUNT_DECIDES}] * 7
    (raw_reference,) = reference.raw
    assert all("ok" in b["calls"]["GetPublicAccessBlock"] or "absent" in b["calls"]["GetPublicAccessBlock"]
               for b in raw_reference["buckets"])

    new = {r.name: r.to_dict() for r in result.resources}
    old = {r.name: r.to_dict() for r in reference.resources}
    assert new.keys() == old.keys() and len(new) == 8  # 7 buckets and the account
    assert old["pab-all"]["properties"]["public_access_block"]["bucket"]["ignore_public_acls"] is True
    for name, resource in new.items():
        expected = _levels_named(old[name])
        if resource["type"] == "aws.s3.bucket":
            pab = resource["properties"]["public_access_block"]
            assert pab["bucket"] == {"not_read": ACCOUNT_DECIDES}  # never an invented value
            assert pab["effective"] == expected["properties"]["public_access_block"]["effective"]
            expected["properties"]["public_access_block"]["bucket"] = pab["bucket"]
        assert resource == expected, name  # verdict, latency, access, principals, evidence: all as before
    assert new["policy-public"]["exposure"]["latent"] is True and new["pab-all"]["exposure"]["latent"] is True
    assert [_levels_named(f.to_dict()) for f in reference.findings] == [f.to_dict() for f in result.findings]
    assert result.findings


def test_a_skipped_bucket_level_is_trusted_only_under_all_four_account_flags() -> None:
    on = PublicAccessBlock(True, True, True, True)
    notes: list[ReadError] = []
    assert skipped_bucket_pab({"skipped": "why"}, on, notes.append) == NotRead("why") and notes == []
    assert skipped_bucket_pab({"ok": {}}, on, notes.append) is None  # read: normalized as usual
    for account in (PublicAccessBlock(True, True, True, False), None,
                    ReadError("GetPublicAccessBlock", "AccessDenied", "")):
        error = skipped_bucket_pab({"skipped": "why"}, account, notes.append)
        assert isinstance(error, ReadError) and error.code == "NotCollected" and notes[-1] == error
    # A snapshot that says "skipped" while the account level is off, and a public policy that the bucket level
    # could neutralise: unknown, never judged as if the bucket level were off (public) or on (latent).
    acl = {"Owner": {"ID": "o"}, "Grants": []}
    snapshot = {"account": DEFAULT_ACCOUNT, "status": "ok", "calls": {
        "GetPublicAccessBlock": {"absent": "NoSuchPublicAccessBlockConfiguration"},
        "ListBuckets": {"ok": {"Buckets": [{"Name": "b", "BucketRegion": "us-east-1"}]}}},
        "tag_listings": {"us-east-1": {"ok": {"ResourceTagMappingList": []}}},
        "buckets": [{"name": "b", "calls": {
            "GetBucketAcl": {"ok": acl}, "GetBucketPolicy": {"ok": {"Policy": PUBLIC_POLICY.replace("NAME", "b")}},
            "GetBucketPolicyStatus": {"ok": {"PolicyStatus": {"IsPublic": True}}},
            "GetPublicAccessBlock": {"skipped": "why"},
            "GetBucketOwnershipControls": {"absent": "OwnershipControlsNotFoundError"}}}]}
    (bucket,) = normalize_account(snapshot).buckets
    assert bucket.region == "us-east-1" and bucket.tags == {}
    assert bucket_exposure(bucket).level is Level.UNKNOWN
