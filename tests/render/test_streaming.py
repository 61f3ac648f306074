"""Streaming outputs: each format's writer produces exactly the text its renderer returns, written piece by piece
(the JSON document one resource and one finding at a time, the HTML as Jinja2 generates it)."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from cloudwatchdog.render.registry import FORMATS

from .sample import hostile_report, sample_report, sample_scan


class Pieces(io.StringIO):
    """Counts the writes: a streamed document arrives in many."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_format_writes_what_it_renders(name: str) -> None:
    fmt = FORMATS.get(name)
    scan, report = sample_scan(), sample_report()
    out = Pieces()
    fmt.write_scan(scan, out)
    assert out.getvalue() == fmt.render_scan(scan)
    for data in (report, hostile_report()):
        out = Pieces()
        fmt.write_report(data, out)
        assert out.getvalue() == fmt.render_report(data)


@pytest.mark.parametrize("name", ["json", "html"])
def test_json_and_html_stream(name: str) -> None:
    scan = sample_scan()
    out = Pieces()
    FORMATS.get(name).write_scan(scan, out)
    assert out.writes > len(scan.resources)


def test_streamed_json_equals_the_whole_document_with_empty_lists_and_resolved_findings() -> None:
    fmt = FORMATS.get("json")
    scan = sample_scan()
    for variant in (dataclasses.replace(scan, resources=(), findings=()),
                    dataclasses.replace(scan, resolved=scan.findings[:1]),
                    dataclasses.replace(scan, coverage=())):
        out = io.StringIO()
        fmt.write_scan(variant, out)
        assert out.getvalue() == fmt.render_scan(variant)
        json.loads(out.getvalue())
