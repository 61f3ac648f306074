"""`cloudwatchdog findings list|suppress|unsuppress` on a store seeded through the store API (no cloud needed:
the findings are built as a scan would produce them)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from state.helpers import ACCOUNT, bucket, public_finding, scan

from cloudwatchdog.cli import main
from cloudwatchdog.model import Level, Severity
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import now_utc

OTHER = "222222222222"


@pytest.fixture
def seeded(state_url: str) -> str:
    """open: a (critical), b (high, other account); resolved: gone; a markup-named bucket."""
    t = now_utc()
    a, b, gone, odd = bucket("a"), bucket("b", account=OTHER), bucket("gone"), bucket("[bold]odd[/bold]")
    with Store.open(state_url) as s:
        s.record_scan(scan([a, b, gone, odd], [public_finding(a), public_finding(b, Severity.HIGH),
                                               public_finding(gone), public_finding(odd, Severity.LOW)],
                           when=t - timedelta(hours=2), accounts=[ACCOUNT, OTHER]))
        s.record_scan(scan([a, b, bucket("gone", Level.PRIVATE), odd],
                           [public_finding(a), public_finding(b, Severity.HIGH), public_finding(odd, Severity.LOW)],
                           when=t - timedelta(hours=1), accounts=[ACCOUNT, OTHER]))
    return state_url


def _list(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> list[dict[str, Any]]:
    assert main(["findings", "list", "--state-url", url, "--json", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1
    findings: list[dict[str, Any]] = doc["findings"]
    return findings


def _names(findings: list[dict[str, Any]]) -> list[str]:
    return [f["resource_name"] for f in findings]


def test_list_defaults_to_everything_but_resolved(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    found = _list(capsys, seeded)
    assert _names(found) == ["a", "b", "[bold]odd[/bold]"], "most severe first"
    first = found[0]
    assert first["state"] == "open" and first["first_seen"] and first["last_seen"]
    assert first["exposure_window"]["open_since"] == first["first_seen"]
    assert first["exposure_window"]["total_seconds"] > 0


@pytest.mark.parametrize(("args", "expected"), [
    (["--state", "resolved"], ["gone"]),
    (["--state", "all"], ["a", "gone", "b", "[bold]odd[/bold]"]),
    (["--state", "active"], ["a", "b", "[bold]odd[/bold]"]),
    (["--state", "new,suppressed"], []),
    (["--severity", "high"], ["b"]),
    (["--severity", "critical,low"], ["a", "[bold]odd[/bold]"]),
    (["--min-severity", "high"], ["a", "b"]),
    (["--account", OTHER], ["b"]),
    (["--provider", "gcp"], []),
    (["--provider", "aws", "--account", f"{ACCOUNT},{OTHER}", "--min-severity", "critical"], ["a"]),
])
def test_list_filters(seeded: str, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]) -> None:
    assert _names(_list(capsys, seeded, *args)) == expected


def test_list_table_escapes_cloud_names(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", "list", "--state-url", seeded]) == 0
    out = capsys.readouterr().out
    assert "[bold]odd[/bold]" in out, "a name holding markup is shown as it is"
    assert public_finding(bucket("a")).id in out and "open" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--state", "closed"], "--state: unknown state 'closed'"),
    (["--severity", "urgent"], "--severity: unknown severity urgent"),
])
def test_list_bad_filters(seeded: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["findings", "list", "--state-url", seeded, *args]) == 2
    assert message in capsys.readouterr().err


def test_suppress_then_unsuppress(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    fp = public_finding(bucket("a")).id
    until = now_utc().date().isoformat()
    assert main(["findings", "suppress", fp[:8], "--state-url", seeded, "--reason", "test data only",
                 "--owner", "qa-team", "--until", until]) == 0
    out = capsys.readouterr().out
    assert f"Suppressed {fp}" in out and until in out and "qa-team" in out
    [f] = _list(capsys, seeded, "--state", "suppressed")
    assert f["id"] == fp and f["suppression"] == {"reason": "test data only", "owner": "qa-team",
                                                  "expires": until, "source": "cli"}
    assert main(["findings", "unsuppress", fp, "--state-url", seeded]) == 0
    assert "now reopened" in capsys.readouterr().out
    assert _names(_list(capsys, seeded, "--state", "reopened")) == ["a"]
    assert main(["findings", "unsuppress", fp, "--state-url", seeded]) == 2
    assert "no suppression set from the CLI" in capsys.readouterr().err


def test_suppressing_a_resolved_finding_says_so(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    fp = public_finding(bucket("gone")).id
    assert main(["findings", "suppress", fp, "--state-url", seeded, "--reason", "r", "--owner", "o",
                 "--until", "2999-01-01"]) == 0
    assert "applies if it comes back" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["ffffffffff", "--until", "2999-01-01"], "no finding with fingerprint ffffffffff"),
    (["not-hex", "--until", "2999-01-01"], "is not a finding fingerprint"),
    (["PLACEHOLDER", "--until", "2020-01-01"], "--until 2020-01-01: the date is in the past"),
    (["PLACEHOLDER", "--until", "soon"], "--until soon: not a date"),
    (["PLACEHOLDER", "--until", "2999-01-01", "--reason", "  "], "must not be blank"),
])
def test_suppress_errors(seeded: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    args = [public_finding(bucket("a")).id if a == "PLACEHOLDER" else a for a in args]
    base = ["findings", "suppress", *args[:1], "--state-url", seeded, "--owner", "o"]
    rest = args[1:] if "--reason" in args else [*args[1:], "--reason", "r"]
    assert main([*base, *rest]) == 2
    assert message in capsys.readouterr().err


def test_suppress_needs_reason_owner_and_until(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["findings", "suppress", "abcd1234", "--state-url", seeded, "--reason", "r", "--owner", "o"])
    assert exit_.value.code == 2
    assert "--until" in capsys.readouterr().err


def test_a_missing_sqlite_store_is_an_error_and_is_not_created(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("state:\n  url: sqlite:///watch.db\n")
    assert main(["findings", "list", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"state.url sqlite:///{tmp_path}/watch.db" in err and "cloudwatchdog scan" in err
    assert not (tmp_path / "watch.db").exists()


def test_state_url_of_the_config_is_relative_to_the_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    with Store.open(f"sqlite:///{tmp_path / 'conf' / 'watch.db'}") as s:
        s.record_scan(scan([bucket("rel")], when=now_utc()))
    config = tmp_path / "conf" / "config.yaml"
    config.write_text("state:\n  url: sqlite:///watch.db\n")
    monkeypatch.chdir(tmp_path)
    assert main(["findings", "list", "-c", str(config), "--json"]) == 0
    assert _names(json.loads(capsys.readouterr().out)["findings"]) == ["rel"]


def test_unreachable_postgres_is_exit_2_with_the_password_masked(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["findings", "list", "--state-url", f"postgresql+psycopg://u:hunter2@127.0.0.1:{port}/db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: state.url postgresql+psycopg://u:***@127.0.0.1") and "hunter2" not in err


def test_unsuppressing_a_still_exposed_finding_queues_a_reopened_alert(seeded: str, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With notifications configured, suppress / unsuppress from the CLI go through the alert outbox like a scan."""
    from support.receivers import HttpReceiver

    from cloudwatchdog.alerts.outbox.admin import list_outbox
    from cloudwatchdog.alerts.outbox.deliver import deliver_due
    from cloudwatchdog.config import load_config

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # the receiver is local
    fp = public_finding(bucket("a")).id
    with HttpReceiver() as receiver:
        config = tmp_path / "config.yaml"
        config.write_text(f"notifications:\n  - type: webhook\n    name: siem\n    url: {receiver.url('/x')}\n")
        base = ["--state-url", seeded, "-c", str(config)]
        assert main(["findings", "suppress", fp, *base, "--reason", "r", "--owner", "o", "--until", "2999-01-01"]) == 0
        assert main(["findings", "unsuppress", fp, *base]) == 0
        assert "now reopened" in capsys.readouterr().out
        with Store.open(seeded) as store:
            assert [(e.kind, e.fingerprint) for e in list_outbox(store)] == [("reopened", fp)]
            assert deliver_due(store, load_config(str(config))).sent == 1
        [request] = receiver.requests
        assert request.json()["event"] == "finding.reopened" and request.json()["finding"]["id"] == fp


def test_control_codes_in_names_reach_the_terminal_as_visible_text(state_url: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    hostile = bucket("x\x1b[2J\x1b]0;title\x07\u202etxt.exe")
    with Store.open(state_url) as s:
        s.record_scan(scan([hostile], [public_finding(hostile)], when=now_utc()))
    assert main(["findings", "list", "--state-url", state_url]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\u202e" in out
