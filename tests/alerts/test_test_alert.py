"""`send_test_alert(cfg, name)`: a sample alert through each channel, to real receivers, from a config file."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from support.receivers import Certificate, HttpReceiver, Reply, SmtpReceiver

from cloudwatchdog.alerts.checks import check_notifications
from cloudwatchdog.alerts.targets import UnknownTarget, configured_targets
from cloudwatchdog.alerts.test_alert import send_test_alert
from cloudwatchdog.config import load_config
from cloudwatchdog.settings.notifications import EmailTarget


def _config(tmp_path: Path, receiver: HttpReceiver, smtp: SmtpReceiver, cert: Certificate) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(f"""
notifications:
  - type: slack
    name: chat
    webhook_url: "{receiver.url('/services/T/B/slack')}"
  - type: teams
    name: ops
    webhook_url: "{receiver.url('/workflows/teams')}"
  - type: email
    name: mail
    host: 127.0.0.1
    port: {smtp.port}
    username: {smtp.username}
    password: ${{CWD_TEST_SMTP_PASSWORD}}
    from: alerts@example.com
    to: [security@example.com]
    ca_file: {cert.cert_file}
  - type: pagerduty
    name: pager
    routing_key: ${{CWD_TEST_PD_KEY}}
    events_url: "{receiver.url('/v2/enqueue')}"
  - type: webhook
    name: siem
    url: "{receiver.url('/siem')}"
    secret: ${{CWD_TEST_HMAC}}
""")
    return p


@pytest.fixture
def cfg_path(tmp_path: Path, receiver: HttpReceiver, smtp_starttls: SmtpReceiver, certificate: Certificate,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CWD_TEST_SMTP_PASSWORD", smtp_starttls.password)
    monkeypatch.setenv("CWD_TEST_PD_KEY", "PDKEY0123456789")
    monkeypatch.setenv("CWD_TEST_HMAC", "test-hmac")
    return _config(tmp_path, receiver, smtp_starttls, certificate)


def test_each_channel(cfg_path: Path, receiver: HttpReceiver, smtp_starttls: SmtpReceiver) -> None:
    cfg = load_config(cfg_path)
    assert check_notifications(cfg) == []
    for name in ("chat", "ops", "pager", "siem"):
        result = send_test_alert(cfg, name)
        assert result.ok, (name, result.error)
    paths = [r.path for r in receiver.requests]
    assert paths == ["/services/T/B/slack", "/workflows/teams", "/v2/enqueue", "/v2/enqueue", "/siem"]
    slack, teams, trigger, resolve, siem = (r.json() for r in receiver.requests)
    assert slack["blocks"][0]["text"]["text"].startswith("[TEST] ")
    assert teams["attachments"][0]["content"]["body"][0]["inlines"][0]["text"].startswith("[TEST] ")
    # PagerDuty: a trigger at severity info, then its resolve, so no incident stays open.
    assert trigger["event_action"] == "trigger" and trigger["payload"]["severity"] == "info"
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]
    assert trigger["routing_key"] == "PDKEY0123456789"
    assert siem["event"] == "finding.new" and siem["test"] is True
    raw = receiver.requests[4]
    assert raw.headers["x-cloudwatchdog-signature"] == \
        "sha256=" + hmac.new(b"test-hmac", raw.body, hashlib.sha256).hexdigest()

    result = send_test_alert(cfg, "mail")
    assert result.ok, result.error
    (mail,) = smtp_starttls.mails
    assert mail.tls and mail.authenticated_as == "alerts"
    msg = mail.message()
    assert str(msg["Subject"]).startswith("[TEST] ")
    assert "This is a test alert" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_failure_is_reported(cfg_path: Path, receiver: HttpReceiver) -> None:
    receiver.reply_with(Reply(404, b"no_service"))
    result = send_test_alert(load_config(cfg_path), "chat")
    assert not result.ok and not result.retryable and result.status == 404
    assert result.describe().startswith("failed (permanent): HTTP 404")


def test_pagerduty_resolve_failure_is_reported(cfg_path: Path, receiver: HttpReceiver) -> None:
    receiver.reply_with(Reply(202, b"{}"), Reply(500, b"oops"))
    result = send_test_alert(load_config(cfg_path), "pager")
    assert not result.ok and result.retryable and "resolve failed" in (result.error or "")


def test_unknown_target(cfg_path: Path) -> None:
    with pytest.raises(UnknownTarget, match=r"no notification target named 'slack' \(targets: chat, ops, mail, "):
        send_test_alert(load_config(cfg_path), "slack")


def test_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "conf"
    (conf / "tpl").mkdir(parents=True)
    (conf / "tpl" / "title.txt.j2").write_text("custom {{ event.finding.title }}")
    (conf / "ca.pem").write_text("x")
    p = conf / "config.yaml"
    p.write_text("notifications:\n  - {type: email, name: m, host: h, from: a@b.example, to: [c@d.example],"
                 " templates_dir: tpl, ca_file: ca.pem}\n")
    monkeypatch.chdir(tmp_path)
    (target,) = configured_targets(load_config(p))
    assert target.templates_dir == str(conf / "tpl")
    assert isinstance(target, EmailTarget) and target.ca_file == str(conf / "ca.pem")


def test_check_notifications_locates_problems(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "email.txt.j2").write_text("{% for %}")
    p = tmp_path / "config.yaml"
    p.write_text("notifications:\n"
                 "  - type: slack\n    name: a\n    webhook_url: https://h.example/x\n    templates_dir: nowhere\n"
                 "  - type: email\n    name: b\n    host: h\n    from: a@b.example\n    to: [c@d.example]\n"
                 "    templates_dir: tpl\n    ca_file: missing.pem\n")
    errors = [str(e) for e in check_notifications(load_config(p))]
    assert errors[0] == f"{p}:5: notifications[0].templates_dir: not a directory: {tmp_path / 'nowhere'}"
    assert errors[1].startswith(f"{p}:11: notifications[1].templates_dir: ") and "email.txt.j2:1" in errors[1]
    assert errors[2] == f"{p}:12: notifications[1].ca_file: no such file: {tmp_path / 'missing.pem'}"
    assert len(errors) == 3
