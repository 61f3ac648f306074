"""Channel payloads from alert events (pure apart from reading the templates).

One builder per channel, ``(events, templates, digest, test) -> payload``, named in registry.py: the JSON-able
payload that the channel's ``deliver`` sends. One event makes one message; a digest (Slack, Teams, email) makes one
message of many events. Payloads carry no secret (the PagerDuty routing key, webhook secret and URLs are added at
delivery), so an outbox may store them.

Shapes, as the platforms document them:
- Slack (incoming webhook): ``{"text": fallback, "blocks": [header, section (mrkdwn), divider, ..., context]}``;
  at most 50 blocks, header text <= 150 characters, section text <= 3000; a digest too long shows the first
  events and says how many more there are.
- Teams (workflow webhook): ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": AdaptiveCard 1.4}]}``; all text from a cloud is in
  RichTextBlock/TextRun elements, which render no Markdown.
- Email: ``{"subject", "text", "html"}`` (the multipart/alternative message is made at delivery).
- PagerDuty Events API v2: ``{"event_action": "trigger"|"resolve", "dedup_key": finding id, "payload": {summary
  <= 1024, source, severity, timestamp, component, group, class, custom_details}, "client"}``.
- Webhook: ``{"event": "finding.<kind>", "at", "finding": Finding.to_dict()}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.templates import SlackSafe, Templates, slack_escape
from cloudwatchdog.model import Severity

Payload = dict[str, Any]

SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
TEAMS_MAX_EVENTS = 40
TEAMS_TEXT_MAX = 2000
PAGERDUTY_SUMMARY_MAX = 1024
EMAIL_SUBJECT_MAX = 200

PAGERDUTY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFO: "info",
}

_TEAMS_COLOR: dict[Severity, str] = {
    Severity.CRITICAL: "Attention",
    Severity.HIGH: "Attention",
    Severity.MEDIUM: "Warning",
    Severity.LOW: "Default",
    Severity.INFO: "Default",
}

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


# --- Shared ------------------------------------------------------------------------------------------------------


def event_view(event: AlertEvent) -> dict[str, Any]:
    """What a template sees of one event: the finding as in the JSON output, plus the change."""
    return {
        "kind": event.kind.value,
        "label": event.label,
        "at": event.at,
        "previous_severity": event.previous_severity.value if event.previous_severity else None,
        "tags": dict(event.resource_tags),
        "finding": event.finding.to_dict(),
    }


def _context(events: Sequence[AlertEvent], digest: bool, test: bool) -> dict[str, Any]:
    views = [event_view(e) for e in events]
    counts: dict[str, int] = {}
    for e in events:
        counts[e.kind.value] = counts.get(e.kind.value, 0) + 1
    return {"events": views, "event": views[0], "digest": digest, "test": test, "counts": counts}


def title(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> str:
    """The one-line title (Slack header, Teams title, email subject, PagerDuty summary)."""
    return _one_line(templates.render("title.txt.j2", **_context(events, digest, test)))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _top_severity(events: Sequence[AlertEvent]) -> Severity:
    return max((e.finding.severity for e in events), key=lambda s: s.rank)


# --- Slack ---------------------------------------------------------------------------------------------------------


def _slack_truncate(text: str, limit: int) -> str:
    """Truncate escaped mrkdwn without cutting an entity (``&amp;``) in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def slack_message(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
    head = title(events, templates, digest, test)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(head, SLACK_HEADER_MAX), "emoji": False}}
    ]
    room = (SLACK_MAX_BLOCKS - 2) // 2  # header + overflow note; a section and a divider per event
    shown = events if len(events) <= room else events[: room]
    for i, event in enumerate(shown):
        text = templates.render("slack_event.mrkdwn.j2", **_context([event], digest, test)).strip()
        section = {"type": "mrkdwn", "text": _slack_truncate(text or "(empty)", SLACK_SECTION_MAX)}
        blocks.append({"type": "section", "text": section})
        if i < len(shown) - 1:
            blocks.append({"type": "divider"})
    hidden = len(events) - len(shown)
    if hidden:
        note = SlackSafe(f"…and {hidden} more change{'s' if hidden != 1 else ''} not shown here.")
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {"text": slack_escape(truncate(head, SLACK_SECTION_MAX)), "blocks": blocks}


# --- Teams ---------------------------------------------------------------------------------------------------------


def _teams_text(text: str) -> str:
    # TextRun renders no Markdown; "{{DATE(...)}}" / "{{TIME(...)}}" functions are still expanded by some hosts,
    # so a brace pair from a cloud string is broken up with a zero-width space.
    return truncate(text.replace("{{", "{\u200b{"), TEAMS_TEXT_MAX)


def _rich(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": _teams_text(text), **style}]}


def teams_message(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
    head = title(events, templates, digest, test)
    top = _top_severity(events)
    color = "Good" if all(e.kind is EventKind.RESOLVED for e in events) else _TEAMS_COLOR[top]
    body: list[dict[str, Any]] = [_rich(head, weight="Bolder", size="Large", color=color)]
    shown = events[:TEAMS_MAX_EVENTS]
    for event in shown:
        text = templates.render("teams_event.txt.j2", **_context([event], digest, test)).strip()
        lines = text.splitlines() or [" "]
        items: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            block = _rich(line, weight="Bolder") if n == 0 else _rich(line)
            if n > 0 and not lines[n - 1].strip():
                block["spacing"] = "Medium"
            elif n > 0:
                block["spacing"] = "None"
            items.append(block)
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    hidden = len(events) - len(shown)
    if hidden:
        body.append(_rich(f"…and {hidden} more change{'s' if hidden != 1 else ''} not shown here.", isSubtle=True))
    card = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "fallbackText": _teams_text(head),
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


# --- Email ---------------------------------------------------------------------------------------------------------


def email_message(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
    ctx = _context(events, digest, test)
    return {
        "subject": truncate(title(events, templates, digest, test), EMAIL_SUBJECT_MAX),
        "text": templates.render("email.txt.j2", **ctx).strip() + "\n",
        "html": templates.render("email.html.j2", **ctx).strip() + "\n",
    }


# --- PagerDuty -----------------------------------------------------------------------------------------------------


def pagerduty_event(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
    (event,) = events
    f = event.finding
    if event.kind is EventKind.RESOLVED:
        return {"event_action": "resolve", "dedup_key": f.id}
    details = {
        "event": event.kind.value,
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "previous_severity": event.previous_severity.value if event.previous_severity else None,
        "resource_uid": f.resource_uid,
        "resource_name": f.resource_name,
        "resource_type": f.resource_type,
        "provider": f.provider,
        "account": f.account,
        "region": f.region,
        "message": f.message,
        "evidence": [e.to_dict() for e in f.evidence],
        "remediation": f.remediation.to_dict(),
        "first_seen": f.first_seen,
        "finding_id": f.id,
    }
    payload: dict[str, Any] = {
        "summary": truncate(title(events, templates, digest, test), PAGERDUTY_SUMMARY_MAX),
        "source": f.resource_uid or f.resource_name,
        "severity": PAGERDUTY_SEVERITY[f.severity],
        "component": f.resource_type,
        "group": f.account,
        "class": f.rule_id,
        "custom_details": details,
    }
    if _ISO_TIME.match(event.at):
        payload["timestamp"] = event.at
    return {"event_action": "trigger", "dedup_key": f.id, "payload": payload, "client": "cloudwatchdog"}


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


# --- Webhook -------------------------------------------------------------------------------------------------------


def webhook_body(events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
    (event,) = events
    body: Payload = {"event": event.webhook_event, "at": event.at, "finding": event.finding.to_dict()}
    if test:
        body["test"] = True
    return body
