"""`schedules:` and `daemon:` in the config: valid values load, bad ones fail at load with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.daemon.run import check_daemon_config
from cloudwatchdog.settings.daemon import ListenAddress, parse_listen
from cloudwatchdog.yamlsource import SourceErrors

BASE = "providers:\n  aws: {regions: [us-east-1]}\n"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(BASE + text)
    return p


def _errors(path: Path) -> list[str]:
    with pytest.raises(SourceErrors) as exc:
        load_config(path)
    return [str(e) for e in exc.value.errors]


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, ""))
    assert cfg.schedules.scan == "0 * * * *" and cfg.schedules.report == "0 7 * * *"
    assert cfg.schedules.deliver == "every 30s" and cfg.schedules.timezone == "UTC" and cfg.schedules.jitter == 0
    assert cfg.daemon.listen_address == ListenAddress("127.0.0.1", 9187)
    assert cfg.daemon.log_format == "auto"


def test_full_sections(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, """
schedules:
  scan: every 15m
  scan_providers: {aws: "0 */6 * * *"}
  report: null
  deliver: every 10s
  timezone: Europe/Paris
  jitter: 30
daemon:
  listen: "[::1]:9000"
  log_format: json
  shutdown_grace: 5
  stale_after: 4
  serve_report: false
"""))
    assert cfg.schedules.scan_providers == {"aws": "0 */6 * * *"}
    assert cfg.schedules.report is None and cfg.schedules.jitter == 30
    address = cfg.daemon.listen_address
    assert address == ListenAddress("::1", 9000) and address.is_ipv6 and address.is_loopback
    assert cfg.daemon.shutdown_grace == 5 and cfg.daemon.stale_after == 4 and not cfg.daemon.serve_report


@pytest.mark.parametrize(("text", "line", "key", "message"), [
    ("schedules:\n  scan: \"61 * * * *\"\n", 4, "schedules.scan", "not a valid cron expression"),
    ("schedules:\n  scan: every 0s\n", 4, "schedules.scan", "at least 1 second"),
    ("schedules:\n  deliver: every 5x\n", 4, "schedules.deliver", "is not an interval"),
    ("schedules:\n  report: \"0 7 * *\"\n", 4, "schedules.report", "has 5 fields"),
    ("schedules:\n  scan: 15\n", 4, "schedules.scan", "in quotes"),
    ("schedules:\n  timezone: Mars/Olympus\n", 4, "schedules.timezone", "unknown time zone"),
    ("schedules:\n  jitter: -1\n", 4, "schedules.jitter", "greater than or equal to 0"),
    ("schedules:\n  scan_providers:\n    azure: every 0s\n", 5, "schedules.scan_providers.azure",
     "at least 1 second"),
    ("schedules:\n  scan_providers:\n    oracle: every 1h\n", 5, "schedules.scan_providers.oracle",
     "'aws', 'gcp' or 'azure'"),
    ("schedules:\n  scna: every 1h\n", 4, "schedules.scna", "unknown key"),
    ("daemon:\n  listen: 127.0.0.1:70000\n", 4, "daemon.listen", "port 70000 is out of range (1-65535)"),
    ("daemon:\n  listen: 127.0.0.1:0\n", 4, "daemon.listen", "port 0 is out of range"),
    ("daemon:\n  listen: localhost\n", 4, "daemon.listen", "has no host and port"),
    ("daemon:\n  listen: \"::1:9187\"\n", 4, "daemon.listen", "put an IPv6 address in brackets"),
    ("daemon:\n  listen: \"[::g]:9187\"\n", 4, "daemon.listen", "is not an IPv6 address"),
    ("daemon:\n  listen: \"bad host:80\"\n", 4, "daemon.listen", "is not an IP address or host name"),
    ("daemon:\n  listen: \"127.0.0.1:http\"\n", 4, "daemon.listen", "is not a number"),
    ("daemon:\n  log_format: yaml\n", 4, "daemon.log_format", "'auto', 'json' or 'text'"),
    ("daemon:\n  shutdown_grace: -1\n", 4, "daemon.shutdown_grace", "greater than or equal to 0"),
    ("daemon:\n  stale_after: 0.5\n", 4, "daemon.stale_after", "greater than or equal to 1"),
])
def test_bad_values_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    path = _write(tmp_path, text)
    (err,) = _errors(path)
    assert err.startswith(f"{path}:{line}: {key}: "), err
    assert message in err


def test_daemon_checks_scan_providers_and_digest_schedules(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK", "https://hooks.example.com/x")
    path = _write(tmp_path, """schedules:
  scan_providers:
    gcp: every 1h
notifications:
  - type: slack
    webhook_url: "${HOOK}"
    mode: digest
    schedule: "0 25 * * *"
""")
    cfg = load_config(path)  # the notification model checks only the shape of a cron expression
    with pytest.raises(SourceErrors) as exc:
        check_daemon_config(cfg)
    errors = sorted(str(e) for e in exc.value.errors)
    assert errors == [
        f"{path}:10: notifications[0].schedule: '0 25 * * *' is not a valid cron expression: Error validating "
        "expression '25': the last value (25) is higher than the maximum value (23)",
        f"{path}:5: schedules.scan_providers.gcp: provider gcp is not configured (providers.gcp) or is disabled",
    ]


def test_daemon_needs_a_provider(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("providers:\n  aws: {enabled: false}\n")
    with pytest.raises(SourceErrors) as exc:
        check_daemon_config(load_config(path))
    assert [str(e) for e in exc.value.errors] == [
        f"{path}:1: providers: no provider is configured or enabled: the daemon has nothing to scan"]


@pytest.mark.parametrize(("text", "expected", "loopback"), [
    ("127.0.0.1:9187", ListenAddress("127.0.0.1", 9187), True),
    ("0.0.0.0:1", ListenAddress("0.0.0.0", 1), False),
    ("localhost:65535", ListenAddress("localhost", 65535), True),
    ("[::]:9187", ListenAddress("::", 9187), False),
    ("[::1]:9187", ListenAddress("::1", 9187), True),
    ("metrics.internal:8080", ListenAddress("metrics.internal", 8080), False),
])
def test_listen_addresses(text: str, expected: ListenAddress, loopback: bool) -> None:
    address = parse_listen(text)
    assert address == expected and address.is_loopback is loopback
    assert str(address) == text
