"""`cloudwatchdog alerts test|list|deliver|retry` through the CLI's main(), with a config file, a store filled by
recording scans (tests/state/helpers.py) and a real HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from state.helpers import at, bucket, scan
from support.receivers import HttpReceiver, Reply

from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.cli import main
from cloudwatchdog.config import load_config
from cloudwatchdog.state.store import Store


def write_config(tmp_path: Path, receiver: HttpReceiver, extra: str = "") -> Path:
    p = tmp_path / "config.yaml"
    p.write_text("state:\n  url: sqlite:///state.db\n"
                 "notifications:\n"
                 f"  - {{type: webhook, name: siem, url: \"{receiver.url('/hook')}\", timeout: 5}}\n"
                 f"  - {{type: slack, name: digest, webhook_url: \"{receiver.url('/slack')}\", mode: digest}}\n"
                 + extra)
    return p


def record(config: Path, *names: str, hour: float = 0) -> None:
    cfg = load_config(config)
    with Store.open(cfg.state.url, base_dir=config.parent, hooks=[outbox_hook(cfg)]) as store:
        store.record_scan(scan([bucket(n) for n in names], when=at(hour)))


def listed(capsys: pytest.CaptureFixture[str], config: Path, *extra: str) -> list[dict[str, Any]]:
    assert main(["alerts", "list", "-c", str(config), "--json", *extra]) == 0
    alerts: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["alerts"]
    return alerts


def test_alerts_test_exit_codes(tmp_path: Path, receiver: HttpReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, receiver)
    assert main(["alerts", "test", "siem", "-c", str(config)]) == 0
    assert "siem: delivered (status 200)" in capsys.readouterr().out
    assert receiver.requests[0].json()["finding"]["resource_name"] == "cloudwatchdog-test-bucket"

    receiver.reply_with(Reply(500, b"boom"))
    assert main(["alerts", "test", "siem", "-c", str(config)]) == 1
    assert "failed (retryable): HTTP 500" in capsys.readouterr().out

    assert main(["alerts", "test", "nope", "-c", str(config)]) == 2
    assert "no notification target named 'nope' (targets: siem, digest)" in capsys.readouterr().err

    broken = write_config(tmp_path, receiver).read_text().replace("timeout: 5}", "timeout: 5, templates_dir: none}")
    config.write_text(broken)
    assert main(["alerts", "test", "siem", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "config.yaml" in err and "notifications[0].templates_dir" in err and "not a directory" in err
    # The same check stops a scan before it starts.
    assert main(["scan", "-c", str(config), "--no-progress", "--output", str(tmp_path / "out")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "state.db").exists()


def test_list_deliver_and_retry(tmp_path: Path, receiver: HttpReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, receiver)
    record(config, "alpha", "beta")
    rows = listed(capsys, config)
    assert sorted((r["target"], r["status"], r["resource_name"]) for r in rows) == [
        ("digest", "pending", "alpha"), ("digest", "pending", "beta"),
        ("siem", "pending", "alpha"), ("siem", "pending", "beta")]

    receiver.reply_with(Reply(410, b"gone"))  # permanent: one dies
    assert main(["alerts", "deliver", "-c", str(config)]) == 1
    assert "1 delivered, 0 to retry, 1 failed for good" in capsys.readouterr().out
    [dead] = listed(capsys, config, "--status", "dead")
    assert dead["last_error"] == "permanent failure: HTTP 410: gone" and dead["attempts"] == 1

    assert main(["alerts", "list", "-c", str(config)]) == 0
    table = capsys.readouterr().out
    assert "dead" in table and "HTTP 410" in table and "alpha" in table

    assert main(["alerts", "retry", "-c", str(config)]) == 2
    assert "give one DELIVERY_ID" in capsys.readouterr().err
    assert main(["alerts", "retry", "siem:no-such-id", "-c", str(config)]) == 2
    assert "no alert with delivery id" in capsys.readouterr().err
    assert main(["alerts", "retry", dead["delivery_id"], "-c", str(config)]) == 0
    assert "1 alert queued again" in capsys.readouterr().out
    assert main(["alerts", "deliver", "-c", str(config), "--digests"]) == 0
    out = capsys.readouterr().out
    assert "digest: digest delivered" in out and "1 delivered" in out
    assert sorted((r["target"], r["kind"], r["status"]) for r in listed(capsys, config)) == [
        ("digest", "digest", "sent"), ("digest", "new", "digested"), ("digest", "new", "digested"),
        ("siem", "new", "sent"), ("siem", "new", "sent")]
    [digest] = listed(capsys, config, "--status", "sent,dead", "--limit", "1")
    assert digest["kind"] == "digest" and digest["digest_of"] == 2

    assert main(["alerts", "list", "-c", str(config), "--status", "lost"]) == 2
    assert "--status: unknown status lost" in capsys.readouterr().err


def test_commands_need_an_existing_store(tmp_path: Path, receiver: HttpReceiver,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, receiver)
    assert main(["alerts", "list", "-c", str(config)]) == 2
    assert "there is no state store there yet" in capsys.readouterr().err
    assert not (tmp_path / "state.db").exists()
