"""CSV: one row per finding with its lifecycle, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from cloudwatchdog.render.csv import COLUMNS, render_csv, render_csv_report, safe_cell
from cloudwatchdog.render.from_scan import report_from_scan

from .sample import FORMULA, XSS_IMG, XSS_SCRIPT, hostile_report, sample_report, sample_scan


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_finding_with_lifecycle_columns() -> None:
    data = sample_report()
    text = render_csv_report(data)
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    rows = _rows(text)
    assert [r["id"] for r in rows] == [rf.finding.id for rf in data.all_findings()]
    by_name = {r["resource_name"]: r for r in rows}
    website = by_name["website-assets"]
    assert (website["state"], website["exposure_days"], website["open_since"]) == ("open", "18",
                                                                                   "2026-11-03T07:00:00Z")
    assert website["first_seen"] == "2026-11-03T07:00:00Z" and website["last_seen"] == "2026-11-21T07:00:00Z"
    assert website["resolved_at"] == ""
    old = by_name["old-share"]
    assert (old["state"], old["resolved_at"], old["exposure_days"], old["open_since"]) == (
        "resolved", "2026-11-20T21:24:00Z", "11", "")
    mirror = by_name["open-data-mirror"]
    assert (mirror["suppression_reason"], mirror["suppression_owner"], mirror["suppression_expires"]) == (
        "public dataset by design", "data-team@example.com", "2027-01-31")
    payroll = by_name["payroll-exports"]
    assert payroll["severity"] == "critical"
    assert payroll["evidence"].splitlines()[0].startswith("bucket-policy: statement 'PublicRead1'")
    assert payroll["remediation_cli"].startswith("aws s3api put-public-access-block --bucket payroll-exports")
    assert payroll["compliance"] == "CIS AWS Foundations v3.0.0 2.1.4; AWS Security Hub S3.2"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA])
def test_formula_cells_get_a_leading_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["bucket", "", "1-2", "a=b", XSS_IMG, "'quoted"])
def test_other_cells_are_kept(value: str) -> None:
    assert safe_cell(value) == value


def test_hostile_strings_stay_text_and_no_cell_starts_a_formula() -> None:
    text = render_csv_report(hostile_report())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + 3 and all(len(r) == len(COLUMNS) for r in rows)
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    records = _rows(text)
    assert [r["resource_name"] for r in records] == [XSS_IMG, XSS_SCRIPT, "'" + FORMULA]
    assert records[2]["account"] == "'-2+3"
    assert f"statement '{XSS_SCRIPT}'" in records[0]["evidence"]
    assert "bucket-acl: " + FORMULA in records[0]["evidence"]  # inside a cell, not at its start


def test_scan_csv_is_the_report_csv_of_the_scan() -> None:
    scan = sample_scan()
    assert render_csv(scan) == render_csv_report(report_from_scan(scan))
    rows = _rows(render_csv(scan))
    assert {r["resource_name"]: r["state"] for r in rows} == {
        "payroll-exports": "new", "website-assets": "open", "shared-logs": "open", "came-back": "reopened",
        "old-share": "resolved", "open-data-mirror": "suppressed"}
