"""`cloudwatchdog incident` on Azure, end to end: the storage account in the ARM emulator, its Storage Analytics
logs (written here in the documented semicolon-delimited format, version 1.0 and 2.0 lines, quoted fields holding
";" and doubled quotes) in Azurite's $logs container; the CLI's JSON must state every count."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.azure import SUB_A, AzureEmulators

from cloudwatchdog.cli import main
from cloudwatchdog.model import Exposure, Level, Resource
from forensics.helpers import DAY0, T0, T1, at, iso, private, record_history

ACCOUNT = "cwdtest1"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _line(when: datetime, op: str, auth: str, key: str, status: int, sent: int, ip: str,
          container: str = "leaky", version: str = "1.0") -> str:
    object_key = f"/{ACCOUNT}/{container}" + (f"/{key}" if key else "")
    fields = [version, when.strftime("%Y-%m-%dT%H:%M:%S.1234567Z"), op, "Success", str(status), "18", "10", auth,
              ACCOUNT if auth == "authenticated" else "", ACCOUNT, "blob",
              _quote(f"https://{ACCOUNT}.blob.core.windows.net{object_key}?timeout=30"), _quote(object_key),
              "a84aa705-8a85-48c5-b064-b43bd22979c1", "0", f"{ip}:50123", "2019-12-12", "252", "0", "265", str(sent),
              "0", "", "", _quote("0x8CE1B6EA95033D5"), "Tuesday, 09-Aug-11 18:52:40 GMT", "", _quote("curl/8; x"),
              "", _quote("client-request-id")]
    if version == "2.0":
        fields += ["", "", "", "", "", "", "", ""]
    return ";".join(fields)


def _logs() -> dict[str, str]:
    objects: dict[str, list[str]] = {}

    def put(when: datetime, *lines: str) -> None:
        objects[f"blob/{when:%Y/%m/%d/%H}00/{len(objects):06d}.log"] = list(lines)

    put(at(-2, 10), _line(at(-2, 10), "GetBlob", "anonymous", "data/customers.csv", 200, 100, "203.0.113.9"))
    put(at(0, 7), _line(at(0, 7), "GetBlob", "authenticated", "data/customers.csv", 200, 10, "10.0.0.1"))
    put(at(1, 9),
        _line(at(1, 9), "GetBlob", "anonymous", "data/customers.csv", 200, 1000, "198.51.100.1"),
        _line(at(1, 9, 1), "GetBlob", "anonymous", "data/customers.csv", 200, 1000, "198.51.100.2", version="2.0"),
        _line(at(1, 9, 2), "ListBlobs", "anonymous", "", 200, 500, "198.51.100.1"),
        _line(at(1, 9, 3), "GetBlob", "anonymous", "data/secret.csv", 404, 0, "198.51.100.3"),
        _line(at(1, 9, 4), "GetBlob", "sas", "data/x.csv", 200, 50, "192.0.2.50"),
        _line(at(1, 9, 5), "GetBlob", "authenticated", "data/x.csv", 200, 50, "10.0.0.1"),
        _line(at(1, 9, 6), "GetBlob", "anonymous", "data/x.csv", 200, 50, "198.51.100.9", container="other"),
        "garbage;line",
        _line(at(1, 9, 7), "PutBlob", "anonymous", "upload.bin", 201, 0, "198.51.100.9"))
    put(at(2, 12), _line(at(2, 12), "GetBlob", "anonymous", 'data/report;q1 "v2".pdf', 200, 2000, "198.51.100.1"))
    put(at(3, 3), _line(at(3, 3), "ListBlobs", "authenticated", "", 200, 10, "10.0.0.1"))
    for day in (7, 8, 9):
        put(at(day, 3), _line(at(day, 3), "GetBlob", "authenticated", "data/customers.csv", 200, 10, "10.0.0.1"),
            *([_line(at(9, 10), "GetBlob", "anonymous", "data/late.csv", 200, 77, "198.51.100.7")]
              if day == 9 else []))
    return {k: "\n".join(v) + "\n" for k, v in objects.items()}


def _setup(azure: AzureEmulators, tmp_path: Path, *, private_before: bool, extra: str = "") -> tuple[Path, str]:
    from azure.storage.blob import BlobAnalyticsLogging, RetentionPolicy

    azure.arm.add_subscription(SUB_A, "Forensics")
    azure.arm.add_account(SUB_A, ACCOUNT, allow_blob_public_access=True)
    body = azure.arm.add_container(ACCOUNT, "leaky", public_access="Container")
    service = azure.azurite.service_client(ACCOUNT)
    service.set_service_properties(analytics_logging=BlobAnalyticsLogging(
        read=True, write=True, delete=True, retention_policy=RetentionPolicy(enabled=True, days=30)))
    logs = service.get_container_client("$logs")
    if not logs.exists():
        logs.create_container()
    for name, text in _logs().items():
        logs.upload_blob(name, text.encode())
    state = f"sqlite:///{tmp_path / 'state.db'}"
    public = Resource(uid=str(body["id"]), provider="azure", account=SUB_A, region="westeurope",
                      type="azure.storage.container", name=f"{ACCOUNT}/leaky",
                      exposure=Exposure(level=Level.PUBLIC, read=True, list=True))
    finding_id = record_history(state, public, private(public), private_before=private_before)
    config = tmp_path / "config.yaml"
    config.write_text(f"""state: {{url: "{state}"}}
providers:
  azure: {{arm_endpoint: "{azure.arm.endpoint}", credential: emulator, ca_bundle: "{azure.tls.ca_file}",
           max_attempts: 2, retry_backoff: 0, subscriptions: ["{SUB_A}"]{extra}}}
""")
    return config, finding_id


def test_incident_json_states_every_count(azure: AzureEmulators, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = _setup(azure, tmp_path, private_before=True)
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert doc["windows"] == [{"from": iso(T0), "to": iso(T1)}]
    assert doc["estimated_start"]["at"] == iso(at(-2, 10))
    a = doc["access"]
    assert (a["status"], a["sources"]) == ("partial", ["azure-storage-analytics-log"])
    gap = f"no log objects for {(DAY0 + timedelta(days=4)).date()}..{(DAY0 + timedelta(days=6)).date()}"
    assert a["gaps"] == [{"from": iso(DAY0 + timedelta(days=4)), "to": iso(DAY0 + timedelta(days=7)),
                          "reason": gap}]
    assert a["coverage"] == [{"from": iso(T0), "to": iso(DAY0 + timedelta(days=4))},
                             {"from": iso(DAY0 + timedelta(days=7)), "to": iso(T1)}]
    assert (a["requests"], a["external_requests"], a["anonymous_requests"]) == (12, 6, 5)
    assert (a["owner_requests"], a["organisation_requests"]) == (6, 0)
    assert (a["distinct_ips"], a["objects"], a["bytes_sent"]) == (4, 3, 4650)
    assert (a["first"], a["last"]) == (iso(at(-2, 10)), iso(at(2, 12)))
    assert a["top_clients"] == [
        {"ip": "198.51.100.1", "requester": "anonymous", "requests": 3, "bytes_sent": 3500},
        {"ip": "198.51.100.2", "requester": "anonymous", "requests": 1, "bytes_sent": 1000},
        {"ip": "203.0.113.9", "requester": "anonymous", "requests": 1, "bytes_sent": 100},
        {"ip": "192.0.2.50", "requester": "sas", "requests": 1, "bytes_sent": 50},
    ]
    assert a["objects_read"] == [
        {"key": "data/customers.csv", "requests": 3, "bytes_sent": 2100},
        {"key": 'data/report;q1 "v2".pdf', "requests": 1, "bytes_sent": 2000},
        {"key": "data/x.csv", "requests": 1, "bytes_sent": 50},
    ]
    assert (a["lines"], a["skipped_lines"]) == (17, 1)


def test_a_container_public_when_first_seen_may_have_been_public_since_its_last_change(
        azure: AzureEmulators, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The ARM emulator dates every container's lastModifiedTime 2024-05-02: long before the first scan, which
    saw it public. The dossier extends the window back to then, and the years without logs are a gap."""
    config, finding_id = _setup(azure, tmp_path, private_before=False)
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    start = doc["estimated_start"]
    assert start["at"].startswith("2024-05-02") and "ARM lastModifiedTime" in start["evidence"]
    a = doc["access"]
    assert a["status"] == "partial"
    assert a["gaps"][0]["from"] == start["at"]
    assert a["gaps"][0]["reason"].startswith("no log objects for 2024-05-02..")
    assert (a["external_requests"], a["anonymous_requests"]) == (6, 5)


def _entry(when: datetime, op: str, identity: str, key: str, status: int, sent: int, ip: str,
           container: str = "leaky") -> str:
    return json.dumps({"time": when.strftime("%Y-%m-%dT%H:%M:%S.1234567Z"), "category": "StorageRead",
                       "operationName": op, "statusCode": status, "callerIpAddress": f"{ip}:443",
                       "identity": {"type": identity},
                       "uri": f"https://{ACCOUNT}.blob.core.windows.net/{container}/{key}",
                       "properties": {"objectKey": f"/{ACCOUNT}/{container}" + (f"/{key}" if key else ""),
                                      "responseBodySize": sent}})


def test_resource_logs_fill_the_days_without_analytics_logs(azure: AzureEmulators, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    sink = azure.azurite.account_url("cwdtest2")
    config, finding_id = _setup(azure, tmp_path, private_before=True,
                                extra=f', resource_logs: {{blob_endpoint: "{sink}"}}')
    logs = azure.azurite.service_client("cwdtest2").get_container_client("insights-logs-storageread")
    logs.create_container()
    base = (f"resourceId=/SUBSCRIPTIONS/{SUB_A.upper()}/RESOURCEGROUPS/RG-STORAGE/PROVIDERS/MICROSOFT.STORAGE/"
            f"STORAGEACCOUNTS/{ACCOUNT.upper()}/BLOBSERVICES/DEFAULT")
    entries = {
        4: [_entry(at(4, 8), "GetBlob", "Anonymous", "data/customers.csv", 200, 300, "198.51.100.44")],
        5: [_entry(at(5, 8), "GetBlob", "SAS", "data/x.csv", 200, 20, "192.0.2.80")],
        6: [_entry(at(6, 8), "ListBlobs", "AccountKey", "", 200, 10, "10.0.0.1"),
            _entry(at(6, 9), "GetBlob", "Anonymous", "a.csv", 200, 5, "198.51.100.45", container="other"),
            "{broken"],
        1: [_entry(at(1, 8), "GetBlob", "Anonymous", "data/customers.csv", 200, 1000, "198.51.100.46")],
    }
    for day, lines in entries.items():
        when = at(day, 8)
        logs.upload_blob(f"{base}/y={when:%Y}/m={when:%m}/d={when:%d}/h=08/m=00/PT1H.json",
                         ("\n".join(lines) + "\n").encode())
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    assert a["sources"] == ["azure-storage-analytics-log", "azure-monitor-resource-log"]
    assert (a["status"], a["gaps"]) == ("analysed", [])
    assert (a["requests"], a["external_requests"], a["anonymous_requests"], a["owner_requests"]) == (15, 8, 6, 7)
    assert (a["distinct_ips"], a["skipped_lines"], a["bytes_sent"]) == (6, 2, 4970)
