"""The daemon's logs: JSON lines off a terminal, text on one, and no secret in any record, whichever library
logged it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.logs import (
    REDACTED,
    config_secrets,
    environment_secrets,
    redact_text,
    setup_logging,
    wants_json,
)

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("text", "expected"), [
    (f"posting to {WEBHOOK} failed", "posting to https://hooks.slack.com failed"),
    ("db postgresql+psycopg://cwd:hunter2pw@db.internal:5432/cwd down",
     "db postgresql+psycopg://db.internal:5432 down"),
    ("GET http://127.0.0.1:9000/path?token=abc123 ok", "GET http://127.0.0.1:9000 ok"),
    ("login password=hunter2pw user=x", f"login password={REDACTED} user=x"),
    ('{"client_secret": "abcdefgh123"}', f'{{"client_secret": "{REDACTED}"}}'),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", f"Authorization: {REDACTED}"),
    ("header bearer eyJhbGciOiJIUzI1NiJ9.e30.abc sent", f"header bearer {REDACTED} sent"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", f"aws_secret_access_key = {REDACTED}"),
    ("bucket arn:aws:s3:::public-site is public", "bucket arn:aws:s3:::public-site is public"),
    ("scan 6f1c recorded: 3 findings", "scan 6f1c recorded: 3 findings"),
])
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_known_secrets_are_replaced_anywhere() -> None:
    assert redact_text("key is ABCDEFGH12345678 here", ["ABCDEFGH12345678"]) == f"key is {REDACTED} here"
    # Short values are not replaced everywhere: too likely to be ordinary words.
    assert redact_text("the test passed", ["test"]) == "the test passed"


def test_config_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_URL", WEBHOOK)
    monkeypatch.setenv("SMTP_PW", "smtp-password-1")
    path = tmp_path / "c.yaml"
    path.write_text("""notifications:
  - {type: slack, webhook_url: "${SLACK_URL}"}
  - {type: email, host: smtp.example.com, username: u, password: "${SMTP_PW}", from: a@example.com,
     to: [b@example.com]}
  - {type: webhook, url: "https://siem.example.com/in", secret: "hmac-secret-1",
     headers: {Authorization: "Bearer tok-123456789"}}
""")
    secrets = config_secrets(load_config(path))
    for expected in (WEBHOOK, "/services/T000/B000/XXXXsecretXXXX", "smtp-password-1", "hmac-secret-1",
                     "Bearer tok-123456789"):
        assert expected in secrets


def test_environment_secrets() -> None:
    env = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr",
           "AZURE_CLIENT_SECRET": "s3cr3t-value", "HOME": "/home/someone", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE1",
           "PAGER_TOKEN": "short"}
    assert sorted(environment_secrets(env)) == sorted(["wJalrXUtnFEMI/K7MDENG", "FwoGZXIvYXdzEJr", "s3cr3t-value"])


def test_json_lines_with_extras_and_redaction(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("auto", 0, ["smtp-password-1"], stream=out)
    logging.getLogger("cloudwatchdog.daemon").info("scan %s recorded", "abc", extra={"job": "scan", "findings": 3})
    # A library's record (httpx logs the full URL) goes through the same handler.
    logging.getLogger("cloudwatchdog.alerts").warning("POST %s failed with smtp-password-1", WEBHOOK)
    try:
        raise RuntimeError(f"cannot reach {WEBHOOK}")
    except RuntimeError:
        logging.getLogger("cloudwatchdog.daemon").exception("job failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["message"] == "scan abc recorded" and first["level"] == "info"
    assert first["logger"] == "cloudwatchdog.daemon" and first["job"] == "scan" and first["findings"] == 3
    assert first["time"].endswith("Z")
    assert lines[1]["message"] == f"POST https://hooks.slack.com failed with {REDACTED}"
    assert "RuntimeError: cannot reach https://hooks.slack.com" in lines[2]["exception"]
    assert "XXXXsecretXXXX" not in out.getvalue() and "smtp-password-1" not in out.getvalue()


def test_text_on_a_terminal(restore_logging: None) -> None:
    out = _Tty()
    setup_logging("auto", 0, stream=out)
    logging.getLogger("cloudwatchdog.daemon").info("started", extra={"job": "scan"})
    line = out.getvalue().strip()
    assert line.endswith("INFO cloudwatchdog.daemon: started [job=scan]")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_formats_and_levels(restore_logging: None) -> None:
    assert wants_json("auto", io.StringIO()) and not wants_json("auto", _Tty())
    assert wants_json("json", _Tty()) and not wants_json("text", io.StringIO())
    out = io.StringIO()
    setup_logging("json", 0, stream=out)
    logging.getLogger("cloudwatchdog.daemon").debug("hidden")
    logging.getLogger("botocore.retries").info("hidden too")
    logging.getLogger("botocore.retries").warning("shown")
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == ["shown"]
    assert len(logging.getLogger().handlers) == 1
