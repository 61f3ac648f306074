"""Rule loading: every error names the file, the line and the key; all errors are collected before raising."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudwatchdog.model import Severity
from cloudwatchdog.rules import builtin_rules_dir, collect_cases, load_rule_files, load_rules
from cloudwatchdog.rules.loader import rules_dir_beside
from cloudwatchdog.rules.match import AllOf, Condition
from cloudwatchdog.yamlsource import SourceErrors

# Line numbers matter: tests below point at them.
VALID = """\
id: RULE_ID
title: Test bucket is public
severity: high
resource: aws.s3.bucket
description: A rule used by the tests.
remediation:
  summary: Turn on Block Public Access.
  cli: aws s3api put-public-access-block --bucket {resource.name}
references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html]
match:
  all:
    - { path: exposure.level, equals: public }
message: Bucket {resource.name} is public
"""

VALID_CASES = """\
cases:
  - name: public
    expect: fail
    resource: { exposure: { level: public } }
  - name: private
    expect: pass
    resource: { name: private-bucket }
"""


def write_rule(directory: Path, rule_id: str = "test-rule", text: str = VALID,
               name: str | None = None) -> Path:
    path = directory / f"{name or rule_id}.yaml"
    path.write_text(text.replace("RULE_ID", rule_id), encoding="utf-8")
    return path


def errors_of(*paths: Path) -> list[str]:
    with pytest.raises(SourceErrors) as info:
        load_rule_files(list(paths))
    return [str(e) for e in info.value.errors]


def test_valid_rule_loads(tmp_path: Path) -> None:
    [rule] = load_rule_files([write_rule(tmp_path)])
    assert rule.id == "test-rule"
    assert rule.severity is Severity.HIGH
    assert rule.resource_types == ("aws.s3.bucket",)
    assert rule.match == AllOf((Condition(("exposure", "level"), "equals", "public"),))
    assert rule.remediation_cli is not None
    assert rule.source == str(tmp_path / "test-rule.yaml")
    assert rule.applies_to("aws.s3.bucket") and not rule.applies_to("aws.s3.access_point")


def test_unknown_operator(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("equals: public", "equalz: public"))
    [error] = errors_of(path)
    assert error.startswith(
        f"{path}:12: match.all[0].equalz: unknown operator (did you mean equals? known: equals,"
    )


def test_typo_in_top_level_key(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("severity: high", "severty: high"))
    errors = errors_of(path)
    assert f"{path}:3: severty: unknown key (did you mean severity? known: id, title, severity," in errors[1]
    assert errors[0] == f"{path}:1: severity: required key is missing"


def test_typo_in_remediation_key(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("  cli:", "  cmd:"))
    [error] = errors_of(path)
    assert error == f"{path}:8: remediation.cmd: unknown key (known: summary, cli)"


def test_id_must_equal_file_name(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "test-rule", name="other-name")
    assert errors_of(path) == [f"{path}:1: id: must equal the file name 'other-name' (found 'test-rule')"]


def test_id_format(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "Test_Rule")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:1: id: String should match pattern")


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID + "title: Another title\n")
    assert errors_of(path) == [f"{path}:14: title: duplicate key (first defined on line 2)"]


def test_bad_severity(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("severity: high", "severity: urgent"))
    [error] = errors_of(path)
    assert error == f"{path}:3: severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'"


def test_bad_placeholder(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("{resource.name} is public", "{resource.nmae} is public"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:13: message: unknown placeholder {{resource.nmae}} (known: ")


def test_bad_placeholder_in_remediation_cli(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("--bucket {resource.name}", "--bucket {bucket}"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:8: remediation.cli: unknown placeholder {{bucket}}")


def test_bad_regex(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("equals: public", "matches: '(public'"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:12: match.all[0].matches: invalid regular expression: missing )")


def test_backtracking_only_regex_is_rejected_with_file_line_and_key(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("equals: public", r"matches: '^(?!private)\w+'"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:12: match.all[0].matches: invalid regular expression: invalid perl operator")
    assert "RE2, which runs in linear time: no lookarounds, no backreferences" in error


def test_wrong_value_type(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("equals: public", "in: public"))
    assert errors_of(path) == [f"{path}:12: match.all[0].in: must be a list of scalars"]


def test_unknown_path_root_and_exposure_field(tmp_path: Path) -> None:
    text = VALID.replace("    - { path: exposure.level, equals: public }",
                         "    - { path: exposur.level, equals: public }\n"
                         "    - { path: exposure.raed, equals: true }")
    path = write_rule(tmp_path, text=text)
    assert errors_of(path) == [
        f"{path}:12: match.all[0].path: unknown path root 'exposur' (did you mean exposure? "
        "known: uid, provider, account, region, type, name, tags, exposure, properties, data)",
        f"{path}:13: match.all[1].path: unknown exposure field 'raed' (did you mean read? "
        "known: level, latent, read, list, write, external_principals, evidence)",
    ]


def test_exposure_level_values_are_checked(tmp_path: Path) -> None:
    path = write_rule(tmp_path, text=VALID.replace("equals: public", "equals: publik"))
    assert errors_of(path) == [
        f"{path}:12: match.all[0].equals: 'publik' is not an exposure level "
        "(known: public, cross-account, private, unknown)"
    ]


def test_missing_match(tmp_path: Path) -> None:
    text = VALID.replace("match:\n  all:\n    - { path: exposure.level, equals: public }\n", "")
    path = write_rule(tmp_path, text=text)
    assert errors_of(path) == [f"{path}:1: match: required key is missing"]


def test_escalation_is_parsed_and_checked(tmp_path: Path) -> None:
    text = VALID + (
        "escalate:\n"
        "  - when: { path: exposure.write, equals: true }\n"
        "    severity: critical\n"
        "    reason: anyone can write to {resource.name}\n"
        "  - when: { path: exposure.read, equls: true }\n"
        "    severity: medium\n"
        "    reason: '{resource.nope}'\n"
    )
    path = write_rule(tmp_path, text=text)
    errors = errors_of(path)
    assert f"{path}:18: escalate[1].when.equls: unknown operator (did you mean equals?" in errors[0]
    reason = f"{path}:20: escalate[1].reason: unknown placeholder {{resource.nope}}"
    assert any(e.startswith(reason) for e in errors)
    assert (f"{path}:19: escalate[1].severity: must be higher than the rule severity (high); "
            "escalations only raise severity") in errors


def test_resource_types(tmp_path: Path) -> None:
    a = write_rule(tmp_path, "rule-a", text=VALID.replace("resource: aws.s3.bucket", "resource: S3 Bucket"))
    b = write_rule(tmp_path, "rule-b", text=VALID.replace("resource: aws.s3.bucket",
                                                           "resource: ['*', aws.s3.bucket]"))
    c = write_rule(tmp_path, "rule-c", text=VALID.replace("resource: aws.s3.bucket",
                                                           "resource: [aws.s3.bucket, aws.s3.access_point]"))
    d = write_rule(tmp_path, "rule-d", text=VALID.replace("resource: aws.s3.bucket", "resource: '*'"))
    assert errors_of(a, b) == [
        f"{a}:4: resource: 'S3 Bucket' is not a resource type such as aws.s3.bucket, or '*'",
        f"{b}:4: resource[0]: '*' (every type) cannot be combined with other types",
    ]
    rule_c, rule_d = load_rule_files([c, d])
    assert rule_c.resource_types == ("aws.s3.bucket", "aws.s3.access_point")
    assert rule_d.applies_to("gcp.storage.bucket")


def test_references_must_be_urls(tmp_path: Path) -> None:
    text = VALID.replace("references: [https:", "references: [see the docs, https:")
    path = write_rule(tmp_path, text=text)
    assert errors_of(path) == [f"{path}:9: references[0]: must be an http(s) URL"]


def test_not_a_mapping_and_invalid_yaml(tmp_path: Path) -> None:
    listy = write_rule(tmp_path, "listy", text="- id: listy\n")
    broken = write_rule(tmp_path, "broken", text="id: broken\ntitle: [unclosed\n")
    errors = errors_of(listy, broken)
    assert errors[0] == f"{listy}:1: a rule file is a mapping of keys (id, title, severity, ...)"
    assert errors[1].startswith(f"{broken}:3: invalid YAML")


def test_errors_from_every_file_are_collected(tmp_path: Path) -> None:
    a = write_rule(tmp_path, "rule-a", text=VALID.replace("equals: public", "equalz: public"))
    b = write_rule(tmp_path, "rule-b", text=VALID.replace("severity: high", "severity: urgent"))
    errors = errors_of(tmp_path)
    assert [e.split(": ")[0] for e in errors] == [f"{a}:12", f"{b}:3"]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = write_rule(tmp_path / "one", "same-id")
    second = write_rule(tmp_path / "two", "same-id")
    assert errors_of(tmp_path / "one", tmp_path / "two") == [
        f"{second}:1: id: duplicate rule id same-id (also in {first}:1)"
    ]


def test_the_same_file_given_twice_loads_once(tmp_path: Path) -> None:
    path = write_rule(tmp_path)
    assert len(load_rule_files([tmp_path, path])) == 1


def test_directories_are_searched_recursively_without_test_files(tmp_path: Path) -> None:
    (tmp_path / "aws" / "s3").mkdir(parents=True)
    write_rule(tmp_path / "aws" / "s3", "deep-rule")
    (tmp_path / "aws" / "s3" / "deep-rule.test.yaml").write_text(VALID_CASES)
    (tmp_path / ".hidden").mkdir()
    write_rule(tmp_path / ".hidden", "hidden-rule")
    assert [r.id for r in load_rule_files([tmp_path])] == ["deep-rule"]


def test_missing_path_and_test_file_given_as_rule(tmp_path: Path) -> None:
    test_file = tmp_path / "x.test.yaml"
    test_file.write_text(VALID_CASES)
    assert errors_of(tmp_path / "nope", test_file) == [
        f"{tmp_path / 'nope'}: no such file or directory",
        f"{test_file}: this is a rule test file; give the rule file or its directory",
    ]


# --- load_rules: built-ins, extra paths, disable ------------------------------------------------------------

BUILTIN_IDS = {
    "aws-s3-bucket-public",
    "aws-s3-bucket-latent-public",
    "aws-s3-bucket-cross-account",
    "aws-s3-account-block-public-access-off",
    "aws-s3-access-point-public",
    "aws-s3-access-point-cross-account",
    "aws-resource-unreadable",
}


def test_builtin_rules_dir_is_the_repository_rules_in_a_checkout() -> None:
    assert builtin_rules_dir() == Path(__file__).resolve().parents[2] / "rules"
    assert (builtin_rules_dir() / "aws").is_dir()


def test_load_rules_includes_builtins_and_extra_paths(tmp_path: Path) -> None:
    write_rule(tmp_path, "my-rule")
    ids = [r.id for r in load_rules([tmp_path])]
    assert set(ids) >= BUILTIN_IDS
    assert ids[-1] == "my-rule"


def test_disable(tmp_path: Path) -> None:
    everything = {r.id for r in load_rules()}
    assert everything >= BUILTIN_IDS
    ids = {r.id for r in load_rules(disable=["aws-s3-bucket-latent-public"])}
    assert ids == everything - {"aws-s3-bucket-latent-public"}


def test_disable_unknown_id_is_an_error() -> None:
    with pytest.raises(SourceErrors) as info:
        load_rules(disable=["aws-s3-bucket-publik"])
    assert [str(e) for e in info.value.errors] == [
        "rules.disable: aws-s3-bucket-publik: unknown rule id (did you mean aws-s3-bucket-public? "
        "`cloudwatchdog rules validate` lists the rules)"
    ]


def test_user_rule_cannot_reuse_a_builtin_id(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "aws-s3-bucket-public")
    with pytest.raises(SourceErrors) as info:
        load_rules([tmp_path])
    [error] = info.value.errors
    assert str(error).startswith(f"{path}:1: id: duplicate rule id aws-s3-bucket-public (also in ")


# --- Test files (<id>.test.yaml) ----------------------------------------------------------------------------


def case_errors(directory: Path) -> list[str]:
    with pytest.raises(SourceErrors) as info:
        collect_cases([directory])
    return [str(e) for e in info.value.errors]


def test_cases_load_with_defaults(tmp_path: Path) -> None:
    write_rule(tmp_path)
    (tmp_path / "test-rule.test.yaml").write_text(VALID_CASES)
    [(_, fail), (_, ok)] = collect_cases([tmp_path])
    assert fail.test_id == "test-rule::public"
    assert fail.source == f"{tmp_path / 'test-rule.test.yaml'}:2"
    assert fail.resource.type == "aws.s3.bucket"
    assert fail.resource.provider == "aws"
    assert fail.resource.account == "123456789012"
    assert fail.resource.exposure.level == "public"
    assert ok.resource.name == "private-bucket"
    assert ok.resource.exposure.level == "private"


def test_missing_test_file(tmp_path: Path) -> None:
    path = write_rule(tmp_path)
    assert case_errors(tmp_path) == [
        f"{path}: no test file: write test-rule.test.yaml beside the rule, "
        "with at least one fail and one pass case"
    ]


def test_cases_need_a_fail_and_a_pass(tmp_path: Path) -> None:
    write_rule(tmp_path)
    test_file = tmp_path / "test-rule.test.yaml"
    test_file.write_text("cases:\n  - name: public\n    expect: fail\n"
                         "    resource: {exposure: {level: public}}\n")
    assert case_errors(tmp_path) == [
        f"{test_file}:1: cases: needs at least one case with expect: pass "
        "(a rule is tested by seeing it fire and not fire)"
    ]


def test_case_resource_is_validated(tmp_path: Path) -> None:
    write_rule(tmp_path)
    test_file = tmp_path / "test-rule.test.yaml"
    test_file.write_text(VALID_CASES + (
        "  - name: typo\n"
        "    expect: pass\n"
        "    resource:\n"
        "      nme: x\n"
        "      exposure: { level: open, read: 'yes' }\n"
        "    severity: high\n"
    ))
    assert case_errors(tmp_path) == [
        f"{test_file}:11: cases[2].resource.nme: unknown key",
        f"{test_file}:12: cases[2].resource.exposure.level: "
        "Input should be 'public', 'cross-account', 'private' or 'unknown'",
        f"{test_file}:12: cases[2].resource.exposure.read: Input should be a valid boolean",
    ]


def test_case_checks(tmp_path: Path) -> None:
    write_rule(tmp_path)
    test_file = tmp_path / "test-rule.test.yaml"
    test_file.write_text(VALID_CASES + (
        "  - name: private\n"
        "    expect: pass\n"
        "    severity: high\n"
        "    resource: {}\n"
        "  - name: wrong severity\n"
        "    expect: fail\n"
        "    severity: critical\n"
        "    resource: {exposure: {level: public}}\n"
    ))
    assert case_errors(tmp_path) == [
        f"{test_file}:8: cases[2].name: duplicate case name 'private'",
        f"{test_file}:10: cases[2].severity: only fail cases have a finding to check",
        f"{test_file}:14: cases[3].severity: the rule has no escalations, so its severity is always high",
    ]


def test_any_type_rule_cases_need_a_type(tmp_path: Path) -> None:
    write_rule(tmp_path, text=VALID.replace("resource: aws.s3.bucket", "resource: '*'"))
    test_file = tmp_path / "test-rule.test.yaml"
    test_file.write_text(VALID_CASES)
    errors = case_errors(tmp_path)
    assert errors == [
        f"{test_file}:4: cases[0].resource: type is required: the rule applies to every resource type",
        f"{test_file}:7: cases[1].resource: type is required: the rule applies to every resource type",
    ]


def test_test_file_without_rule(tmp_path: Path) -> None:
    write_rule(tmp_path)
    (tmp_path / "test-rule.test.yaml").write_text(VALID_CASES)
    orphan = tmp_path / "gone.test.yaml"
    orphan.write_text(VALID_CASES)
    assert case_errors(tmp_path) == [f"{orphan}: test file without a rule (gone.yaml)"]


def test_rules_dir_in_an_installed_wheel(tmp_path: Path) -> None:
    module = tmp_path / "site-packages" / "cloudwatchdog" / "rules" / "loader.py"
    module.parent.mkdir(parents=True)
    (tmp_path / "site-packages" / "rules").mkdir()  # somebody else's directory: must not be picked
    # Without a packaged copy the checkout layout is assumed; with one, the packaged copy wins.
    assert rules_dir_beside(module) == tmp_path / "site-packages" / "rules"
    packaged = tmp_path / "site-packages" / "cloudwatchdog" / "_builtin_rules"
    packaged.mkdir()
    assert rules_dir_beside(module) == packaged


def test_shipped_rules_parse_to_the_same_documents_with_libyaml() -> None:
    """The shipped rules are parsed by libyaml (trusted, faster start-up): the same values and the same key lines as
    the pure-Python parser that user rule files go through."""
    from cloudwatchdog.yamlsource import load_yaml_file

    files = sorted(builtin_rules_dir().rglob("*.yaml"))
    assert len(files) > 20
    for f in files:
        plain, fast = load_yaml_file(f), load_yaml_file(f, trusted=True)
        assert (fast.data, fast.lines) == (plain.data, plain.lines), f


def test_user_rule_files_keep_the_bounded_parser(tmp_path: Path) -> None:
    """A user rule file nested past the limit is a located error, whatever parses the shipped rules."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(SourceErrors) as exc:
        load_rules([deep])
    assert "nested deeper than 100 levels" in str(exc.value)
