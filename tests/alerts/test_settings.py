"""`notifications:` settings: every mistake fails at load with file, line and key; names, defaults, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cloudwatchdog.config import load_config
from cloudwatchdog.settings.base import StrictModel
from cloudwatchdog.settings.notifications import (
    EmailTarget,
    NotificationTargets,
    PagerDutyTarget,
    SlackTarget,
    TargetBase,
    WebhookTarget,
)
from cloudwatchdog.yamlsource import SourceErrors, load_yaml_text, validation_errors


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def _errors(path: Path) -> list[str]:
    with pytest.raises(SourceErrors) as exc:
        load_config(path)
    return [str(e) for e in exc.value.errors]


class _Doc(StrictModel):
    """What Config does with `notifications:` once it uses NotificationTargets (names filled in, unique)."""

    notifications: NotificationTargets = []


def _targets(text: str) -> list[TargetBase]:
    doc = load_yaml_text(text, "c.yaml")
    return list(_Doc.model_validate(doc.data).notifications)


def _doc_errors(text: str) -> list[str]:
    doc = load_yaml_text(text, "c.yaml")
    with pytest.raises(ValidationError) as exc:
        _Doc.model_validate(doc.data)
    return [str(e) for e in validation_errors(exc.value, doc)]


# --- Located errors through load_config --------------------------------------------------------------------------


def test_slack_without_url(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: slack\n    min_severity: high\n")
    assert _errors(p) == [f"{p}:2: notifications[0].webhook_url: required key is missing"]


def test_url_that_is_not_http(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: webhook\n    url: hooks.example.com/x\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:3: notifications[0].url: ")
    assert "http(s) URL" in errs[0]


def test_bad_smtp_port(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: email\n    host: smtp.example.com\n    port: 0\n"
                         "    from: alerts@example.com\n    to: [sec@example.com]\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].port: ")
    assert "greater than or equal to 1" in errs[0]


def test_unknown_channel_type(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: slack\n    webhook_url: https://hooks.example.com/a\n"
                         "  - type: sms\n    number: '123'\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[1].type: unknown notification type 'sms'")
    assert "slack, teams, email, pagerduty, webhook" in errs[0]


def test_missing_type(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - url: https://hooks.example.com/a\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:2: notifications[0].type: required key is missing")


def test_unknown_event_name(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: webhook\n    url: https://hooks.example.com/a\n"
                         "    events: [new, closed]\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].events[1]: ")
    assert "'new', 'reopened', 'escalated' or 'resolved'" in errs[0]


def test_min_severity_typo(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: teams\n    webhook_url: https://example.com/wf\n"
                         "    min_severity: hihg\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].min_severity: ")
    assert "'critical', 'high', 'medium', 'low' or 'info'" in errs[0]


def test_unknown_key_in_a_target(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: pagerduty\n    routing_key: abc\n    routing: x\n")
    assert _errors(p) == [f"{p}:4: notifications[0].routing: unknown key"]


def test_digest_mode_only_where_a_digest_exists(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: pagerduty\n    routing_key: abc\n    mode: digest\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].mode: ")


def test_bad_digest_schedule(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: slack\n    webhook_url: https://example.com/a\n"
                         "    mode: digest\n    schedule: daily\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:5: notifications[0].schedule: ")


def test_smtp_password_never_sent_in_clear(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: email\n    host: smtp.example.com\n    starttls: false\n"
                         "    username: u\n    password: p\n    from: a@example.com\n    to: [b@example.com]\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].starttls: refusing")


def test_bad_mail_address(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: email\n    host: smtp.example.com\n"
                         "    from: a@example.com\n    to: [security-team]\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:5: notifications[0].to[0]: ")


def test_reserved_webhook_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - type: webhook\n    url: https://example.com/a\n"
                         "    headers: {X-Cloudwatchdog-Signature: forged}\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: notifications[0].headers: ")


def test_several_targets_several_errors(tmp_path: Path) -> None:
    p = _write(tmp_path, "notifications:\n  - {type: slack}\n  - {type: email, host: h, port: 99999, from: a@b.c,"
                         " to: [x@y.z]}\n  - {type: webhook, url: 'https://e.com/', min_severity: urgent}\n")
    errs = _errors(p)
    assert f"{p}:2: notifications[0].webhook_url: required key is missing" in errs
    assert any(e.startswith(f"{p}:3: notifications[1].port: ") for e in errs)
    assert any(e.startswith(f"{p}:4: notifications[2].min_severity: ") for e in errs)
    assert len(errs) == 3


def test_secrets_from_environment_are_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWD_TEST_HOOK", "https://hooks.example.com/services/T000/B000/XXXXSECRET")
    monkeypatch.setenv("CWD_TEST_HMAC", "hmac-secret-value")
    p = _write(tmp_path, "notifications:\n  - type: webhook\n    name: siem\n    url: ${CWD_TEST_HOOK}\n"
                         "    secret: ${CWD_TEST_HMAC}\n    min_severity: high\n")
    cfg = load_config(p)
    (target,) = cfg.notifications
    assert isinstance(target, WebhookTarget)
    assert target.url.get_secret_value() == "https://hooks.example.com/services/T000/B000/XXXXSECRET"
    assert target.secret is not None and target.secret.get_secret_value() == "hmac-secret-value"
    shown = repr(target) + str(target) + repr(cfg) + str(target.model_dump())
    assert "XXXXSECRET" not in shown and "hmac-secret-value" not in shown


def test_empty_secret_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWD_TEST_EMPTY", "")
    p = _write(tmp_path, "notifications:\n  - type: pagerduty\n    routing_key: ${CWD_TEST_EMPTY}\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:3: notifications[0].routing_key: ")


# --- Names, defaults ----------------------------------------------------------------------------------------------


def test_default_names_count_per_type() -> None:
    targets = _targets("""
notifications:
  - {type: slack, webhook_url: "https://a.example/1"}
  - {type: webhook, url: "https://b.example/1"}
  - {type: slack, webhook_url: "https://a.example/2", name: oncall}
  - {type: slack, webhook_url: "https://a.example/3"}
""")
    assert [t.name for t in targets] == ["slack-1", "webhook-1", "oncall", "slack-3"]


def test_duplicate_names_are_located() -> None:
    errs = _doc_errors("""notifications:
  - {type: slack, webhook_url: "https://a.example/1", name: team}
  - {type: webhook, url: "https://b.example/1", name: team}
""")
    assert errs == ["c.yaml:3: notifications[1].name: duplicate name 'team': item 0 has it too"]


def test_default_name_taken_by_an_explicit_one() -> None:
    errs = _doc_errors("""notifications:
  - {type: slack, webhook_url: "https://a.example/1", name: slack-2}
  - {type: slack, webhook_url: "https://a.example/2"}
  - {type: slack, webhook_url: "https://a.example/3"}
""")
    assert len(errs) == 1 and errs[0].startswith("c.yaml:3: notifications[1].name: the default name 'slack-2'")


def test_bad_name() -> None:
    errs = _doc_errors('notifications:\n  - {type: slack, webhook_url: "https://a.example/1", name: "my team"}\n')
    assert len(errs) == 1 and errs[0].startswith("c.yaml:2: notifications[0].name: ")


def test_event_defaults_per_channel() -> None:
    slack = SlackTarget.model_validate({"type": "slack", "webhook_url": "https://a.example/1"})
    assert slack.wanted_events == {"new", "reopened", "escalated"}
    assert slack.min_severity == "medium" and slack.mode == "immediate"
    hook = WebhookTarget.model_validate({"type": "webhook", "url": "https://a.example/1"})
    assert hook.wanted_events == {"new", "reopened", "escalated", "resolved"}
    narrowed = WebhookTarget.model_validate({"type": "webhook", "url": "https://a.example/1", "events": ["new"]})
    assert narrowed.wanted_events == {"new"}
    pd = PagerDutyTarget.model_validate({"type": "pagerduty", "routing_key": "k", "events": ["new"]})
    assert pd.wanted_events == {"new", "resolved"}, "PagerDuty always resolves"
    assert pd.events_url == "https://events.pagerduty.com/v2/enqueue"
    mail = EmailTarget.model_validate({"type": "email", "host": "h", "from": "a@b.example", "to": ["c@d.example"],
                                       "mode": "digest"})
    assert mail.port == 587 and mail.starttls and not mail.ssl and mail.digest_schedule == "0 8 * * *"
