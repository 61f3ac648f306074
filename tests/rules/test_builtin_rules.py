"""The built-in rule corpus: every rule's test cases (one generic test, sqlfluff-style) and a corpus-wide lint
(Sigma / semgrep-rules: a rule whose words are wrong is as broken as one that matches wrongly)."""

from __future__ import annotations

import pytest

from cloudwatchdog.rules import (
    builtin_rules_dir,
    collect_cases,
    lint_rules,
    load_rules,
    run_case,
    run_rule_tests,
)
from cloudwatchdog.rules.engine import evaluate_rule
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.rules.testing import RuleCase

CASES = collect_cases([builtin_rules_dir()])
RULES = load_rules()

# DESIGN.md resource types, plus the per-account resource the AWS collector emits.
KNOWN_TYPES = {
    "aws.account",
    "aws.s3.bucket",
    "aws.s3.access_point",
    "aws.ec2.snapshot",
    "aws.ec2.image",
    "aws.rds.snapshot",
    "gcp.storage.bucket",
    "azure.storage.account",
    "azure.storage.container",
}


@pytest.mark.parametrize(("rule", "case"), CASES, ids=[case.test_id for _, case in CASES])
def test_rule_case(rule: Rule, case: RuleCase) -> None:
    result = run_case(rule, case)
    assert result.passed, f"{result.source}: {result.error}"


def test_every_builtin_rule_has_cases() -> None:
    assert {rule.id for rule, _ in CASES} == {r.id for r in RULES}
    assert len(RULES) >= 6


def test_run_rule_tests_reports_every_case() -> None:
    results = run_rule_tests()
    assert len(results) == len(CASES)
    assert all(r.passed for r in results), [r.describe() for r in results if not r.passed]


def test_lint() -> None:
    assert [str(e) for e in lint_rules(RULES)] == []


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_metadata(rule: Rule) -> None:
    assert rule.title[0].isupper() and not rule.title.endswith(".")
    assert rule.references and all(url.startswith("https://") for url in rule.references)
    assert rule.remediation_cli is not None
    assert rule.description.endswith(".")
    assert all(t == "*" or t in KNOWN_TYPES for t in rule.resource_types)
    assert rule.path.parent.name == rule.id.split("-")[0]  # rules/<provider>/<id>.yaml


FAIL_CASES = [(rule, case) for rule, case in CASES if case.expect == "fail"]


@pytest.mark.parametrize(("rule", "case"), FAIL_CASES, ids=[case.test_id for _, case in FAIL_CASES])
def test_message_renders_fully_for_fail_case(rule: Rule, case: RuleCase) -> None:
    """Every placeholder of the message and remediation has a value for every failing resource, so no finding
    says "(none)" where it should name something."""
    doc = case.resource.to_dict()
    assert rule.message.missing(doc) == []
    assert rule.remediation_summary.missing(doc) == []
    assert rule.remediation_cli is not None and rule.remediation_cli.missing(doc) == []
    finding = evaluate_rule(rule, case.resource)
    assert finding is not None
    assert case.resource.name in finding.message
    assert "{" not in finding.message and "}" not in finding.message
    assert "  " not in finding.message and "\n" not in finding.message.strip()


def test_public_access_block_rules_carry_the_cis_control() -> None:
    by_id = {r.id: r for r in RULES}
    for rule_id in ("aws-s3-bucket-public", "aws-s3-account-block-public-access-off"):
        assert {"CIS AWS Foundations v3.0.0 2.1.4", "CIS AWS Foundations v1.4.0 2.1.5"} <= set(
            by_id[rule_id].compliance
        )


def test_rules_do_not_overlap_on_one_bucket() -> None:
    """Each exposure state of a bucket is reported by exactly one of the bucket verdict rules."""
    verdict_rules = {"aws-s3-bucket-public", "aws-s3-bucket-latent-public", "aws-s3-bucket-cross-account",
                     "aws-resource-unreadable"}
    for rule, case in FAIL_CASES:
        if case.resource.type != "aws.s3.bucket" or rule.id not in verdict_rules:
            continue
        fired = {r.id for r in RULES if r.id in verdict_rules and evaluate_rule(r, case.resource) is not None}
        exposure = case.resource.exposure
        expected = {rule.id}
        if exposure.latent and exposure.level != "public":
            expected.add("aws-s3-bucket-latent-public")
        if exposure.level == "cross-account":
            expected.add("aws-s3-bucket-cross-account")
        if exposure.level == "unknown":
            expected.add("aws-resource-unreadable")
        assert fired == expected, case.test_id
