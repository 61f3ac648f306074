"""The HTML report as a document: self-contained, escaped, pinned by its Content-Security-Policy.
(What a reader sees and does is in test_html_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from cloudwatchdog.render import html as html_module
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.render.html import render_report_html, reports_dir, reports_dir_beside

from .sample import XSS_IMG, XSS_SCRIPT, first_scan, hostile_report, sample_report


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_csp_pins_the_only_style_and_script() -> None:
    doc = _parse(render_report_html(sample_report()))
    csp = next(a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    assert [t for t, _ in doc.tags].count("script") == 1 and [t for t, _ in doc.tags].count("style") == 1
    assert directives["script-src"] == f"'{_sha256(doc.scripts[0])}'"
    assert directives["style-src"] == f"'{_sha256(doc.styles[0])}'"


def test_self_contained() -> None:
    text = render_report_html(sample_report())
    doc = _parse(text)
    for tag, attrs in doc.tags:
        for name in ("src", "href", "srcset", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert not [a for _, attrs in doc.tags for a in attrs if a.startswith("on")]  # no inline event handlers
    assert "@import" not in doc.styles[0] and "url(" not in doc.styles[0]
    assert "fetch(" not in doc.scripts[0] and "XMLHttpRequest" not in doc.scripts[0]


def test_hostile_strings_are_escaped_everywhere() -> None:
    text = render_report_html(hostile_report())
    doc = _parse(text)
    assert "img" not in [t for t, _ in doc.tags]
    assert [t for t, _ in doc.tags].count("script") == 1
    assert XSS_IMG not in text and XSS_SCRIPT not in text
    assert text.count("</script") == 1
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    # Attribute values are quoted and escaped too (the sort key holds the resource name).
    assert 'data-resource="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in text


def test_finding_details_are_in_the_row() -> None:
    data = sample_report()
    text = render_report_html(data)
    rf = data.open[0]
    row = re.search(rf'<tr class="finding"[^>]*data-id="{rf.finding.id}".*?</tr>', text, re.S)
    assert row is not None
    evidence = [e.detail.replace('"', "&#34;") for e in rf.finding.evidence]
    for expected in (rf.finding.resource_name, rf.finding.account, rf.finding.region, rf.finding.severity.value,
                     "exposed since 2026-11-03, 18 days", *evidence,
                     "Turn on all four Block Public Access settings",
                     "aws s3api put-public-access-block --bucket website-assets"):
        assert expected.replace("'", "&#39;") in row.group(0), expected


def test_reports_dir_prefers_the_packaged_templates(tmp_path: Path) -> None:
    module = tmp_path / "cloudwatchdog" / "render" / "html.py"
    module.parent.mkdir(parents=True)
    assert reports_dir_beside(module) == tmp_path / "reports"  # a checkout
    (tmp_path / "cloudwatchdog" / "_reports").mkdir()
    assert reports_dir_beside(module) == tmp_path / "cloudwatchdog" / "_reports"  # a wheel
    assert (reports_dir() / "report.html.j2").is_file()


def test_templates_fail_loudly_on_a_missing_value() -> None:
    template = html_module._environment().from_string("{{ missing.field }}")
    with pytest.raises(UndefinedError):
        template.render()


def test_a_scan_without_history_does_not_invent_an_exposure_start() -> None:
    scan = first_scan()
    text = render_report_html(report_from_scan(scan))
    assert text.count("found by this scan; no earlier history") == len(scan.findings)
    assert "exposed since" not in text
