"""`cloudwatchdog incident` on AWS, end to end: the store holds a public bucket's finding (public for 9 days, then
fixed); moto holds the bucket, its server access logging configuration and log objects written here in the
documented format (malformed lines, lines outside the window, the owner's requests, another account's, anonymous
reads from several IPs, a day-range with no logs, one gzip object, another bucket's lines under the same prefix);
the CLI's JSON must state every count."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from state.helpers import bucket, public_finding, scan

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session
from cloudwatchdog.model import Level
from cloudwatchdog.state.store import Store

OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
DAY0 = (datetime.now(UTC) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
T0 = DAY0 + timedelta(hours=6)  # the first scan that saw it public
T1 = T0 + timedelta(days=9)  # the scan that saw it fixed
OTHER_ARN = "arn:aws:iam::999988887777:user/mallory"


def _line(when: datetime, ip: str, requester: str, op: str, key: str, status: int, sent: int,
          bucket_name: str = "leaky") -> str:
    stamp = when.strftime("[%d/%b/%Y:%H:%M:%S +0000]")
    uri = f"GET /{bucket_name}/{key} HTTP/1.1" if key != "-" else f"GET /{bucket_name}?list-type=2 HTTP/1.1"
    return (f"{OWNER_ID} {bucket_name} {stamp} {ip} {requester} 3E57427F3EXAMPLE {op} {key} \"{uri}\" {status} "
            f"{'-' if status < 300 else 'AccessDenied'} {sent if sent else '-'} {sent} 70 10 \"-\" "
            f"\"curl/8.5 \"\"quoted\"\"\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV= "
            f"SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader {bucket_name}.s3.us-west-1.amazonaws.com TLSv1.2 - -")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour, minutes=minute)


def _logs() -> dict[str, bytes]:
    """Log objects by key (SimplePrefix "leaky/"): named by delivery time, a few minutes after their lines."""
    objects: dict[str, list[str]] = {}

    def put(when: datetime, *lines: str) -> None:
        key = f"leaky/{when + timedelta(minutes=5):%Y-%m-%d-%H-%M-%S}-{len(objects):016X}"
        objects[key] = list(lines)

    owner = f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/admin"
    put(_at(-2, 10), _line(_at(-2, 10), "203.0.113.9", "-", "REST.GET.OBJECT", "data/customers.csv", 200, 100))
    put(_at(0, 7), _line(_at(0, 7), "10.0.0.1", owner, "REST.GET.OBJECT", "data/customers.csv", 200, 10))
    put(_at(1, 9),
        _line(_at(1, 9), "198.51.100.1", "-", "REST.GET.OBJECT", "data/customers.csv", 200, 1000),
        _line(_at(1, 9, 1), "198.51.100.2", "-", "REST.GET.OBJECT", "data/customers.csv", 200, 1000),
        _line(_at(1, 9, 2), "198.51.100.1", "-", "REST.GET.BUCKET", "-", 200, 500),
        _line(_at(1, 9, 3), "198.51.100.3", "-", "REST.GET.OBJECT", "data/secret.csv", 403, 0),
        _line(_at(1, 9, 4), "198.51.100.3", "-", "REST.HEAD.OBJECT", "data/secret.csv", 200, 0),
        _line(_at(1, 9, 5), "192.0.2.50", OTHER_ARN, "REST.GET.OBJECT", "data/x.csv", 200, 50),
        _line(_at(1, 9, 6), "10.0.0.1", OWNER_ID, "REST.GET.OBJECT", "data/x.csv", 200, 50),
        _line(_at(1, 9, 7), "198.51.100.9", "-", "REST.GET.OBJECT", "data/x.csv", 200, 50, bucket_name="other"),
        "this line is not an access log line",
        _line(_at(1, 9, 8), "198.51.100.9", "-", "REST.PUT.OBJECT", "upload.bin", 200, 0))
    put(_at(3, 3), _line(_at(3, 3), "10.0.0.1", owner, "REST.GET.BUCKET", "-", 200, 10))
    for day in (7, 8, 9):
        put(_at(day, 3), _line(_at(day, 3), "10.0.0.1", owner, "REST.GET.OBJECT", "data/customers.csv", 200, 10),
            *([_line(_at(9, 10), "198.51.100.7", "-", "REST.GET.OBJECT", "data/late.csv", 200, 77)]
              if day == 9 else []))  # after the fix: outside the window
    out = {k: ("\n".join(v) + "\n").encode() for k, v in objects.items()}
    day2 = f"leaky/{_at(2, 12, 5):%Y-%m-%d-%H-%M-%S}-GZIPPED"
    out[day2] = gzip.compress((_line(_at(2, 12), "198.51.100.1", "-", "REST.GET.OBJECT", "data/report%20q1.pdf",
                                     206, 2000) + "\n").encode())
    return out


@pytest.fixture
def incident_setup(moto: MotoServer, tmp_path: Path) -> tuple[Path, str]:
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="access-logs")
    s3.create_bucket(Bucket="leaky")
    s3.put_bucket_acl(Bucket="access-logs", GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
                      GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery")
    s3.put_bucket_logging(Bucket="leaky", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "access-logs", "TargetPrefix": "leaky/"}})
    for key, body in _logs().items():
        s3.put_object(Bucket="access-logs", Key=key, Body=body)
    state = f"sqlite:///{tmp_path / 'state.db'}"
    leaky = bucket("leaky", account=DEFAULT_ACCOUNT)
    with Store.open(state) as store:
        store.record_scan(scan([leaky], [public_finding(leaky)], when=T0, accounts=[DEFAULT_ACCOUNT]), now=T0)
        store.record_scan(scan([bucket("leaky", Level.PRIVATE, account=DEFAULT_ACCOUNT)], [], when=T1,
                               accounts=[DEFAULT_ACCOUNT]), now=T1)
    config = tmp_path / "config.yaml"
    config.write_text(f"""state: {{url: "{state}"}}
providers:
  aws: {{endpoint_url: "{moto.endpoint}", credential: emulator, regions: [us-east-1]}}
""")
    return config, public_finding(leaky).id


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_incident_json_states_every_count(incident_setup: tuple[Path, str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = incident_setup
    assert main(["incident", finding_id[:10], "-c", str(config), "--format", "json", "--output", "-"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert doc["finding"]["id"] == finding_id and doc["finding"]["resource_name"] == "leaky"
    assert doc["resource"]["uid"] == "arn:aws:s3:::leaky"
    assert doc["windows"] == [{"from": _iso(T0), "to": _iso(T1)}]
    assert doc["estimated_start"]["at"] == _iso(_at(-2, 10))
    assert "first successful external read or list" in doc["estimated_start"]["evidence"]
    assert doc["data"] is None
    a = doc["access"]
    assert a["status"] == "partial"
    assert a["sources"] == ["s3-server-access-log"]
    gap = (f"no log objects for {(DAY0 + timedelta(days=4)).date()}..{(DAY0 + timedelta(days=6)).date()}; "
           "no CloudTrail trail bucket is configured (providers.aws.cloudtrail)")
    assert a["gaps"] == [{"from": _iso(DAY0 + timedelta(days=4)), "to": _iso(DAY0 + timedelta(days=7)),
                          "reason": gap}]
    assert a["coverage"] == [{"from": _iso(T0), "to": _iso(DAY0 + timedelta(days=4))},
                             {"from": _iso(DAY0 + timedelta(days=7)), "to": _iso(T1)}]
    assert (a["requests"], a["external_requests"], a["anonymous_requests"]) == (12, 6, 5)
    assert (a["owner_requests"], a["organisation_requests"]) == (6, 0)
    assert (a["distinct_ips"], a["objects"], a["bytes_sent"]) == (4, 3, 4650)
    assert (a["first"], a["last"]) == (_iso(_at(-2, 10)), _iso(_at(2, 12)))
    assert a["top_clients"] == [
        {"ip": "198.51.100.1", "requester": "-", "requests": 3, "bytes_sent": 3500},
        {"ip": "198.51.100.2", "requester": "-", "requests": 1, "bytes_sent": 1000},
        {"ip": "203.0.113.9", "requester": "-", "requests": 1, "bytes_sent": 100},
        {"ip": "192.0.2.50", "requester": OTHER_ARN, "requests": 1, "bytes_sent": 50},
    ]
    assert a["objects_read"] == [
        {"key": "data/customers.csv", "requests": 3, "bytes_sent": 2100},
        {"key": "data/report q1.pdf", "requests": 1, "bytes_sent": 2000},
        {"key": "data/x.csv", "requests": 1, "bytes_sent": 50},
    ]
    assert a["skipped_lines"] == 1 and a["lines"] == 18


def test_incident_writes_every_format_and_escapes_cloud_text(incident_setup: tuple[Path, str],
                                                              tmp_path: Path) -> None:
    config, finding_id = incident_setup
    out = tmp_path / "out"
    assert main(["incident", finding_id, "-c", str(config), "--output", str(out)]) == 0
    html = (out / f"incident-{finding_id}.html").read_text()
    assert "cannot be established: no log objects for" in html and "198.51.100.1" in html
    md = (out / f"incident-{finding_id}.md").read_text()
    assert "data/report q1.pdf" in md and "**partial**" in md
    assert json.loads((out / f"incident-{finding_id}.json").read_text())["access"]["external_requests"] == 6


def test_logging_off_is_no_logs_never_no_access(incident_setup: tuple[Path, str], moto: MotoServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = incident_setup
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.put_bucket_logging(Bucket="leaky", BucketLoggingStatus={})
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    assert a["status"] == "no_logs" and a["sources"] == [] and a["coverage"] == []
    assert len(a["gaps"]) == 1 and "server access logging is off" in a["gaps"][0]["reason"]
    assert a["gaps"][0]["from"] == _iso(T0) and a["gaps"][0]["to"] == _iso(T1)


def test_unknown_finding_is_a_usage_error(incident_setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = incident_setup
    assert main(["incident", "ffffffff", "-c", str(config), "--format", "json", "--output", "-"]) == 2
    assert "no finding" in capsys.readouterr().err


def _trail(*records: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps({"Records": list(records)}).encode())


def _event(when: datetime, name: str, account: str, ip: str, key: str | None, sent: int = 0,
           bucket_name: str = "leaky", **extra: Any) -> dict[str, Any]:
    ident = ({"type": "AWSAccount", "accountId": "ANONYMOUS_PRINCIPAL"} if account == "anonymous" else
             {"type": "IAMUser", "accountId": account, "arn": f"arn:aws:iam::{account}:user/x"})
    params: dict[str, Any] = {"bucketName": bucket_name, **({"key": key} if key else {})}
    return {"eventVersion": "1.09", "eventTime": _iso(when), "eventSource": "s3.amazonaws.com", "eventName": name,
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "userIdentity": ident, "requestParameters": params,
            "additionalEventData": {"bytesTransferredOut": sent}, **extra}


def test_cloudtrail_data_events_fill_the_days_without_server_logs(incident_setup: tuple[Path, str], moto: MotoServer,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = incident_setup
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="trail-logs")
    base = f"org/AWSLogs/{DEFAULT_ACCOUNT}/CloudTrail/us-east-1"
    files = {
        4: _trail(_event(_at(4, 8), "GetObject", "anonymous", "198.51.100.4", "data/customers.csv", 300)),
        5: _trail(_event(_at(5, 8), "ListObjectsV2", "999988887777", "192.0.2.60", None)),
        6: _trail(_event(_at(6, 8), "GetObject", "anonymous", "198.51.100.5", "data/secret.csv",
                         errorCode="AccessDenied"),
                  _event(_at(6, 9), "GetObject", "anonymous", "198.51.100.5", "a", 5, bucket_name="other")),
        1: _trail(_event(_at(1, 9), "GetObject", "anonymous", "198.51.100.1", "data/customers.csv", 1000)),
        # The day the store first saw it public (the server logs have it): the change that opened it, at 05:00.
        0: _trail(_event(_at(0, 5), "PutBucketPolicy", DEFAULT_ACCOUNT, "10.0.0.1", None),
                  _event(_at(0, 4), "PutBucketPolicy", DEFAULT_ACCOUNT, "10.0.0.1", None, errorCode="AccessDenied"),
                  _event(_at(0, 5), "GetObject", "anonymous", "198.51.100.1", "data/customers.csv", 1000)),
    }
    for day, body in files.items():
        when = _at(day, 8)
        s3.put_object(Bucket="trail-logs", Key=f"{base}/{when:%Y/%m/%d}/{DEFAULT_ACCOUNT}_CloudTrail_us-east-1_"
                                               f"{when:%Y%m%dT%H%MZ}_abc.json.gz", Body=body)
    config.write_text(config.read_text().replace("regions: [us-east-1]",
                                                 "regions: [us-east-1], cloudtrail: {bucket: trail-logs, prefix: org}"))
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["estimated_start"]["at"] == _iso(_at(-2, 10)), "the earliest evidence"
    change = doc["start_evidence"][1]
    assert change["at"] == _iso(_at(0, 5)) and change["evidence"].startswith(
        f"PutBucketPolicy on the bucket by arn:aws:iam::{DEFAULT_ACCOUNT}:user/x at ")
    a = doc["access"]
    assert a["sources"] == ["s3-server-access-log", "cloudtrail-data-events"]
    assert (a["status"], a["gaps"]) == ("analysed", [])
    assert (a["external_requests"], a["anonymous_requests"], a["distinct_ips"]) == (8, 6, 6)
    assert (a["objects"], a["bytes_sent"]) == (3, 4950)
    assert a["objects_read"][0] == {"key": "data/customers.csv", "requests": 4, "bytes_sent": 2400}


def test_data_from_sampling_when_on_and_an_unconfigured_provider(incident_setup: tuple[Path, str], moto: MotoServer,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = incident_setup
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    rows = "".join(f"Name {i},user{i}@example.co.jp\n" for i in range(40))
    s3.put_object(Bucket="leaky", Key="data/customers.csv", Body=f"name,email\n{rows}".encode())
    text = config.read_text()
    config.write_text(text + "data_sampling: {enabled: true}\n")
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["status"] == "sampled" and "email" in [c["class"] for c in data["classes"]]
    assert "user1@example.co.jp" not in json.dumps(data), "masked examples only"
    config.write_text(text.replace("providers:\n  aws:", "providers:\n  gcp: {enabled: false}\n  aws:")
                      .replace("credential: emulator,", "credential: emulator, enabled: false,"))
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    assert a["status"] == "unknown" and "providers.aws is not configured" in a["gaps"][0]["reason"]


def test_an_unreadable_log_bucket_is_unknown(incident_setup: tuple[Path, str], moto: MotoServer,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config, finding_id = incident_setup
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    for key in _logs():
        s3.delete_object(Bucket="access-logs", Key=key)
    s3.delete_bucket(Bucket="access-logs")
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    assert (a["status"], a["coverage"], a["external_requests"]) == ("unknown", [], 0)
    assert "the log bucket access-logs is unreadable: NoSuchBucket" in a["gaps"][0]["reason"]


def test_a_request_near_midnight_in_both_sources_is_counted_once(incident_setup: tuple[Path, str],
                                                                 moto: MotoServer,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A server log object delivered after midnight (day 5) holds a request of the day before (day 4, which has no
    server logs: CloudTrail covers it, and has the same request); a CloudTrail file of day 5 (server logs) holds an
    event of day 4 that only CloudTrail saw. Each request counts once."""
    config, finding_id = incident_setup
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    crossing = _line(_at(4, 23, 55), "198.51.100.44", "-", "REST.GET.OBJECT", "data/midnight.csv", 200, 7)
    s3.put_object(Bucket="access-logs", Key=f"leaky/{_at(5, 0, 10):%Y-%m-%d-%H-%M-%S}-MIDNIGHT",
                  Body=(crossing.replace("3E57427F3EXAMPLE", "MIDNIGHTREQ1") + "\n").encode())
    s3.create_bucket(Bucket="trail-logs")
    base = f"AWSLogs/{DEFAULT_ACCOUNT}/CloudTrail/us-east-1"
    files = {
        4: _trail(_event(_at(4, 23, 55), "GetObject", "anonymous", "198.51.100.44", "data/midnight.csv", 7,
                         requestID="MIDNIGHTREQ1")),
        5: _trail(_event(_at(4, 23, 58), "GetObject", "anonymous", "198.51.100.45", "data/late.csv", 9,
                         requestID="MIDNIGHTREQ2")),
    }
    for day, body in files.items():
        s3.put_object(Bucket="trail-logs", Key=f"{base}/{_at(day, 0):%Y/%m/%d}/{DEFAULT_ACCOUNT}_CloudTrail_us-east-1_"
                                               f"{_at(day, 0, 5):%Y%m%dT%H%MZ}_x.json.gz", Body=body)
    config.write_text(config.read_text().replace("regions: [us-east-1]",
                                                 "regions: [us-east-1], cloudtrail: {bucket: trail-logs}"))
    assert main(["incident", finding_id, "-c", str(config), "--format", "json", "--output", "-"]) == 0
    a = json.loads(capsys.readouterr().out)["access"]
    reads = {o["key"]: o["requests"] for o in a["objects_read"]}
    assert reads["data/midnight.csv"] == 1, "counted once, not by both sources"
    assert reads["data/late.csv"] == 1, "the event of day 4 in day 5's CloudTrail file is counted"
    assert (a["external_requests"], a["anonymous_requests"]) == (8, 7)


class _Partitioned:
    """moto's S3 (the log objects, listings and reads are moto's), with the PartitionedPrefix key format on
    GetBucketLogging's answer, which moto does not keep."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_bucket_logging(self, Bucket: str) -> dict[str, Any]:
        found: dict[str, Any] = self._client.get_bucket_logging(Bucket=Bucket)
        found["LoggingEnabled"]["TargetObjectKeyFormat"] = {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}
        return found


def test_partitioned_keys_are_read_only_from_the_look_back(moto: MotoServer) -> None:
    """PartitionedPrefix keys are listed a month at a time: an object of that month from before the look-back (a
    week before the window) is not read, so its anonymous read is neither counted nor an earlier start; one in the
    window is."""
    from cloudwatchdog.forensics.model import AccessTarget, TimeSpan
    from cloudwatchdog.providers.aws.access import aws_access_evidence
    from cloudwatchdog.providers.aws.settings import AwsProvider

    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="part-logs")
    s3.create_bucket(Bucket="parted")
    s3.put_bucket_acl(Bucket="part-logs", GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
                      GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery")
    s3.put_bucket_logging(Bucket="parted", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "part-logs", "TargetPrefix": "p/"}})
    too_early = T0 - timedelta(days=7, hours=1)  # the same day as the look-back's start, an hour before it
    for when, ip in ((too_early, "203.0.113.66"), (_at(1, 9), "198.51.100.1")):
        key = f"p/{DEFAULT_ACCOUNT}/us-east-1/parted/{when:%Y/%m/%d}/{when:%Y-%m-%d-%H-%M-%S}-0000000000000001"
        s3.put_object(Bucket="part-logs", Key=key, Body=(_line(when - timedelta(minutes=5), ip, "-", "REST.GET.OBJECT",
                                                               "a.csv", 200, 10, bucket_name="parted") + "\n").encode())
    target = AccessTarget(uid="arn:aws:s3:::parted", provider="aws", account=DEFAULT_ACCOUNT, region="us-east-1",
                          type="aws.s3.bucket", name="parted", first_seen=T0)
    found = aws_access_evidence(AwsProvider(endpoint_url=moto.endpoint, credential="emulator"), target,
                                [TimeSpan(T0, T1)], client=_Partitioned(s3))
    c = found.counts
    assert (c.external_requests, c.lines, c.first_external) == (1, 1, _at(1, 8, 55))
    assert [t.ip for t in c.top_clients] == ["198.51.100.1"]
