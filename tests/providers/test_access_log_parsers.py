"""The Google Cloud and Azure access log parsers on their documented formats, beside the end-to-end tests: the
documentation's own example lines, old and new time formats, IPv6 callers, operations without a name, headers
missing or reordered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import Operation, Principal, TimeSpan
from cloudwatchdog.providers.azure.access_logs import feed_analytics_log, feed_resource_log, parse_time, principal_of
from cloudwatchdog.providers.gcp.access_logs import AuditPrincipals, feed_usage_log, operation_of

WINDOW = TimeSpan(datetime(2011, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
# The example of the Storage Analytics log format documentation (version 1.0, 30 fields, no port on the IP).
AZURE_DOC = (b'1.0;2011-08-09T18:52:40.9241789Z;GetBlob;AnonymousSuccess;200;18;10;anonymous;;myaccount;blob;'
             b'"https://myaccount.blob.core.windows.net/thumbnails/lake.jpg?timeout=30000";"/myaccount/thumbnails/'
             b'lake.jpg";a84aa705-8a85-48c5-b064-b43bd22979c1;0;123.100.2.10;2009-09-19;252;0;265;100;0;;;'
             b'"0x8CE1B6EA95033D5";Tuesday, 09-Aug-11 18:52:40 GMT;;;;"8/9/2011 6:52:40 PM '
             b'ba98eb12-700b-4d53-9230-33a3330571fc"')


def test_azure_documented_line() -> None:
    agg = Aggregator([WINDOW])
    feed_analytics_log([AZURE_DOC, b"", b"1.0;too;short"], "myaccount", "thumbnails", agg)
    c = agg.result()
    assert (c.lines, c.skipped_lines, c.anonymous_requests, c.bytes_sent) == (2, 1, 1, 100)
    assert c.first == datetime(2011, 8, 9, 18, 52, 40, tzinfo=UTC)
    assert [(t.ip, t.requester) for t in c.top_clients] == [("123.100.2.10", "anonymous")]
    assert [o.key for o in c.objects_read] == ["lake.jpg"]


def test_azure_times_principals_and_ipv6() -> None:
    assert parse_time("Tuesday, 09-Aug-11 18:52:40 GMT") == datetime(2011, 8, 9, 18, 52, 40, tzinfo=UTC)
    assert [principal_of(a) for a in ("anonymous", "authenticated", "AccountKey", "sas", "OAuth")] == [
        Principal.ANONYMOUS, Principal.OWNER, Principal.OWNER, Principal.UNKNOWN, Principal.UNKNOWN]
    agg = Aggregator([WINDOW])
    entry = {"time": "2024-03-01T10:00:00.0000000Z", "operationName": "ListBlobs", "statusCode": 200,
             "callerIpAddress": "[2001:db8::1]:443", "identity": {"type": "Anonymous"},
             "properties": {"objectKey": "/acct/box", "responseBodySize": 7}}
    feed_resource_log([json.dumps(entry).encode(), b"[1, 2]", b"{}"], "acct", "box", agg)
    c = agg.result()
    assert (c.lines, c.skipped_lines, c.anonymous_requests) == (3, 2, 1)
    assert c.top_clients[0].ip == "2001:db8::1"


def test_gcp_usage_log_columns_by_header_and_operation_fallback() -> None:
    assert operation_of("", "GET", "a.txt") is Operation.READ and operation_of("", "GET", "") is Operation.LIST
    assert operation_of("PUT_Object", "PUT", "a") is Operation.WRITE
    assert operation_of("GET_Object_Metadata", "GET", "a") is Operation.OTHER
    reordered = [b'"cs_object","cs_bucket","sc_bytes","sc_status","cs_method","c_ip","time_micros"',
                 b'"a.txt","b","12","200","GET","203.0.113.5","1709287200000000"',
                 b'"a.txt","b","12","200","GET","203.0.113.5","not a time"']
    agg = Aggregator([WINDOW])
    feed_usage_log(reordered, "b", agg)
    c = agg.result()
    assert (c.external_requests, c.bytes_sent, c.skipped_lines) == (1, 12, 1)
    assert c.first == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    headless = Aggregator([WINDOW])
    feed_usage_log([b'"1","2"', b'"3","4"'], "b", headless)
    assert (headless.result().lines, headless.result().skipped_lines) == (1, 1)


def test_gcp_audit_principals() -> None:
    p = AuditPrincipals("proj-1", ["velora.example"])
    assert p.of("etl@proj-1.iam.gserviceaccount.com") is Principal.OWNER
    assert p.of("Alice@Velora.Example") is Principal.ORGANISATION
    assert p.of("mallory@evil.example") is Principal.EXTERNAL
    assert p.of("") is Principal.ANONYMOUS
