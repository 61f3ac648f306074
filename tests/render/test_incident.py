"""The incident dossier's renderers: the JSON contract shape, and hostile text from a cloud or a log escaped in
HTML (which loads nothing) and Markdown."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cloudwatchdog.forensics.model import (
    AccessCounts,
    AccessEvidence,
    AccessStatus,
    ClientCount,
    Dossier,
    Gap,
    ObjectCount,
    StartEvidence,
    TimeSpan,
)
from cloudwatchdog.render.incident import render_dossier

T = datetime(2024, 3, 1, tzinfo=UTC)
EVIL = '<script>alert(1)</script>|*[x](javascript:1)'


def _dossier() -> Dossier:
    counts = AccessCounts(requests=5, external_requests=4, anonymous_requests=3, owner_requests=1, distinct_ips=2,
                          objects=1, bytes_sent=99, first=T, last=T,
                          top_clients=(ClientCount("198.51.100.1", EVIL, 4, 99),),
                          objects_read=(ObjectCount(EVIL, 4, 99),), lines=10, skipped_lines=2)
    access = AccessEvidence(AccessStatus.PARTIAL, ("s3-server-access-log",), (TimeSpan(T, T),),
                            (Gap(T, T, f"no log objects for {EVIL}"),), counts, notes=(EVIL,))
    finding = {"id": "abc123", "rule_id": "r", "severity": "critical", "title": EVIL, "resource_uid": EVIL,
               "resource_type": "aws.s3.bucket", "resource_name": EVIL, "provider": "aws", "account": "1",
               "region": "us-east-1", "message": EVIL, "evidence": [{"source": EVIL, "detail": EVIL}],
               "remediation": {"summary": EVIL, "cli": None}}
    return Dossier(finding=finding, resource={"uid": EVIL}, windows=(TimeSpan(T, T),), open_now=True,
                   estimated_start=StartEvidence(T, EVIL), data=None, access=access, generated_at=T)


def test_json_is_the_contract_shape() -> None:
    doc = json.loads(render_dossier(_dossier(), "json"))
    assert set(doc) >= {"finding", "resource", "windows", "estimated_start", "data", "access"}
    assert doc["windows"] == [{"from": "2024-03-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}]
    assert doc["estimated_start"] == {"at": "2024-03-01T00:00:00Z", "evidence": EVIL}
    a = doc["access"]
    for key in ("status", "sources", "coverage", "gaps", "requests", "external_requests", "anonymous_requests",
                "distinct_ips", "objects", "bytes_sent", "first", "last", "top_clients", "objects_read"):
        assert key in a
    assert a["top_clients"] == [{"ip": "198.51.100.1", "requester": EVIL, "requests": 4, "bytes_sent": 99}]
    assert a["objects_read"] == [{"key": EVIL, "requests": 4, "bytes_sent": 99}]
    assert a["gaps"][0]["reason"] == f"no log objects for {EVIL}"


def test_html_escapes_everything_and_loads_nothing() -> None:
    html = render_dossier(_dossier(), "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy" in html and "default-src &#39;none&#39;" in html
    assert "cannot be established" in html and "partial" in html


def test_markdown_escapes_its_special_characters() -> None:
    md = render_dossier(_dossier(), "md")
    assert "<script>" not in md and "\\<script\\>" in md
    assert "[x](" not in md and "\\[x\\](javascript" in md and "| 198.51.100.1 |" in md


def test_markdown_shows_no_terminal_control_characters() -> None:
    """An object key or requester with an ANSI escape (the Markdown is often read with cat, or written to stdout)
    comes out with the control characters replaced."""
    import dataclasses

    d = _dossier()
    c = dataclasses.replace(d.access.counts, objects_read=(ObjectCount("a\x1b]0;pwned\x07\x1b[2Jb\x9bc", 1, 1),))
    md = render_dossier(dataclasses.replace(d, access=dataclasses.replace(d.access, counts=c)), "md")
    assert "\x1b" not in md and "\x07" not in md and "\x9b" not in md
    assert "a\ufffd\\]0;pwned\ufffd\ufffd\\[2Jb\ufffdc" in md


def test_a_lone_surrogate_from_a_log_is_written_in_every_format() -> None:
    """A log's JSON may escape a lone surrogate (an Azure resource log's object key "\\udc80"): every format still
    encodes as UTF-8 (the file and stdout writes would fail), the character replaced."""
    import dataclasses

    d = _dossier()
    c = dataclasses.replace(d.access.counts, objects_read=(ObjectCount("a\udc80b", 1, 1),))
    d = dataclasses.replace(d, access=dataclasses.replace(d.access, counts=c))
    for fmt in ("json", "md", "html"):
        out = render_dossier(d, fmt).encode("utf-8")
        assert "a\ufffdb".encode() in out, fmt
