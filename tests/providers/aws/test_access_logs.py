"""The S3 server access log and CloudTrail parsers on the documented formats: every field, quoted fields holding
quotes, the older format without the trailing fields, requesters of every kind, malformed lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import Operation, Principal, TimeSpan
from cloudwatchdog.providers.aws.access_logs import Principals, ServerLogParser, feed_trail, trail_record

OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
# The example of the AWS documentation (one line), with every field up to the source region.
DOC_LINE = (
    f'{OWNER_ID} amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {OWNER_ID} 3E57427F3EXAMPLE '
    'REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - '
    's9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 '
    'ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 '
    'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1').encode()
WINDOW = TimeSpan(datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 12, 31, tzinfo=UTC))


def _parser(known: tuple[str, ...] = ("210987654321",), agg: Aggregator | None = None) -> ServerLogParser:
    return ServerLogParser("amzn-s3-demo-bucket1", Principals("123456789012", known), agg or Aggregator([WINDOW]))


def _get(requester: str, *, op: str = "REST.GET.OBJECT", key: str = "photos/2019/08/puppy.jpg", status: str = "200",
         sent: str = "2662992", zone: str = "+0000", tail: str = ' "-" "curl/7.15.1" -') -> bytes:
    return (f'{OWNER_ID} amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 {zone}] 192.0.2.3 {requester} 891CE47D2EXAMPLE '
            f'{op} {key} "GET /amzn-s3-demo-bucket1/{key} HTTP/1.1" {status} - {sent} 3462992 70 10{tail}').encode()


def test_the_documented_line_parses_and_a_versioning_read_is_not_counted() -> None:
    assert _parser().parse(DOC_LINE) is None  # REST.GET.VERSIONING: a configuration read, not a read or list


@pytest.mark.parametrize(("requester", "principal"), [
    ("-", Principal.ANONYMOUS),
    ("arn:aws:iam::123456789012:user/admin", Principal.OWNER),
    ("arn:aws:sts::123456789012:assumed-role/app/i-0abc", Principal.OWNER),
    ("arn:aws:sts::210987654321:assumed-role/etl/session", Principal.ORGANISATION),
    ("arn:aws:iam::999988887777:user/mallory", Principal.EXTERNAL),
    (OWNER_ID, Principal.OWNER),
    ("a" * 64, Principal.UNKNOWN),
    ("svc:logging.s3.amazonaws.com", Principal.UNKNOWN),
])
def test_requesters_are_classified(requester: str, principal: Principal) -> None:
    record = _parser().parse(_get(requester))
    assert record is not None and record.principal is principal and record.requester == requester


def test_fields_of_a_read() -> None:
    record = _parser().parse(_get("-", key="photos/a%20b%22c.jpg", tail=' "-" "agent ""with"" quotes" - x SigV4'))
    assert record is not None
    assert (record.time, record.ip, record.key, record.status, record.bytes_sent, record.operation) == (
        datetime(2019, 2, 6, 0, 0, 38, tzinfo=UTC), "192.0.2.3", 'photos/a b"c.jpg', 200, 2662992, Operation.READ)


def test_older_lines_without_trailing_fields_a_list_and_a_zone() -> None:
    record = _parser().parse(_get("-", op="REST.GET.BUCKET", key="-", sent="-", tail=""))
    assert record is not None and record.operation is Operation.LIST and record.key == "" and record.bytes_sent == 0
    shifted = _parser().parse(_get("-", zone="+0200"))
    assert shifted is not None and shifted.time == datetime(2019, 2, 5, 22, 0, 38, tzinfo=UTC)


@pytest.mark.parametrize("status", ["403", "404", "304"])
def test_failed_requests_and_writes_are_not_counted(status: str) -> None:
    assert _parser().parse(_get("-", status=status)) is None
    assert _parser().parse(_get("-", op="REST.PUT.OBJECT")) is None


@pytest.mark.parametrize("line", [
    b"garbage", b"", b'a b c "d" e', _get("-", status="OK"), _get("-").replace(b"[06/Feb", b"[06/Fob"),
    _get("-", sent="lots"), _get("-").replace(b"00:00:38", b"0:00:38"),
])
def test_malformed_lines_are_counted_and_skipped(line: bytes) -> None:
    agg = Aggregator([WINDOW])
    _parser(agg=agg).feed([line, _get("-")])
    counts = agg.result()
    assert counts.external_requests == 1
    assert counts.skipped_lines == (1 if line.strip() else 0)


def test_lines_of_another_bucket_are_ignored_not_malformed() -> None:
    agg = Aggregator([WINDOW])
    _parser(agg=agg).feed([_get("-").replace(b"amzn-s3-demo-bucket1 [", b"another-bucket [")])
    counts = agg.result()
    assert (counts.lines, counts.skipped_lines, counts.requests) == (1, 0, 0)


def _event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "eventTime": "2019-02-06T00:00:38Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "sourceIPAddress": "198.51.100.4", "userIdentity": {"type": "AWSAccount", "accountId": "ANONYMOUS_PRINCIPAL"},
        "requestParameters": {"bucketName": "amzn-s3-demo-bucket1", "key": "a.csv"},
        "additionalEventData": {"bytesTransferredOut": 1234.0}}
    base.update(fields)
    return base


def test_cloudtrail_records() -> None:
    principals = Principals("123456789012", ())
    anon = trail_record(_event(), "amzn-s3-demo-bucket1", principals)
    assert anon is not None and (anon.principal, anon.bytes_sent, anon.key, anon.status) == (
        Principal.ANONYMOUS, 1234, "a.csv", 200)
    other = trail_record(_event(userIdentity={"type": "AWSAccount", "accountId": "999988887777",
                                              "arn": "arn:aws:iam::999988887777:user/x"},
                                eventName="ListObjectsV2"), "amzn-s3-demo-bucket1", principals)
    assert other is not None and other.principal is Principal.EXTERNAL and other.operation is Operation.LIST
    failed = trail_record(_event(errorCode="AccessDenied"), "amzn-s3-demo-bucket1", principals)
    assert failed is not None and failed.status == 400
    assert trail_record(_event(requestParameters={"bucketName": "other"}), "amzn-s3-demo-bucket1", principals) is None
    assert trail_record(_event(eventSource="ec2.amazonaws.com"), "amzn-s3-demo-bucket1", principals) is None


def test_cloudtrail_file_with_bad_records() -> None:
    agg = Aggregator([WINDOW])
    feed_trail({"Records": [_event(), "not a record", _event(eventTime="yesterday"), _event()]},
               "amzn-s3-demo-bucket1", Principals("123456789012", ()), agg)
    counts = agg.result()
    assert (counts.lines, counts.skipped_lines, counts.anonymous_requests) == (4, 2, 2)
    agg = Aggregator([WINDOW])
    feed_trail(["not", "a", "trail"], "amzn-s3-demo-bucket1", Principals("123456789012", ()), agg)
    assert agg.result().skipped_lines == 1
