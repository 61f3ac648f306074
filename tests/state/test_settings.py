"""`state:` and `suppressions:` in the config: valid forms, and mistakes named by file, line and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.state.suppressions import from_config
from cloudwatchdog.yamlsource import SourceErrors


def test_valid_state_and_suppressions(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, (
        "state:\n  url: postgresql+psycopg://w@db/cw\n"
        "suppressions:\n"
        "  - {rule: aws-s3-bucket-public, resource: 'arn:aws:s3:::site-*', reason: ' site ', owner: web,"
        " expires: 2027-01-31}\n"
        "  - {fingerprint: 0123456789abcdef0123, reason: r, owner: o, expires: 2027-02-01}\n")))
    assert cfg.state.url == "postgresql+psycopg://w@db/cw"
    [a, b] = from_config(cfg.suppressions)
    assert (a.rule, a.resource, a.reason, a.expires, a.label) == (
        "aws-s3-bucket-public", "arn:aws:s3:::site-*", "site", date(2027, 1, 31), "suppressions[0]")
    assert (b.fingerprint, b.source, b.label) == ("0123456789abcdef0123", "config", "suppressions[1]")


def test_default_state_url() -> None:
    assert load_config(None).state.url == "sqlite:///cloudwatchdog.db"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(("text", "message"), [
    ("state:\n  url: cloudwatchdog.db\n", ":2: state.url: must be a database URL"),
    ("suppressions:\n  - {rule: x, reason: r, owner: o, expires: 2027-01-01}\n",
     ":2: suppressions[0]: give a fingerprint, or both rule and resource"),
    ("suppressions:\n  - {fingerprint: 0123456789abcdef0123, rule: x, resource: y, reason: r, owner: o,"
     " expires: 2027-01-01}\n", "give either fingerprint, or rule and resource, not both"),
    ("suppressions:\n  - {fingerprint: 0123456789abcdef0123, reason: r, owner: o}\n",
     ":2: suppressions[0].expires: required key is missing"),
    ("suppressions:\n  - {fingerprint: 0123456789abcdef0123, owner: o, expires: 2027-01-01}\n",
     ":2: suppressions[0].reason: required key is missing"),
    ("suppressions:\n  - fingerprint: 0123456789abcdef0123\n    reason: r\n    owner: '  '\n"
     "    expires: 2027-01-01\n", ":4: suppressions[0].owner: must not be blank"),
    ("suppressions:\n  - {fingerprint: ABC, reason: r, owner: o, expires: 2027-01-01}\n",
     "suppressions[0].fingerprint: String should match pattern"),
    ("suppressions:\n  - {fingerprint: 0123456789abcdef0123, reason: r, owner: o, expires: someday}\n",
     "suppressions[0].expires"),
])
def test_mistakes_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SourceErrors) as err:
        load_config(_write(tmp_path, text))
    assert any(message in str(e) for e in err.value.errors), err.value.errors
