"""`cloudwatchdog report`: the report from the store, for a given day or since the previous report, in the
registered report formats (rendered by cloudwatchdog.render.report_formats)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from state.helpers import bucket, scan

from cloudwatchdog.cli import main
from cloudwatchdog.model import Level
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.state.schema import ReportRow
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import now_utc

DAY = date(2026, 3, 10)


def _t(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


@pytest.fixture
def seeded(state_url: str) -> str:
    """Day before DAY: a public. DAY: b public at 09:00, a fixed at 15:00. Day after: c public."""
    before, after = DAY - timedelta(days=1), DAY + timedelta(days=1)
    with Store.open(state_url) as s:
        s.record_scan(scan([bucket("a")], when=_t(before, 12)))
        s.record_scan(scan([bucket("a"), bucket("b")], when=_t(DAY, 9)))
        s.record_scan(scan([bucket("a", Level.PRIVATE), bucket("b")], when=_t(DAY, 15)))
        s.record_scan(scan([bucket("a", Level.PRIVATE), bucket("b"), bucket("c")], when=_t(after, 9)))
    return state_url


def _report_json(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> dict[str, Any]:
    assert main(["report", "--state-url", url, "--format", "json", "--output", "-", *args]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def _names(doc: dict[str, Any], section: str) -> list[str]:
    return [f["resource_name"] for f in doc["sections"][section]]


def test_report_for_a_day(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _report_json(capsys, seeded, "--date", DAY.isoformat())
    assert doc["generated_at"] == "2026-03-10T23:59:59Z" and doc["since"] == "2026-03-10T00:00:00Z"
    assert _names(doc, "new") == ["b"]
    assert _names(doc, "resolved") == ["a"]
    assert _names(doc, "open") == []
    assert doc["headline"] == {"public_now": 1, "became_public": 1, "closed": 1}
    assert doc["last_scan"]["finished_at"] == "2026-03-10T15:00:00Z", "scans after that day are not shown"
    [resolved] = doc["sections"]["resolved"]
    assert resolved["exposure_window"]["total_seconds"] == 27 * 3600
    assert [p["open_public"] for p in doc["trend"][-3:]] == [0, 1, 1]


def test_report_for_the_next_day(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _report_json(capsys, seeded, "--date", (DAY + timedelta(days=1)).isoformat())
    assert _names(doc, "new") == ["c"] and _names(doc, "open") == ["b"] and _names(doc, "resolved") == []


def test_report_files_in_every_format(seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    formats = ",".join(FORMATS.names())
    assert main(["report", "--state-url", seeded, "--date", DAY.isoformat(), "--format", formats,
                 "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    for name, fmt in FORMATS.items():
        path = out / f"cloudwatchdog-report-{DAY.isoformat()}.{fmt.extension}"
        assert path.is_file() and path.stat().st_size > 0, name
        assert str(path) in printed


def test_report_since_the_previous_one_is_recorded(seeded: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first = _report_json(capsys, seeded)
    assert first["since"] is None, "no previous report: the last 24 hours, no 'since'"
    with Store.open(seeded) as s:
        previous = s.last_report_time()
    assert previous is not None and abs((now_utc() - previous).total_seconds()) < 60
    _report_json(capsys, seeded)  # recorded too (its period: test_a_second_render_on_one_day_covers_the_same_period)
    # --date reports are views of the past: they are not recorded.
    _report_json(capsys, seeded, "--date", DAY.isoformat())
    engine = create_engine(seeded)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ReportRow)).scalar() == 2
    finally:
        engine.dispose()


def test_a_second_render_on_one_day_covers_the_same_period(seeded: str, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`cloudwatchdog report` run again the same day (say, to add --format json) renders the same day's report, not
    one of the seconds since the first run; the next day's report covers the time since that day's first one."""
    clock = iter([_t(DAY, 16), _t(DAY, 16) + timedelta(minutes=5), _t(DAY + timedelta(days=1), 16)])
    monkeypatch.setattr("cloudwatchdog.commands.report.now_utc", lambda: next(clock))
    first = _report_json(capsys, seeded)
    second = _report_json(capsys, seeded)
    for doc in (first, second):
        assert doc["since"] is None, "no report before that day"
        assert _names(doc, "new") == ["b"] and _names(doc, "resolved") == ["a"]
        assert doc["headline"] == {"public_now": 1, "became_public": 1, "closed": 1}
    following = _report_json(capsys, seeded)
    assert following["since"] == "2026-03-10T16:00:00Z" and _names(following, "new") == ["c"]


def test_a_report_the_store_cannot_record_is_still_written(seeded: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    url = make_url(seeded)
    read_only = f"sqlite:///file:{url.database}?mode=ro&uri=true" if url.get_backend_name() == "sqlite" else \
        url.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(
            hide_password=False)
    out = tmp_path / "reports"
    assert main(["report", "--state-url", read_only, "--format", "html,json", "--output", str(out)]) == 2
    captured = capsys.readouterr()
    written = sorted(p.name for p in out.iterdir())
    assert [Path(p).suffix for p in written] == [".html", ".json"]
    assert all(name in captured.out for name in written), "and said so"
    [error] = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert error.startswith("error: state.url ") and "written but not recorded" in error
    with Store.open(seeded) as s:
        assert s.last_report_time() is None


def test_default_output_dir_is_reports_output_dir(seeded: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"state:\n  url: {seeded}\nreports:\n  output_dir: daily\n")
    assert main(["report", "-c", str(config), "--date", DAY.isoformat()]) == 0
    assert (tmp_path / "daily" / f"cloudwatchdog-report-{DAY.isoformat()}.html").is_file()
    capsys.readouterr()


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "pdf"], "--format: unknown report format pdf; available: "),
    (["--date", "yesterday"], "--date yesterday: not a date"),
    (["--date", "2999-01-01"], "--date 2999-01-01: the day has not come yet"),
    (["--format", "html,json", "--output", "-"], "give exactly one --format"),
])
def test_usage_errors(seeded: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["report", "--state-url", seeded, *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--state-url", f"sqlite:///{tmp_path}/none.db", "--output", str(tmp_path)]) == 2
    assert "no state store there yet" in capsys.readouterr().err
