"""`cloudwatchdog incident` on Google Cloud, end to end: the bucket's logging configuration and its usage logs (CSV,
written here in the documented format) in gcp-storage-emulator; the CLI's JSON must state every count. A usage log
names no principal: every successful read or list is external (unknown), and the dossier says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.gcs import PROD

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import Exposure, Level, Resource
from forensics.helpers import DAY0, T0, T1, at, iso, private, record_history

HEADER = ('"time_micros","c_ip","c_ip_type","c_ip_region","cs_method","cs_uri","sc_status","cs_bytes","sc_bytes",'
          '"time_taken_micros","cs_host","cs_referer","cs_user_agent","s_request_id","cs_operation","cs_bucket",'
          '"cs_object"')


def _row(when: datetime, ip: str, method: str, op: str, obj: str, status: int, sent: int,
         bucket: str = "leaky") -> str:
    micros = int(when.timestamp()) * 1_000_000 + 123
    uri = f"/storage/v1/b/{bucket}/o/{obj}" if obj else f"/storage/v1/b/{bucket}/o"
    return (f'"{micros}","{ip}","1","","{method}","{uri}","{status}","0","{sent}","4000","storage.googleapis.com",'
            f'"","curl/8.5, ""quoted""","AA1234","{op}","{bucket}","{obj}"')


def _logs() -> dict[str, str]:
    objects: dict[str, list[str]] = {}

    def put(when: datetime, *rows: str) -> None:
        objects[f"leaky_usage_{when + timedelta(hours=1):%Y_%m_%d_%H_%M_%S}_{len(objects):04d}_v0"] = list(rows)

    put(at(-2, 10), _row(at(-2, 10), "203.0.113.9", "GET", "GET_Object", "data/customers.csv", 200, 100))
    put(at(0, 7), _row(at(0, 7), "10.0.0.1", "GET", "GET_Object", "data/customers.csv", 200, 10))
    put(at(1, 9),
        _row(at(1, 9), "198.51.100.1", "GET", "GET_Object", "data/customers.csv", 200, 1000),
        _row(at(1, 9, 1), "198.51.100.2", "GET", "GET_Object", "data/customers.csv", 200, 1000),
        _row(at(1, 9, 2), "198.51.100.1", "GET", "GET_Bucket", "", 200, 500),
        _row(at(1, 9, 3), "198.51.100.3", "GET", "GET_Object", "data/secret.csv", 403, 0),
        _row(at(1, 9, 4), "198.51.100.9", "PUT", "PUT_Object", "upload.bin", 200, 0),
        _row(at(1, 9, 5), "198.51.100.9", "GET", "GET_Object", "x.csv", 200, 50, bucket="other"),
        '"1","2"')
    put(at(2, 12), _row(at(2, 12), "198.51.100.1", "GET", "GET_Object", "data/report q1.pdf", 206, 2000))
    put(at(3, 3), _row(at(3, 3), "10.0.0.1", "GET", "GET_Bucket", "", 200, 10))
    for day in (7, 8, 9):
        put(at(day, 3), _row(at(day, 3), "10.0.0.1", "GET", "GET_Object", "data/customers.csv", 200, 10),
            *([_row(at(9, 10), "198.51.100.7", "GET", "GET_Object", "data/late.csv", 200, 77)] if day == 9 else []))
    return {k: "\n".join([HEADER, *v]) + "\n" for k, v in objects.items()}


def _setup(gcs: GcsEmulator, gcs_client: Callable[..., Any], tmp_path: Path, extra: str = "") -> tuple[Path, str]:
    client = gcs_client()
    logs = client.create_bucket("usage-logs")
    leaky = client.create_bucket("leaky")
    leaky.enable_logging("usage-logs", object_prefix="leaky")
    leaky.patch()
    for name, text in _logs().items():
        logs.blob(name).upload_from_string(text, content_type="text/csv")
    state = f"sqlite:///{tmp_path / 'state.db'}"
    public = Resource(uid="//storage.googleapis.com/projects/_/buckets/leaky", provider="gcp", account=PROD,
                      region="US", type="gcp.storage.bucket", name="leaky",
                      exposure=Exposure(level=Level.PUBLIC, read=True))
    finding_id = record_history(state, public, private(public))
    config = tmp_path / "config.yaml"
    config.write_text(f"""state: {{url: "{state}"}}
providers:
  gcp: {{credential: anonymous, project_iam: false, projects: [{{id: {PROD}, endpoint_url: "{gcs.endpoint}"}}]{extra}}}
""")
    return config, finding_id


def test_incident_json_states_every_count(gcs: GcsEmulator, gcs_client: Callable[..., Any], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = _setup(gcs, gcs_client, tmp_path)
    assert main(["incident", finding_id[:8], "-c", str(config), "--format", "json", "--output", "-"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert doc["windows"] == [{"from": iso(T0), "to": iso(T1)}]
    # The usage log's read two days before the window names no principal (it may be the owner's): no evidence of an
    # earlier start, not counted.
    assert doc["estimated_start"] is None
    a = doc["access"]
    assert (a["status"], a["sources"]) == ("partial", ["gcs-usage-log"])
    gap = f"no log objects for {(DAY0 + timedelta(days=4)).date()}..{(DAY0 + timedelta(days=6)).date()}"
    assert a["gaps"] == [{"from": iso(DAY0 + timedelta(days=4)), "to": iso(DAY0 + timedelta(days=7)),
                          "reason": gap}]
    assert a["coverage"] == [{"from": iso(T0), "to": iso(DAY0 + timedelta(days=4))},
                             {"from": iso(DAY0 + timedelta(days=7)), "to": iso(T1)}]
    assert (a["requests"], a["external_requests"], a["anonymous_requests"]) == (9, 9, 0)
    assert (a["owner_requests"], a["organisation_requests"]) == (0, 0)
    assert (a["distinct_ips"], a["objects"], a["bytes_sent"]) == (3, 2, 4550)
    assert (a["first"], a["last"]) == (iso(at(0, 7)), iso(at(9, 3)))
    assert a["top_clients"] == [
        {"ip": "10.0.0.1", "requester": "", "requests": 5, "bytes_sent": 50},
        {"ip": "198.51.100.1", "requester": "", "requests": 3, "bytes_sent": 3500},
        {"ip": "198.51.100.2", "requester": "", "requests": 1, "bytes_sent": 1000},
    ]
    assert a["objects_read"] == [{"key": "data/customers.csv", "requests": 6, "bytes_sent": 2040},
                                 {"key": "data/report q1.pdf", "requests": 1, "bytes_sent": 2000}]
    assert (a["lines"], a["skipped_lines"]) == (15, 1)
    assert any("names no principal" in n for n in a["notes"])


def _entry(when: datetime, email: str, method: str, key: str | None, ip: str, code: int = 0) -> str:
    resource = "projects/_/buckets/leaky" + (f"/objects/{key}" if key else "")
    return json.dumps({"logName": f"projects/{PROD}/logs/cloudaudit.googleapis.com%2Fdata_access",
                       "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.123456Z"),
                       "resource": {"type": "gcs_bucket", "labels": {"bucket_name": "leaky"}},
                       "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                                        "status": {"code": code} if code else {},
                                        "authenticationInfo": {"principalEmail": email},
                                        "requestMetadata": {"callerIp": ip}, "methodName": method,
                                        "resourceName": resource}})


def test_audit_logs_fill_the_days_without_usage_logs(gcs: GcsEmulator, gcs_client: Callable[..., Any],
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = _setup(gcs, gcs_client, tmp_path, ", organization_domains: [velora.example], "
                                                           "audit_logs: {bucket: audit-sink, prefix: org}")
    sink = gcs_client().create_bucket("audit-sink")
    entries = {
        4: [_entry(at(4, 8), "mallory@evil.example", "storage.objects.get", "data/customers.csv", "192.0.2.70")],
        5: [_entry(at(5, 8), "alice@velora.example", "storage.objects.list", None, "10.1.0.1")],
        6: [_entry(at(6, 8), f"etl@{PROD}.iam.gserviceaccount.com", "storage.objects.get", "a.csv", "10.1.0.2"),
            _entry(at(6, 9), "mallory@evil.example", "storage.objects.get", "data/secret.csv", "192.0.2.70", 7),
            "{not json"],
        1: [_entry(at(1, 8), "mallory@evil.example", "storage.objects.get", "data/customers.csv", "192.0.2.71")],
    }
    for day, lines in entries.items():
        when = at(day, 8)
        sink.blob(f"org/cloudaudit.googleapis.com/data_access/{when:%Y/%m/%d}/08:00:00_08:59:59_S0.json"
                  ).upload_from_string("\n".join(lines) + "\n")
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    assert a["sources"] == ["gcs-usage-log", "gcp-data-access-audit-log"]
    assert (a["status"], a["gaps"]) == ("analysed", [])
    assert (a["requests"], a["external_requests"], a["owner_requests"], a["organisation_requests"]) == (12, 10, 1, 1)
    assert (a["distinct_ips"], a["skipped_lines"]) == (4, 2)
    assert {"ip": "192.0.2.70", "requester": "mallory@evil.example", "requests": 1, "bytes_sent": 0} in \
        a["top_clients"]
    assert any("never record allUsers" in n for n in a["notes"])
