"""Payload shapes as the platforms document them, limits, escaping of untrusted text, template overrides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from cloudwatchdog.alerts import messages
from cloudwatchdog.alerts.events import EventKind
from cloudwatchdog.alerts.registry import build_payload
from cloudwatchdog.alerts.templates import Templates, slack_escape
from cloudwatchdog.model import Severity
from cloudwatchdog.settings.notifications import (
    EmailTarget,
    PagerDutyTarget,
    SlackTarget,
    TargetBase,
    TeamsTarget,
    WebhookTarget,
)

from .samples import HOSTILE_NAME, event

SLACK = SlackTarget.model_validate({"type": "slack", "name": "s", "webhook_url": "https://hooks.example/x"})
TEAMS = TeamsTarget.model_validate({"type": "teams", "name": "t", "webhook_url": "https://wf.example/x"})
EMAIL = EmailTarget.model_validate({"type": "email", "name": "m", "host": "h", "from": "a@b.example",
                                    "to": ["c@d.example"]})
PD = PagerDutyTarget.model_validate({"type": "pagerduty", "name": "p", "routing_key": "R0UTINGKEY"})
HOOK = WebhookTarget.model_validate({"type": "webhook", "name": "w", "url": "https://siem.example/x"})

# Block types a message may hold (Slack's Block Kit reference, "blocks" available in messages).
SLACK_BLOCK_TYPES = {"header", "section", "divider", "context"}


def build(target: TargetBase, events: list[Any], digest: bool = False) -> dict[str, Any]:
    return build_payload(target, events, Templates(), digest=digest)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _slack_mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload["text"]]
    for node in _walk(payload["blocks"]):
        if node.get("type") == "mrkdwn":
            texts.append(node["text"])
    return texts


# --- Slack -----------------------------------------------------------------------------------------------------


def test_slack_block_kit_shape() -> None:
    payload = build(SLACK, [event(EventKind.ESCALATED, severity=Severity.CRITICAL, previous=Severity.HIGH)])
    assert set(payload) == {"text", "blocks"}
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    assert all(b["type"] in SLACK_BLOCK_TYPES for b in blocks)
    (section,) = [b for b in blocks if b["type"] == "section"]
    text = section["text"]["text"]
    assert section["text"]["type"] == "mrkdwn"
    assert "*Finding escalated*" in text and "*CRITICAL*" in text and "(was high)" in text
    assert "acme-public-assets" in text and "aws-s3-bucket-public" in text
    assert "[CRITICAL] Finding escalated: S3 bucket is accessible" in payload["text"]
    json.dumps(payload)  # JSON-able, for the outbox


def test_slack_escapes_markup_from_the_cloud() -> None:
    payload = build(SLACK, [event(resource_name=HOSTILE_NAME, message=f"Bucket {HOSTILE_NAME} is public")])
    for text in _slack_mrkdwn_texts(payload):
        assert "<" not in text and ">" not in text, text  # no link, mention or <!channel> can be formed
    section = next(b for b in payload["blocks"] if b["type"] == "section")["text"]["text"]
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; **bold**" in section
    # The header is plain_text (never parsed for links or mentions): the name shows as it is.
    assert "(<!channel> <https://evil.example|click> & **bold**" in payload["blocks"][0]["text"]["text"]


def test_slack_escape_is_slacks_three_characters_only() -> None:
    assert slack_escape("a & b < c > d \"e\" 'f'") == "a &amp; b &lt; c &gt; d \"e\" 'f'"


def test_slack_limits_header_section_and_block_count() -> None:
    long_title = "T" * 400
    long_message = "&" * 5000  # 25,000 characters once escaped
    events = [event(id=f"f{i:03d}", title=long_title, message=long_message) for i in range(100)]
    payload = build(SLACK, events, digest=True)
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    sections = [b for b in blocks if b["type"] == "section"]
    assert sections and all(len(b["text"]["text"]) <= 3000 for b in sections)
    # Truncation never cuts an entity in half.
    assert all(b["text"]["text"].rstrip("…").endswith(("&amp;", ";")) for b in sections)
    note = blocks[-1]
    assert note["type"] == "context"
    shown = len(sections)
    assert note["elements"][0]["text"] == f"…and {100 - shown} more changes not shown here."


def test_slack_single_event_needs_one_event() -> None:
    with pytest.raises(ValueError, match="one event"):
        build(SLACK, [event(), event(id="other")])


# --- Teams -----------------------------------------------------------------------------------------------------


def test_teams_adaptive_card_shape() -> None:
    payload = build(TEAMS, [event(severity=Severity.CRITICAL)])
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert tuple(int(x) for x in card["version"].split(".")) >= (1, 4)
    assert card["body"][0]["type"] == "RichTextBlock"
    assert card["body"][0]["inlines"][0]["color"] == "Attention"
    runs = [n["text"] for n in _walk(card["body"]) if n.get("type") == "TextRun"]
    assert any("S3 bucket is accessible" in r for r in runs)
    assert any("acme-public-assets" in r for r in runs)


def test_teams_text_from_the_cloud_is_never_markdown() -> None:
    name = HOSTILE_NAME + " {{DATE(2017-02-14T06:00:00Z, SHORT)}}"
    payload = build(TEAMS, [event(resource_name=name)])
    nodes = list(_walk(payload))
    # TextBlock (and FactSet values) render Markdown; TextRun does not. Only TextRuns carry text.
    assert not [n for n in nodes if n.get("type") in ("TextBlock", "FactSet", "Fact")]
    runs = [n["text"] for n in nodes if n.get("type") == "TextRun"]
    line = next(r for r in runs if "**bold**" in r)
    assert "[x](https://evil.example)" in line  # shown as typed, not a link
    assert "{{DATE" not in line and "{\u200b{DATE" in line  # no date-function expansion


def test_teams_resolved_is_green_and_digest_is_clamped() -> None:
    payload = build(TEAMS, [event(EventKind.RESOLVED)])
    assert payload["attachments"][0]["content"]["body"][0]["inlines"][0]["color"] == "Good"
    many = build(TEAMS, [event(id=f"f{i}") for i in range(messages.TEAMS_MAX_EVENTS + 5)], digest=True)
    body = many["attachments"][0]["content"]["body"]
    assert len([b for b in body if b["type"] == "Container"]) == messages.TEAMS_MAX_EVENTS
    assert body[-1]["inlines"][0]["text"] == "…and 5 more changes not shown here."


# --- Email -----------------------------------------------------------------------------------------------------


def test_email_parts_and_escaping() -> None:
    payload = build(EMAIL, [event(resource_name=HOSTILE_NAME, message="see <script>alert(1)</script>")])
    assert set(payload) == {"subject", "text", "html"}
    assert "\n" not in payload["subject"] and payload["subject"].startswith("[HIGH] New finding: ")
    assert "<b>hi</b>" not in payload["html"] and "&lt;b&gt;hi&lt;/b&gt;" in payload["html"]
    assert "<script>" not in payload["html"] and "&lt;script&gt;" in payload["html"]
    assert HOSTILE_NAME in payload["text"]  # plain text shows it as it is
    assert "Remove the public statement" in payload["text"] and "Remove the public statement" in payload["html"]


def test_email_subject_cannot_carry_a_header_injection() -> None:
    payload = build(EMAIL, [event(resource_name="x\r\nBcc: victim@example.com")])
    assert "\r" not in payload["subject"] and "\n" not in payload["subject"]


def test_email_digest_lists_every_event() -> None:
    events = [event(id=f"f{i}", resource_name=f"bucket-{i}") for i in range(3)]
    payload = build(EMAIL, events, digest=True)
    assert payload["subject"] == "cloudwatchdog: 3 finding changes (3 new)"
    assert all(f"bucket-{i}" in payload["text"] and f"bucket-{i}" in payload["html"] for i in range(3))


# --- PagerDuty -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "expected"), [
    (Severity.CRITICAL, "critical"), (Severity.HIGH, "error"), (Severity.MEDIUM, "warning"),
    (Severity.LOW, "info"), (Severity.INFO, "info"),
])
def test_pagerduty_severity_mapping(severity: Severity, expected: str) -> None:
    assert build(PD, [event(severity=severity)])["payload"]["severity"] == expected


def test_pagerduty_trigger_fields() -> None:
    e = event(EventKind.ESCALATED, severity=Severity.CRITICAL, previous=Severity.HIGH, title="X" * 2000)
    body = build(PD, [e])
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == e.finding.id and len(body["dedup_key"]) <= 255
    assert "routing_key" not in body, "the routing key is added at delivery, never stored"
    p = body["payload"]
    assert {"summary", "source", "severity"} <= set(p)
    assert len(p["summary"]) <= 1024
    assert p["source"] == "arn:aws:s3:::acme-public-assets"
    assert p["timestamp"] == "2026-03-01T10:00:00Z"
    assert p["custom_details"]["previous_severity"] == "high" and p["custom_details"]["event"] == "escalated"
    assert p["class"] == "aws-s3-bucket-public" and p["group"] == "123456789012"


def test_pagerduty_resolve() -> None:
    e = event(EventKind.RESOLVED)
    assert build(PD, [e]) == {"event_action": "resolve", "dedup_key": e.finding.id}


def test_pagerduty_and_webhook_have_no_digest() -> None:
    for target in (PD, HOOK):
        with pytest.raises(ValueError, match="no digest"):
            build(target, [event()], digest=True)


# --- Webhook ---------------------------------------------------------------------------------------------------


def test_webhook_body_is_the_json_output_finding() -> None:
    for kind in EventKind:
        e = event(kind)
        body = build(HOOK, [e])
        assert body["event"] == f"finding.{kind.value}"
        assert body["finding"] == e.finding.to_dict()
        assert body["at"] == e.at


# --- Templates -------------------------------------------------------------------------------------------------


def test_templates_dir_overrides_one_file(tmp_path: Path) -> None:
    (tmp_path / "title.txt.j2").write_text("ALERT {{ event.finding.rule_id }} on {{ event.finding.resource_name }}")
    t = Templates(tmp_path)
    payload = build_payload(EMAIL, [event()], t)
    assert payload["subject"] == "ALERT aws-s3-bucket-public on acme-public-assets"
    assert "Remove the public statement" in payload["text"], "the other templates stay built-in"


def test_overridden_slack_template_still_escapes(tmp_path: Path) -> None:
    (tmp_path / "slack_event.mrkdwn.j2").write_text("*{{ event.finding.resource_name }}* <https://wiki.example|wiki>")
    payload = build_payload(SLACK, [event(resource_name="<!here>")], Templates(tmp_path))
    section = payload["blocks"][1]["text"]["text"]
    assert section == "*&lt;!here&gt;* <https://wiki.example|wiki>"  # the template's own link stays a link


def test_template_typo_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "email.txt.j2").write_text("{{ event.finding.resource_nam }}")
    with pytest.raises(jinja2.UndefinedError):
        build_payload(EMAIL, [event()], Templates(tmp_path))
    (tmp_path / "email.html.j2").write_text("{% if %}")
    problems = Templates(tmp_path).check()
    assert len(problems) == 1 and "email.html.j2:1" in problems[0]
