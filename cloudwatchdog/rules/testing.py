"""Rule test cases (``<rule-id>.test.yaml`` beside each rule) and the corpus lint.

Test cases are data, run by one generic runner (sqlfluff-style): the CLI ``cloudwatchdog rules test`` prints
the results, and the test suite parametrises over them. A test file::

    cases:
      - name: anyone can read objects through the bucket policy
        expect: fail                 # fail: the rule reports the resource; pass: it does not
        severity: critical           # optional, fail cases only: the expected severity after escalation
        message_contains: "read"     # optional, fail cases only
        resource:                    # Resource.to_dict() shape; omitted keys get defaults
          name: public-assets
          exposure: { level: public, read: true, evidence: [ { source: bucket-policy, detail: "..." } ] }
          properties: { public_settings: true }

Defaults: ``type`` the rule's first resource type (required for ``resource: "*"`` rules), ``provider`` the
first part of the type, account ``123456789012``, region ``us-east-1``, name ``example``, a uid built from
them, exposure ``private`` with no capabilities, no tags, no properties.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from cloudwatchdog.model import (
    DataClass,
    DataClassCount,
    DataSample,
    DataStatus,
    Evidence,
    Exposure,
    Level,
    Resource,
    Severity,
)
from cloudwatchdog.rules.engine import evaluate_rule
from cloudwatchdog.rules.loader import (
    ANY_TYPE,
    RULE_SUFFIX,
    TEST_SUFFIX,
    Rule,
    builtin_rules_dir,
    display_path,
    load_rule_files,
    polish,
)
from cloudwatchdog.yamlsource import (
    SourceError,
    SourceErrors,
    YamlDocument,
    load_yaml_file,
    validation_errors,
)

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_NAME = "example"


@dataclass(frozen=True)
class RuleCase:
    rule_id: str
    name: str
    expect: Literal["fail", "pass"]
    resource: Resource
    severity: Severity | None
    message_contains: str | None
    source: str  # "file:line" of the case

    @property
    def test_id(self) -> str:
        return f"{self.rule_id}::{self.name}"


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    expected: Literal["fail", "pass"]
    actual: Literal["fail", "pass", "error"]
    passed: bool
    message: str | None  # the rendered finding message, when the rule reported the resource
    severity: Severity | None  # the finding severity, when the rule reported the resource
    error: str | None  # why the case did not pass
    source: str  # "file:line" of the case

    def describe(self) -> str:
        status = "ok" if self.passed else "FAILED"
        line = f"{status}  {self.rule_id} :: {self.case}"
        return line if self.passed else f"{line}\n    {self.source}: {self.error}"


# --- The test-file schema -----------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceSpec(_Strict):
    source: str
    detail: str


class ExposureSpec(_Strict):
    level: Level = Level.PRIVATE
    latent: StrictBool = False
    read: StrictBool = False
    list: StrictBool = False
    write: StrictBool = False
    external_principals: builtins.list[str] = []  # ``list`` is a field name here
    evidence: builtins.list[EvidenceSpec] = []


class DataClassSpec(_Strict):
    class_: DataClass = Field(alias="class")
    count: int = 1
    objects: int = 1
    keys: builtins.list[str] = []
    examples: builtins.list[str] = []


class DataSpec(_Strict):
    status: DataStatus
    reason: str = ""
    objects_listed: int = 0
    objects_sampled: int = 0
    bytes_read: int = 0
    classes: builtins.list[DataClassSpec] = []


class ResourceSpec(_Strict):
    uid: str | None = None
    provider: str | None = None
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    type: str | None = None
    name: str = DEFAULT_NAME
    tags: dict[str, str] = {}
    exposure: ExposureSpec = ExposureSpec()
    properties: dict[str, Any] = {}
    data: DataSpec | None = None


class CaseSpec(_Strict):
    name: Annotated[str, Field(min_length=1)]
    expect: Literal["fail", "pass"]
    resource: ResourceSpec
    severity: Severity | None = None
    message_contains: Annotated[str, Field(min_length=1)] | None = None


class SuiteSpec(_Strict):
    cases: list[CaseSpec]


# --- Loading cases ------------------------------------------------------------------------------------------


def case_file_of(rule: Rule) -> Path:
    return rule.path.with_name(rule.id + TEST_SUFFIX)


def collect_cases(paths: Sequence[Path] = ()) -> list[tuple[Rule, RuleCase]]:
    """Every test case of the rules in ``paths`` (the built-in rules when empty). Raises ``SourceErrors`` for
    invalid rules, missing or invalid test files, and test files without a rule."""
    paths = list(paths) or [builtin_rules_dir()]
    rules = load_rule_files(paths)
    errors: list[SourceError] = []
    out: list[tuple[Rule, RuleCase]] = []
    for rule in rules:
        try:
            out.extend((rule, case) for case in load_cases(rule))
        except SourceErrors as exc:
            errors.extend(exc.errors)
    errors.extend(_orphan_test_files(paths, rules))
    if errors:
        raise SourceErrors(errors)
    return out


def load_cases(rule: Rule) -> list[RuleCase]:
    path = case_file_of(rule)
    if not path.is_file():
        raise SourceErrors([SourceError(rule.source, None, "",
                                        f"no test file: write {path.name} beside the rule, "
                                        "with at least one fail and one pass case")])
    doc = load_yaml_file(display_path(path))
    if not isinstance(doc.data, dict):
        raise SourceErrors([doc.error((), "a test file is a mapping with a cases list")])
    try:
        suite = SuiteSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise SourceErrors(sorted(polish(validation_errors(exc, doc)), key=lambda e: e.line or 0)) from None
    errors = _check_suite(suite, doc, rule)
    if errors:
        raise SourceErrors(sorted(errors, key=lambda e: e.line or 0))
    return [
        RuleCase(rule.id, c.name, c.expect, _resource(c.resource, rule), c.severity, c.message_contains,
                 f"{doc.file}:{doc.line_of(('cases', i))}")
        for i, c in enumerate(suite.cases)
    ]


def _check_suite(suite: SuiteSpec, doc: YamlDocument, rule: Rule) -> list[SourceError]:
    errors = []
    expects = {c.expect for c in suite.cases}
    for missing in ("fail", "pass"):
        if missing not in expects:
            errors.append(doc.error(("cases",), f"needs at least one case with expect: {missing} "
                                                "(a rule is tested by seeing it fire and not fire)"))
    seen: set[str] = set()
    for i, c in enumerate(suite.cases):
        if c.name in seen:
            errors.append(doc.error(("cases", i, "name"), f"duplicate case name {c.name!r}"))
        seen.add(c.name)
        if c.expect == "pass":
            for key in ("severity", "message_contains"):
                if getattr(c, key) is not None:
                    errors.append(doc.error(("cases", i, key), "only fail cases have a finding to check"))
        if c.resource.type is None and rule.resource_types == (ANY_TYPE,):
            errors.append(doc.error(("cases", i, "resource"),
                                    "type is required: the rule applies to every resource type"))
        if c.severity is not None and rule.escalate == () and c.severity != rule.severity:
            errors.append(doc.error(("cases", i, "severity"),
                                    "the rule has no escalations, so its severity is always "
                                    f"{rule.severity.value}"))
    return errors


def _orphan_test_files(paths: Sequence[Path], rules: Sequence[Rule]) -> list[SourceError]:
    tested = {case_file_of(r) for r in rules}
    out = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob(f"*{TEST_SUFFIX}")):
                if f.resolve() not in tested:
                    rule_name = f.name.removesuffix(TEST_SUFFIX) + RULE_SUFFIX
                    out.append(SourceError(display_path(f), None, "",
                                           f"test file without a rule ({rule_name})"))
    return out


def _resource(spec: ResourceSpec, rule: Rule) -> Resource:
    rtype = spec.type or rule.resource_types[0]
    provider = spec.provider or rtype.split(".")[0]
    exposure = Exposure(
        level=spec.exposure.level,
        latent=spec.exposure.latent,
        read=spec.exposure.read,
        list=spec.exposure.list,
        write=spec.exposure.write,
        external_principals=tuple(spec.exposure.external_principals),
        evidence=tuple(Evidence(e.source, e.detail) for e in spec.exposure.evidence),
    )
    return Resource(
        uid=spec.uid or f"test://{rtype}/{spec.account}/{spec.region}/{spec.name}",
        provider=provider,
        account=spec.account,
        region=spec.region,
        type=rtype,
        name=spec.name,
        exposure=exposure,
        tags=dict(spec.tags),
        properties=dict(spec.properties),
        data=_data(spec.data),
    )


def _data(spec: DataSpec | None) -> DataSample | None:
    if spec is None:
        return None
    classes = tuple(DataClassCount(c.class_, c.count, c.objects, tuple(c.keys), tuple(c.examples))
                    for c in spec.classes)
    return DataSample(spec.status, spec.reason, spec.objects_listed, spec.objects_sampled, spec.bytes_read, classes)


# --- Running ------------------------------------------------------------------------------------------------


def run_case(rule: Rule, case: RuleCase) -> CaseResult:
    def result(actual: Literal["fail", "pass", "error"], error: str | None, message: str | None = None,
               severity: Severity | None = None) -> CaseResult:
        return CaseResult(rule.id, case.name, case.expect, actual, error is None, message, severity, error,
                          case.source)

    try:
        finding = evaluate_rule(rule, case.resource)
    except Exception as exc:  # a bug in the engine must fail the case, not the whole run
        return result("error", f"evaluation raised {type(exc).__name__}: {exc}")
    if finding is None:
        return result("pass", None if case.expect == "pass" else "expected a finding, the rule did not fire")
    problems = []
    if case.expect == "pass":
        problems.append(f"expected no finding, got {finding.severity.value}: {finding.message}")
    if case.severity is not None and finding.severity != case.severity:
        problems.append(f"expected severity {case.severity.value}, got {finding.severity.value}")
    if case.message_contains is not None and case.message_contains not in finding.message:
        problems.append(f"message does not contain {case.message_contains!r}: {finding.message!r}")
    return result("fail", "; ".join(problems) or None, finding.message, finding.severity)


def run_rule_tests(paths: Sequence[Path] = ()) -> list[CaseResult]:
    """Run the test cases of the rules in ``paths`` (the built-in rules when empty). Invalid rules or test
    files raise ``SourceErrors``; a case that does not behave as expected is a result with passed=False."""
    return [run_case(rule, case) for rule, case in collect_cases(paths)]


# --- Corpus lint (Sigma / semgrep-rules lesson: test the words, not only the matches) -----------------------


def lint_rules(rules: Sequence[Rule]) -> list[SourceError]:
    """Style problems that do not stop a rule from loading but should stop it from shipping."""
    errors = []
    for rule in rules:
        doc = load_yaml_file(rule.path)

        def err(key: str, message: str, doc: YamlDocument = doc, rule: Rule = rule) -> None:
            errors.append(SourceError(rule.source, doc.line_of((key,)), key, message))

        if not rule.title[:1].isupper():
            err("title", "must start with a capital letter")
        if rule.title.endswith("."):
            err("title", "must not end with a period")
        if len(rule.title) > 100:
            err("title", "must be at most 100 characters (the description holds the detail)")
        if not rule.references:
            err("references", "at least one reference (the cloud's documentation of the setting)")
        if rule.remediation_cli is None:
            err("remediation", "needs a cli command")
        if not re.search(r"[.!?]$", rule.description.strip()):
            err("description", "must be full sentences ending with a period")
        if not rule.message.placeholders:
            err("message", "must name the resource with a placeholder such as {resource.name}")
    return errors
