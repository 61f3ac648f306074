"""`cloudwatchdog rules validate|test` on the built-in rules and on user rules with mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.rules import builtin_rules_dir


def test_builtin_rules_validate_and_test(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate"]) == 0
    assert "rules valid" in capsys.readouterr().out
    assert main(["rules", "test"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and int(last.split()[0]) >= 12


def _user_rule(tmp_path: Path) -> Path:
    src = builtin_rules_dir() / "aws" / "aws-s3-bucket-public.yaml"
    rule = tmp_path / "my-public-bucket.yaml"
    rule.write_text(src.read_text().replace("id: aws-s3-bucket-public", "id: my-public-bucket"))
    shutil.copy(src.with_name("aws-s3-bucket-public.test.yaml"), tmp_path / "my-public-bucket.test.yaml")
    return rule


def test_user_rule_with_unknown_operator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = _user_rule(tmp_path)
    rule.write_text(rule.read_text().replace("equals: public", "equalz: public", 1))
    assert main(["rules", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{rule}:" in err and "equalz" in err and "Traceback" not in err


def test_user_rule_failing_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = _user_rule(tmp_path)
    # Matching on "private" inverts the rule: its own test cases must now fail.
    rule.write_text(rule.read_text().replace("equals: public", "equals: private", 1))
    assert main(["rules", "test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and out.strip().splitlines()[-1].endswith("failed") and " 0 failed" not in out
