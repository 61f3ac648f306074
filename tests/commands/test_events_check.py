"""`cloudwatchdog events check` against the moto server's SQS and Azurite's queue service: readable with its count
and oldest message's age, unreadable with one line and exit 3, no source configured exit 2; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.receivers import free_port

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.aws_events import EventPipe
from cloudwatchdog.emulators.azurite_queue import AzuriteQueueServer, deliver, resource_event
from cloudwatchdog.emulators.moto import MotoServer
from cloudwatchdog.emulators.tls import TlsFiles


def _config(tmp_path: Path, moto: MotoServer, events: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(f"""providers:
  aws:
    endpoint_url: {moto.endpoint}
    credential: emulator
{events}""")
    return str(path)


def test_a_readable_queue_with_its_oldest_message(tmp_path: Path, moto: MotoServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pipe = EventPipe(moto.endpoint).create()
    cfg = _config(tmp_path, moto, f'    events: {{queue_url: "{pipe.queue_url}"}}\n')
    assert main(["events", "check", "-c", cfg]) == 0
    assert "aws:cloudwatchdog-events: readable, 0 messages waiting, no message waiting" in capsys.readouterr().out
    pipe.emit("PutBucketPolicy", {"bucketName": "some-bucket"})
    pipe.emit("PutBucketAcl", {"bucketName": "some-bucket"})
    assert main(["events", "check", "-c", cfg, "--json"]) == 0
    (source,) = json.loads(capsys.readouterr().out)["sources"]
    assert source["reachable"] and source["messages"] == 2 and source["error"] is None
    assert 0 <= source["oldest_age_seconds"] < 60
    assert pipe.counts() == (2, 0), "the check leaves the messages for the daemon"


def test_an_unreachable_queue_exits_3_in_one_line(tmp_path: Path, moto: MotoServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/123456789012/gone"
    assert main(["events", "check", "-c", _config(tmp_path, moto, f'    events: {{queue_url: "{url}"}}\n')]) == 3
    out = capsys.readouterr()
    assert out.out.startswith("aws:gone: cannot be read: ") and url in out.out
    assert "Traceback" not in out.out + out.err


def test_a_missing_queue_and_no_source(tmp_path: Path, moto: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    missing = f"{moto.endpoint}/123456789012/never-created"
    assert main(["events", "check", "-c", _config(tmp_path, moto, f'    events: {{queue_url: "{missing}"}}\n')]) == 3
    assert "NonExistentQueue: The specified queue does not exist" in capsys.readouterr().out
    assert main(["events", "check", "-c", _config(tmp_path, moto, "")]) == 2
    assert "no change-event source is configured" in capsys.readouterr().err
    bad = _config(tmp_path, moto, '    events: {queue_url: "https://example.com/not-a-queue"}\n')
    assert main(["events", "check", "-c", bad]) == 2


def test_an_azure_storage_queue(tmp_path: Path, azure_tls: TlsFiles, capsys: pytest.CaptureFixture[str]) -> None:
    with AzuriteQueueServer("cwdqueues", azure_tls) as queues:
        queue = queues.queue_client("change-events")
        queue.create_queue()
        deliver(queue, resource_event("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "rg", "acct1", "brochures"))
        path = tmp_path / "azure.yaml"
        path.write_text(f"""providers:
  aws: {{enabled: false}}
  azure:
    arm_endpoint: https://127.0.0.1:9
    credential: emulator
    ca_bundle: {azure_tls.ca_file}
    events: {{queue_account_url: "{queues.account_url}", queue: change-events, credential: emulator}}
""")
        assert main(["events", "check", "-c", str(path), "--json"]) == 0
        (source,) = json.loads(capsys.readouterr().out)["sources"]
        assert (source["source"], source["reachable"], source["messages"]) == ("azure:change-events", True, 1)
        assert source["oldest_age_seconds"] is not None and source["oldest_age_seconds"] < 60
        assert queue.get_queue_properties().approximate_message_count == 1, "a peek leaves it there"
        queue.delete_queue()
        assert main(["events", "check", "-c", str(path)]) == 3
        out = capsys.readouterr().out
        assert out.startswith("azure:change-events: cannot be read: ") and "QueueNotFound" in out
