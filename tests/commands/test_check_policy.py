"""`cloudwatchdog check-policy`: the offline pre-deploy check, through the real CLI entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cloudwatchdog.cli import main

ACCOUNT = "111122223333"


def _policy(tmp_path: Path, statements: list[dict[str, object]]) -> Path:
    p = tmp_path / "policy.json"
    p.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return p


PUBLIC = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"],
          "Resource": "arn:aws:s3:::b/*"}
PARTNER = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
           "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}
VPCE = {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}


def test_public_policy_json_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-policy", "--account-id", ACCOUNT, "--json", str(_policy(tmp_path, [PUBLIC]))])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(verdict) == {"level", "read", "list", "write", "external_principals", "evidence"}
    assert verdict["level"] == "public" and verdict["read"] and verdict["write"] and not verdict["list"]
    assert any("Public" in e["detail"] for e in verdict["evidence"])


def test_cross_account_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-policy", "--account-id", ACCOUNT, "--json", str(_policy(tmp_path, [PARTNER]))])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 0, "cross-account is below the default --fail-on public"
    assert verdict["level"] == "cross-account" and verdict["list"] and not verdict["read"]
    assert verdict["external_principals"] == ["444455556666"]
    assert main(["check-policy", "--account-id", ACCOUNT, "--fail-on", "cross-account",
                 str(_policy(tmp_path, [PARTNER]))]) == 1


def test_vpce_restricted_policy_is_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-policy", "--account-id", ACCOUNT, str(_policy(tmp_path, [VPCE]))])
    out = capsys.readouterr().out
    assert code == 0
    assert ": private" in out and "vpce-1a2b3c4d" in out


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"Statement": [PUBLIC]})))
    assert main(["check-policy", "--account-id", ACCOUNT, "--json", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["level"] == "public"


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "<stdin>: "),
    ('{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}', "Effect"),
    ("[]", "<stdin>: "),
])
def test_malformed_policy_is_a_usage_error(text: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main(["check-policy", "--account-id", ACCOUNT, "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err


def test_bad_account_id_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-policy", "--account-id", "12", str(_policy(tmp_path, [PUBLIC]))]) == 2
    assert "--account-id" in capsys.readouterr().err
    assert main(["check-policy", "--account-id", ACCOUNT, str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ('{"Statement": [' + json.dumps({**PUBLIC, "Condition": {"NumericEquals": {"s3:max-keys": 1}}})
     .replace(": 1}", ": " + "9" * 5000 + "}") + "]}", "a number 5000 characters long"),
    ('{"Statement": ' + "[" * 20_000 + "]" * 20_000 + "}", "nests deeper than"),
    ('{"Statement": [' + json.dumps(PUBLIC) + '], "Statement": [' + json.dumps(VPCE) + "]}",
     "policy has the key 'Statement' twice"),
], ids=["huge-int", "deep", "duplicate-key"])
def test_hostile_policy_is_a_usage_error_not_a_traceback(text: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main(["check-policy", "--account-id", ACCOUNT, "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: <stdin>: ") and expected in err and "Traceback" not in err
