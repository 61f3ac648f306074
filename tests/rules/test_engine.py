"""The engine: findings from rules x resources, escalation, fingerprints, determinism, disabled rules."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from cloudwatchdog.model import Evidence, Exposure, Finding, FindingState, Level, Resource, Severity
from cloudwatchdog.rules import evaluate, evaluate_rule, fingerprint, load_rule_files, load_rules
from cloudwatchdog.rules.loader import Rule

ACCOUNT = "123456789012"


def bucket(name: str, level: Level = Level.PRIVATE, **exposure: object) -> Resource:
    evidence = (Evidence("bucket-policy", f"statement 0 of {name}"),) if level is not Level.PRIVATE else ()
    return Resource(
        uid=f"arn:aws:s3:::{name}",
        provider="aws",
        account=ACCOUNT,
        region="us-east-1",
        type="aws.s3.bucket",
        name=name,
        exposure=Exposure(level, evidence=evidence, **exposure),  # type: ignore[arg-type]
        properties={"public_settings": level is Level.PUBLIC, "read_errors": []},
    )


def access_point(name: str, level: Level, write: bool = False) -> Resource:
    return Resource(
        uid=f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}",
        provider="aws",
        account=ACCOUNT,
        region="us-east-1",
        type="aws.s3.access_point",
        name=name,
        exposure=Exposure(level, write=write, evidence=(Evidence("access-point", "policy allows *"),)),
        properties={"bucket": "data-lake", "network_origin": "Internet", "vpc_id": None},
    )


def account(pab: dict[str, bool] | None, error: str | None = None) -> Resource:
    properties: dict[str, object] = {"s3_public_access_block": pab}
    if error:
        properties["s3_public_access_block_error"] = error
    return Resource(
        uid=f"aws:account:{ACCOUNT}",
        provider="aws",
        account=ACCOUNT,
        region="global",
        type="aws.account",
        name="prod",
        exposure=Exposure(Level.UNKNOWN if error else Level.PRIVATE),
        properties=properties,
    )


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def by_rule(findings: list[Finding]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f.resource_name)
    return out


def test_evaluate_several_resource_types(rules: list[Rule]) -> None:
    all_on = dict.fromkeys(
        ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"), True
    )
    resources = [
        bucket("public-read", Level.PUBLIC, read=True),
        bucket("public-list", Level.PUBLIC, list=True),
        bucket("latent", Level.PRIVATE, latent=True, read=True),
        bucket("shared", Level.CROSS_ACCOUNT, read=True,
               external_principals=("arn:aws:iam::210987654321:root",)),
        bucket("unknown", Level.UNKNOWN),
        bucket("private"),
        access_point("public-ap", Level.PUBLIC, write=True),
        access_point("vpc-ap", Level.PRIVATE),
        account(None),
        account(all_on),
    ]
    findings = evaluate(rules, resources)
    assert by_rule(findings) == {
        "aws-resource-unreadable": ["unknown"],
        "aws-s3-access-point-public": ["public-ap"],
        "aws-s3-account-block-public-access-off": ["prod"],
        "aws-s3-bucket-cross-account": ["shared"],
        "aws-s3-bucket-latent-public": ["latent"],
        "aws-s3-bucket-public": ["public-list", "public-read"],
    }
    severities = {(f.rule_id, f.resource_name): f.severity for f in findings}
    assert severities[("aws-s3-bucket-public", "public-read")] is Severity.CRITICAL
    assert severities[("aws-s3-bucket-public", "public-list")] is Severity.HIGH
    assert severities[("aws-s3-access-point-public", "public-ap")] is Severity.CRITICAL
    assert severities[("aws-s3-bucket-latent-public", "latent")] is Severity.MEDIUM


def test_finding_fields(rules: list[Rule]) -> None:
    resource = bucket("public-read", Level.PUBLIC, read=True)
    [finding] = evaluate(rules, [resource])
    assert finding.id == hashlib.sha256(b"aws-s3-bucket-public|arn:aws:s3:::public-read").hexdigest()[:20]
    assert finding.rule_id == "aws-s3-bucket-public"
    assert finding.title == "S3 bucket is public"
    assert (finding.resource_uid, finding.resource_name, finding.resource_type) == (
        resource.uid, "public-read", "aws.s3.bucket",
    )
    assert (finding.provider, finding.account, finding.region) == ("aws", ACCOUNT, "us-east-1")
    assert finding.evidence == resource.exposure.evidence
    assert finding.state is FindingState.NEW
    assert finding.first_seen is None and finding.last_seen is None
    assert "CIS AWS Foundations v3.0.0 2.1.4" in finding.compliance
    assert finding.remediation.cli is not None
    assert finding.remediation.cli.startswith("aws s3api put-public-access-block --bucket public-read ")
    assert "{" not in finding.remediation.summary
    assert finding.message.startswith("S3 bucket public-read in account 123456789012 is public")
    assert finding.message.endswith("[critical: anyone can read its objects]")


def test_fingerprint_is_stable_and_specific() -> None:
    assert fingerprint("r", "u") == fingerprint("r", "u")
    assert len(fingerprint("r", "u")) == 20
    assert fingerprint("r", "u") == hashlib.sha256(b"r|u").hexdigest()[:20]
    assert fingerprint("r", "u2") != fingerprint("r", "u")
    assert fingerprint("r2", "u") != fingerprint("r", "u")


def test_fingerprint_does_not_change_with_severity_or_message(rules: list[Rule]) -> None:
    before = evaluate(rules, [bucket("b", Level.PUBLIC, list=True)])
    after = evaluate(rules, [bucket("b", Level.PUBLIC, list=True, write=True)])
    assert [f.id for f in before] == [f.id for f in after]
    assert before[0].severity is Severity.HIGH and after[0].severity is Severity.CRITICAL


def test_order_is_deterministic(rules: list[Rule]) -> None:
    resources = [bucket(f"b{i}", Level.PUBLIC, read=True) for i in range(5)] + [bucket("u", Level.UNKNOWN)]
    forward = evaluate(rules, resources)
    backward = evaluate(list(reversed(rules)), list(reversed(resources)))
    assert forward == backward
    keys = [(f.rule_id, f.resource_uid) for f in forward]
    assert keys == sorted(keys)


def test_evaluate_is_pure(rules: list[Rule]) -> None:
    resources = [bucket("b", Level.PUBLIC, read=True), account(None)]
    assert evaluate(rules, resources) == evaluate(rules, resources)
    assert evaluate(rules, []) == []
    assert evaluate([], resources) == []


def test_disabled_rules_produce_no_findings() -> None:
    rules = load_rules(disable=["aws-s3-bucket-public"])
    findings = evaluate(rules, [bucket("b", Level.PUBLIC, read=True)])
    assert findings == []


def test_unreadable_escalates_when_public_settings_are_seen(rules: list[Rule]) -> None:
    unknown = bucket("maybe", Level.UNKNOWN)
    public_settings = dataclasses.replace(unknown, properties={"public_settings": True})
    [info] = evaluate(rules, [unknown])
    [high] = evaluate(rules, [public_settings])
    assert info.severity is Severity.INFO
    assert high.severity is Severity.HIGH
    assert "[high: the readable settings already grant public access" in high.message


def test_account_unreadable_is_not_reported_as_off(rules: list[Rule]) -> None:
    findings = evaluate(rules, [account(None, error="GetPublicAccessBlock failed: AccessDenied")])
    assert [f.rule_id for f in findings] == ["aws-resource-unreadable"]


# --- Escalation semantics, on a rule of our own -------------------------------------------------------------

ESCALATING = """\
id: escalating
title: Escalating test rule
severity: low
resource: [aws.s3.bucket, aws.s3.access_point]
description: Escalates.
remediation: { summary: "Fix {resource.name}.", cli: "fix --name {resource.name}" }
match: { path: exposure.level, in: [public, cross-account] }
escalate:
  - when: { path: exposure.read, equals: true }
    severity: medium
    reason: read
  - when: { path: exposure.write, equals: true }
    severity: critical
    reason: write by {external_principals}
  - when: { path: exposure.list, equals: true }
    severity: high
    reason: list
  - when: { path: tags.env, equals: prod }
    severity: critical
    reason: prod
message: "{resource.name}"
"""


@pytest.fixture
def escalating(tmp_path: Path) -> Rule:
    (tmp_path / "escalating.yaml").write_text(ESCALATING)
    [rule] = load_rule_files([tmp_path])
    return rule


@pytest.mark.parametrize(
    ("capabilities", "tags", "severity", "suffix"),
    [
        ({}, {}, Severity.LOW, ""),
        ({"read": True}, {}, Severity.MEDIUM, " [medium: read]"),
        ({"read": True, "list": True}, {}, Severity.HIGH, " [high: list]"),
        ({"read": True, "list": True, "write": True}, {}, Severity.CRITICAL, " [critical: write by *]"),
        ({"list": True}, {"env": "prod"}, Severity.CRITICAL, " [critical: prod]"),  # highest wins
        ({"write": True}, {"env": "prod"}, Severity.CRITICAL, " [critical: write by *]"),  # tie: first listed
    ],
)
def test_highest_matching_escalation_wins(
    escalating: Rule, capabilities: dict[str, bool], tags: dict[str, str], severity: Severity, suffix: str
) -> None:
    resource = Resource(
        uid="u", provider="aws", account=ACCOUNT, region="us-east-1", type="aws.s3.bucket", name="b",
        exposure=Exposure(Level.PUBLIC, external_principals=("*",), **capabilities),  # type: ignore[arg-type]
        tags=tags,
    )
    finding = evaluate_rule(escalating, resource)
    assert finding is not None
    assert finding.severity is severity
    assert finding.message == "b" + suffix
    assert finding.remediation.summary == "Fix b."
    assert finding.remediation.cli == "fix --name b"


def test_rule_applies_only_to_its_types(escalating: Rule) -> None:
    snapshot = Resource("u", "aws", ACCOUNT, "us-east-1", "aws.ec2.snapshot", "snap", Exposure(Level.PUBLIC))
    ap = Resource("u2", "aws", ACCOUNT, "us-east-1", "aws.s3.access_point", "ap", Exposure(Level.PUBLIC))
    assert evaluate_rule(escalating, snapshot) is None
    assert evaluate_rule(escalating, ap) is not None


def test_remediation_commands_quote_what_they_interpolate() -> None:
    """A name from the cloud pasted into a shell must stay one literal word: Azure's `$web` would expand."""
    web = Resource(
        uid="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/site/blobServices/"
            "default/containers/$web",
        provider="azure", account="s", region="westeurope", type="azure.storage.container", name="$web",
        exposure=Exposure(Level.PUBLIC, read=True, evidence=(Evidence("static-website", "on"),)),
        properties={"resource_group": "rg; rm -rf ~", "storage_account": "site", "container": "$web"},
    )
    [finding] = [f for f in evaluate(load_rules(), [web]) if f.rule_id == "azure-storage-container-public"]
    cli = finding.remediation.cli or ""
    assert "--name '$web'" in cli and "--storage-account site " in cli
    assert "--resource-group 'rg; rm -rf ~'" in cli
    # Messages are for people, not shells: unquoted.
    assert "Blob container $web in subscription s" in finding.message


def test_a_hygiene_finding_shows_its_own_evidence_not_the_exposures() -> None:
    public = Evidence("bucket-iam", "allUsers holds roles/storage.objectViewer")
    bucket_ = Resource(
        uid="//storage.googleapis.com/projects/_/buckets/velora-public", provider="gcp", account="velora-prod",
        region="EU", type="gcp.storage.bucket", name="velora-public",
        exposure=Exposure(Level.PUBLIC, read=True, evidence=(public,)),
        properties={"uniform_bucket_level_access": False, "public_settings": True,
                    "public_access_prevention": "inherited", "read_errors": []},
    )
    found = {f.rule_id: f for f in evaluate(load_rules(), [bucket_])}
    assert found["gcp-storage-bucket-public"].evidence == (public,)
    [uniform] = found["gcp-storage-uniform-access-off"].evidence
    assert uniform.source == "uniform-bucket-level-access" and "velora-public" in uniform.detail
    [pap] = found["gcp-storage-public-access-prevention-off"].evidence
    assert pap.source == "public-access-prevention" and "publicAccessPrevention is inherited" in pap.detail


def test_rule_evidence_entries_are_checked(tmp_path: Path) -> None:
    from cloudwatchdog.yamlsource import SourceErrors

    rule = tmp_path / "x-rule.yaml"
    rule.write_text("""id: x-rule
title: T
severity: low
resource: aws.s3.bucket
description: d
remediation: {summary: s}
match: {all: [{path: exposure.level, equals: public}]}
message: m
evidence:
  - {source: s, detale: "{resource.name}"}
""")
    with pytest.raises(SourceErrors, match="evidence"):
        load_rule_files([rule])
