"""How the command line fails: exit 1 only ever means findings; a bug is one line and exit 4, its traceback only
with --debug; secrets never reach the terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudwatchdog import cli
from cloudwatchdog.exitcodes import EXIT_ERROR


@pytest.fixture(autouse=True)
def _our_handler_removed() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_cloudwatchdog", False):
            root.removeHandler(h)
    logging.getLogger("cloudwatchdog").setLevel(logging.NOTSET)
    root.setLevel(logging.WARNING)


def _crash(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom: the analysis met something it did not expect\nsecond line")


def test_an_unexpected_error_is_one_line_and_exit_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # An in-process fake: a bug cannot be provoked through an emulator on purpose, so the scan is made to raise.
    monkeypatch.setattr("cloudwatchdog.commands.scan.run_scan", _crash)
    code = cli.main(["scan", "--no-state", "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR != 1
    assert err.strip().splitlines() == [
        "error: unexpected RuntimeError: boom: the analysis met something it did not expect "
        "(run again with --debug for details, and please report it)"]
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("cloudwatchdog.commands.scan.run_scan", _crash)
    assert cli.main(["--debug", "scan", "--no-state", "--output", str(tmp_path)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert err.rstrip().endswith("error: unexpected RuntimeError: boom: the analysis met something it did not expect")


def test_a_logged_exception_is_one_line_without_debug(capsys: pytest.CaptureFixture[str]) -> None:
    cli.setup_cli_logging(0)
    try:
        raise ValueError("odd shape from the cloud")
    except ValueError:
        logging.getLogger("cloudwatchdog.providers.x").exception("bucket b: read failed")
    err = capsys.readouterr().err
    assert err.strip() == ("ERROR cloudwatchdog.providers.x: bucket b: read failed "
                           "(ValueError: odd shape from the cloud)")


def test_scan_state_is_a_deprecated_alias_of_state_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str | None] = []
    # In-process fake: only the parsed arguments matter here, not a scan.
    monkeypatch.setattr("cloudwatchdog.commands.scan.cmd_scan", lambda args: seen.append(args.state_url) or 0)
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert cli.main(["scan", "--state", url]) == 0
    assert seen == [url]
    assert "`scan --state URL` is deprecated" in capsys.readouterr().err
    assert cli.main(["scan", "--state-url", url]) == 0
    assert seen == [url, url] and "deprecated" not in capsys.readouterr().err
