"""Hostile and broken log objects (the second review of issue 12): a truncated gzip object is not silently taken
as a whole day's logs, the rest of an overlong line is never read as a line of its own, a CSV row too large for the
csv module is one skipped line, and timestamps with a zone offset are read in UTC."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.evidence import Reading, conclude
from cloudwatchdog.forensics.model import AccessRecord, AccessStatus, Operation, Principal, TimeSpan
from cloudwatchdog.forensics.stream import CHUNK, MAX_LINE, TruncatedLog, decoded, lines
from cloudwatchdog.providers.aws.access_logs import Principals, ServerLogParser, feed_trail_stream
from cloudwatchdog.providers.azure.access_logs import feed_analytics_log, feed_resource_log, resource_log_record
from cloudwatchdog.providers.gcp.access_logs import AuditPrincipals, audit_record, feed_usage_log
from tests.providers.test_access_log_parsers import AZURE_DOC


def test_a_truncated_gzip_object_raises_after_what_it_held() -> None:
    text = b"".join(b"line %d\n" % i for i in range(50_000))
    packed = gzip.compress(text)
    got: list[bytes] = []
    with pytest.raises(TruncatedLog):
        for line in lines(io.BytesIO(packed[: len(packed) // 2])):
            got.append(line)
    assert got and got[0] == b"line 0" and len(got) < 50_000


def test_a_complete_gzip_object_does_not_raise() -> None:
    assert list(lines(io.BytesIO(gzip.compress(b"a\nb\n")))) == [b"a", b"b"]


def test_the_rest_of_an_overlong_line_is_not_a_line_of_its_own() -> None:
    forged = b"forged record that must not be read"
    body = b"first\n" + b"x" * (2 * MAX_LINE + 10) + forged + b"\nlast\n"
    got = list(lines(io.BytesIO(body)))
    assert got[0] == b"first" and got[-1] == b"last"
    assert not any(forged in line for line in got), "the tail of the overlong line came out as a line"
    assert len(got) == 3


WINDOW = TimeSpan(datetime(2011, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
_USAGE_HEADER = b'"time_micros","c_ip","cs_method","sc_status","sc_bytes","cs_bucket","cs_object"'
_USAGE_ROW = b'"1709287200000000","203.0.113.5","GET","200","12","b","a.txt"'


@pytest.fixture
def csv_limit() -> Iterator[int]:
    """The csv module's field limit is process-wide (data sampling raises it): the tests set it and restore it."""
    before = csv.field_size_limit(100_000)
    yield 100_000
    csv.field_size_limit(before)


def test_a_usage_log_row_too_large_for_csv_is_one_skipped_line(csv_limit: int) -> None:
    agg = Aggregator([WINDOW])
    huge = b'"1709287200000000","203.0.113.5","GET","200","12","b","' + b"k" * 2 * csv_limit + b'"'
    feed_usage_log([_USAGE_HEADER, _USAGE_ROW, huge, _USAGE_ROW], "b", agg)
    c = agg.result()
    assert (c.lines, c.skipped_lines, c.external_requests) == (3, 1, 2)


def test_an_analytics_log_line_too_large_for_csv_is_one_skipped_line(csv_limit: int) -> None:
    agg = Aggregator([WINDOW])
    huge = b'1.0;2011-08-09T18:52:40.9241789Z;GetBlob;"' + b"x" * 2 * csv_limit + b'"'
    feed_analytics_log([huge, AZURE_DOC], "myaccount", "thumbnails", agg)
    c = agg.result()
    assert (c.lines, c.skipped_lines, c.anonymous_requests) == (2, 1, 1)


def test_audit_and_resource_log_times_with_an_offset_are_read_in_utc() -> None:
    entry = {"timestamp": "2024-03-01T12:00:00.123456789+02:00", "protoPayload": {
        "resourceName": "projects/_/buckets/b/objects/a.txt", "methodName": "storage.objects.get",
        "authenticationInfo": {"principalEmail": "m@evil.example"}}}
    record = audit_record(entry, "b", AuditPrincipals("p", []))
    assert record is not None and record.time == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    azure = {"time": "2024-03-01T05:30:00.0000000-04:30", "operationName": "GetBlob", "statusCode": 200,
             "callerIpAddress": "198.51.100.7:443", "identity": {"type": "Anonymous"},
             "properties": {"objectKey": "/acct/box/a.txt", "responseBodySize": 7}}
    found = resource_log_record(azure, "acct", "box")
    assert found is not None and found.time == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def _trail_event(i: int) -> dict[str, object]:
    return {"eventTime": "2024-03-01T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "requestParameters": {"bucketName": "b", "key": f"k{i}"}, "requestID": f"R{i}",
            "userIdentity": {"type": "AWSAccount", "accountId": "ANONYMOUS_PRINCIPAL"},
            "sourceIPAddress": "198.51.100.1", "additionalEventData": {"bytesTransferredOut": 1}}


def _trail_bytes(n: int) -> bytes:
    return json.dumps({"Records": [_trail_event(i) for i in range(n)]}).encode()


def test_a_cloudtrail_file_is_parsed_as_a_stream() -> None:
    """Larger than one read chunk, gzip: every record counted (the file was read a chunk at a time)."""
    body = gzip.compress(_trail_bytes(20_000))
    assert len(_trail_bytes(20_000)) > 3 * CHUNK
    agg = Aggregator([WINDOW])
    feed_trail_stream(decoded(io.BytesIO(body)), "b", Principals("123456789012", ()), agg)
    c = agg.result()
    assert (c.lines, c.skipped_lines, c.anonymous_requests, c.bytes_sent) == (20_000, 0, 20_000, 20_000)


def test_a_cloudtrail_file_that_breaks_off_keeps_its_records_and_counts_one_malformed_line() -> None:
    whole = _trail_bytes(10)
    for text, requests, skipped in ((whole[: len(whole) - 400], 8, 1), (b"\xff\xfe not json", 0, 1),
                                    (b'{"NotRecords": []}', 0, 1), (b'{"Records": []}', 0, 0)):
        agg = Aggregator([WINDOW])
        feed_trail_stream(decoded(io.BytesIO(text)), "b", Principals("123456789012", ()), agg)
        c = agg.result()
        assert (c.anonymous_requests, c.skipped_lines) == (requests, skipped), text[:30]


def test_a_truncated_gzip_cloudtrail_file_raises() -> None:
    packed = gzip.compress(_trail_bytes(5000))
    with pytest.raises(TruncatedLog):
        feed_trail_stream(decoded(io.BytesIO(packed[: len(packed) // 2])), "b", Principals("123456789012", ()),
                          Aggregator([WINDOW]))


def test_a_gap_says_which_source_was_off_or_unreadable() -> None:
    """Server access logs cover the first days, then their listing failed (credentials expired mid-read); the
    CloudTrail source is off: the days without logs say both, not only "no log objects"."""
    start = datetime(2024, 3, 1, 6, tzinfo=UTC)
    reading = Reading(TimeSpan(start, start + timedelta(days=4)), Aggregator([TimeSpan(start, start +
                                                                                        timedelta(days=4))]))
    reading.sources.append("s3-server-access-log")
    reading.covered.update({date(2024, 3, 1), date(2024, 3, 2)})
    reading.unreadable.append("the log bucket logs is unreadable: ExpiredToken")
    reading.off.append("no CloudTrail trail bucket is configured (providers.aws.cloudtrail)")
    found = conclude(reading)
    assert found.status is AccessStatus.PARTIAL and len(found.gaps) == 1
    assert found.gaps[0].reason == ("no log objects for 2024-03-03..2024-03-05; the log bucket logs is unreadable: "
                                    "ExpiredToken; no CloudTrail trail bucket is configured "
                                    "(providers.aws.cloudtrail)")


def test_a_request_of_an_unnamed_principal_before_the_window_is_no_evidence_of_an_earlier_start() -> None:
    """A GCS usage log names no principal: the owner's own read three days before the window proves nothing (not
    counted, not the first external access); an anonymous one does; from a start the provider's evidence gives (a
    creation date), the unnamed one counts as in the window."""
    start = datetime(2024, 3, 10, tzinfo=UTC)
    window = TimeSpan(start, start + timedelta(days=2))
    unnamed = AccessRecord(start - timedelta(days=3), "10.0.0.1", "", Principal.UNKNOWN, Operation.READ, "k", 200, 5)
    plain = Aggregator([window])
    plain.add(unnamed)
    c = plain.result()
    assert (c.external_requests, c.first_external) == (0, None)
    anonymous = dataclasses.replace(unnamed, principal=Principal.ANONYMOUS, time=start - timedelta(days=2))
    plain.add(anonymous)
    assert (plain.result().external_requests, plain.result().first_external) == (1, anonymous.time)
    extended = Aggregator([window], extended_from=start - timedelta(days=5))
    extended.add(unnamed)
    assert (extended.result().external_requests, extended.result().first_external) == (1, None)


def test_a_negative_byte_count_is_a_malformed_line() -> None:
    """bytes_sent is summed: a forged or corrupt negative count would lower it; the line is skipped instead."""
    s3 = (b'79a5 b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57 REST.GET.OBJECT k "GET /b/k HTTP/1.1" 200 - -7 10 '
          b'1 1 "-" "ua" -')
    agg = Aggregator([WINDOW])
    ServerLogParser("b", Principals("123456789012", ()), agg).feed([s3])
    usage = Aggregator([WINDOW])
    feed_usage_log([_USAGE_HEADER, _USAGE_ROW.replace(b'"12"', b'"-12"')], "b", usage)
    azure = Aggregator([WINDOW])
    feed_analytics_log([AZURE_DOC.replace(b";265;100;", b";265;-100;")], "myaccount", "thumbnails", azure)
    entry = {"time": "2024-03-01T10:00:00Z", "operationName": "GetBlob", "statusCode": 200, "callerIpAddress": "x",
             "identity": {"type": "Anonymous"}, "properties": {"objectKey": "/a/c/k", "responseBodySize": -3}}
    resource = Aggregator([WINDOW])
    feed_resource_log([json.dumps(entry).encode()], "a", "c", resource)
    for found in (agg, usage, azure, resource):
        c = found.result()
        assert (c.lines, c.skipped_lines, c.bytes_sent, c.external_requests) == (1, 1, 0, 0)


def test_request_ids_are_kept_only_for_days_without_server_logs_of_their_own() -> None:
    """The ids that stop CloudTrail counting a request twice are kept only for requests of a day that has no log
    objects of its own (the usual midnight crossing of a day that has them costs no memory)."""
    line = (b'79a5 b [06/Feb/2019:23:59:38 +0000] 192.0.2.3 - REQ1 REST.GET.OBJECT k "GET /b/k HTTP/1.1" 200 - 7 10 '
            b'1 1 "-" "ua" -')
    window = TimeSpan(datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    covered: set[date] = set()
    parser = ServerLogParser("b", Principals("123456789012", ()), Aggregator([window]))
    parser.days_read = (covered,)
    parser.delivered = date(2019, 2, 7)
    parser.feed([line])
    assert parser.crossing == {"REQ1"}
    covered.add(date(2019, 2, 6))
    parser.crossing.clear()
    parser.feed([line.replace(b"REQ1", b"REQ2")])
    assert parser.crossing == set()
