"""Pure parsers of AWS access logs: S3 server access log lines and CloudTrail S3 data events -> ``AccessRecord``.

S3 server access log line (space-separated; the time holds a space inside brackets; request-uri, referer and
user-agent are quoted): 0 bucket owner, 1 bucket, 2 [time], 3 remote IP, 4 requester ("-" anonymous, an ARN or a
canonical id), 5 request id, 6 operation (REST.GET.OBJECT, REST.GET.BUCKET = list, ...), 7 key (URL-encoded, "-"
none), 8 "request-uri", 9 HTTP status, 10 error code, 11 bytes sent ("-" = 0), 12 object size, ... then the quoted
referer and user agent and optional newer fields, which are not needed here. The line is split on ``"`` first, then
on whitespace: only the fields before the request-uri and the three after it are read.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

import ijson  # type: ignore[import-untyped]

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import AccessRecord, Operation, Principal
from cloudwatchdog.forensics.stream import Readable

SERVER_LOG = "s3-server-access-log"
CLOUDTRAIL = "cloudtrail-data-events"

_MONTHS = {m.encode(): i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_OPS: dict[bytes, Operation] = {
    b"REST.GET.OBJECT": Operation.READ, b"WEBSITE.GET.OBJECT": Operation.READ,
    b"REST.COPY.OBJECT_GET": Operation.READ, b"REST.GET.BUCKET": Operation.LIST,
    b"REST.GET.BUCKETVERSIONS": Operation.LIST,
}
_COUNTED = {op: kind for op, kind in _OPS.items() if kind in (Operation.READ, Operation.LIST)}
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")
_CANONICAL = re.compile(r"^[0-9a-f]{64}$")
_CACHE = 10_000
_CROSSING_CAP = 200_000


def operation_of(op: bytes) -> Operation:
    found = _OPS.get(op)
    if found is not None:
        return found
    if op.startswith((b"REST.PUT.", b"REST.POST.", b"REST.DELETE.", b"REST.COPY.")):
        return Operation.WRITE
    return Operation.OTHER


class Principals:
    """Who a requester is, relative to the resource's account and the organisation's accounts."""

    def __init__(self, owner_account: str, known_accounts: Iterable[str]) -> None:
        self.owner = owner_account
        self.known = frozenset(known_accounts) - {owner_account}

    def of_account(self, account: str) -> Principal:
        if account == self.owner:
            return Principal.OWNER
        return Principal.ORGANISATION if account in self.known else Principal.EXTERNAL

    def of_requester(self, requester: str, bucket_owner_id: str) -> Principal:
        """A server access log requester: "-" (anonymous), an IAM/STS ARN, or a canonical user id."""
        if requester in ("", "-"):
            return Principal.ANONYMOUS
        m = _ACCOUNT_IN_ARN.match(requester)
        if m:
            return self.of_account(m.group(1))
        if _CANONICAL.match(requester):
            return Principal.OWNER if requester == bucket_owner_id else Principal.UNKNOWN
        return Principal.UNKNOWN


class ServerLogParser:
    """Feeds S3 server access log lines of one bucket into an aggregator (lines of other buckets that share the
    log prefix are ignored; a malformed line is counted and skipped)."""

    def __init__(self, bucket: str, principals: Principals, aggregator: Aggregator) -> None:
        self._bucket = bucket.encode()
        self._principals = principals
        self._agg = aggregator
        self._days: dict[bytes, tuple[int, int, int]] = {}
        self._who: dict[tuple[bytes, bytes], Principal] = {}
        self.delivered: date | None = None  # the delivery day of the log object being fed (its key's)
        self.days_read: tuple[Container[date], ...] = ()  # days whose own log objects were read (or failed)
        # Request ids of the counted requests of a day other than their object's delivery day (a request before
        # midnight delivered after it) when that day has no log objects of its own: another source that reads that
        # day must not count them again. Rare (only days without server logs), and bounded.
        self.crossing: set[str] = set()

    def feed(self, lines: Iterable[bytes]) -> None:
        agg = self._agg
        for line in lines:
            if not line.strip():
                continue
            agg.lines += 1
            try:
                record = self.parse(line)
            except (ValueError, IndexError, KeyError, UnicodeDecodeError):
                agg.skipped += 1
                continue
            if record is not None:
                agg.add(record)
                day = record.time.date()
                if day != self.delivered and len(self.crossing) < _CROSSING_CAP and not any(
                        day in read for read in self.days_read):
                    self.crossing.add(record.request_id)

    def parse(self, line: bytes) -> AccessRecord | None:
        """One line -> a record of a successful read or list; None for another bucket's line or a request that is
        not counted (a write, a HEAD, an error); raises ValueError (or IndexError, KeyError) for a malformed one."""
        parts = line.split(b'"', 3)
        head = parts[0].split()
        if len(head) != 9 or len(parts) < 3:
            raise ValueError("not an S3 server access log line")
        if head[1] != self._bucket:
            return None
        status_fields = parts[2].split(None, 3)
        status = int(status_fields[0])
        op = _COUNTED.get(head[7])
        if op is None or not 200 <= status < 300:
            return None  # not counted: no need to read the rest
        sent = status_fields[2]
        nbytes = 0 if sent == b"-" else int(sent)
        if nbytes < 0:
            raise ValueError("negative bytes sent")
        stamp, zone = head[2], head[3]
        if stamp[:1] != b"[" or zone[-1:] != b"]" or len(stamp) != 21:
            raise ValueError("bad time")
        day = self._days.get(stamp[1:12])
        if day is None:
            day = (int(stamp[8:12]), _MONTHS[stamp[4:7]], int(stamp[1:3]))
            if len(self._days) < _CACHE:
                self._days[stamp[1:12]] = day
        when = datetime(day[0], day[1], day[2], int(stamp[13:15]), int(stamp[16:18]), int(stamp[19:21]),
                        tzinfo=UTC)
        if zone != b"+0000]":
            when = datetime.strptime(f"{stamp[1:].decode()} {zone[:-1].decode()}",
                                     "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
        requester = head[5]
        who = self._who_of(requester, head[0])
        key = head[8]
        return AccessRecord(
            time=when, ip=head[4].decode("utf-8", "replace"), requester=requester.decode("utf-8", "replace"),
            principal=who, operation=op,
            key="" if key == b"-" else unquote(key.decode("utf-8", "replace"), errors="replace"),
            status=status, bytes_sent=nbytes, request_id=head[6].decode("ascii", "replace"))

    def _who_of(self, requester: bytes, bucket_owner: bytes) -> Principal:
        # An IAM/STS ARN is judged by its account (session names differ on every line): cached by account.
        cache_key = (requester[:25], b"") if requester.startswith((b"arn:aws:iam::", b"arn:aws:sts::")) else \
            (requester, bucket_owner)
        who = self._who.get(cache_key)
        if who is None:
            who = self._principals.of_requester(requester.decode("utf-8", "replace"), bucket_owner.decode())
            if len(self._who) < _CACHE:
                self._who[cache_key] = who
        return who


# --- CloudTrail -------------------------------------------------------------------------------------------------

_TRAIL_OPS = {"GetObject": Operation.READ, "ListObjects": Operation.LIST, "ListObjectsV2": Operation.LIST,
              "ListObjectVersions": Operation.LIST, "HeadObject": Operation.OTHER}


def trail_record(event: Mapping[str, Any], bucket: str, principals: Principals) -> AccessRecord | None:
    """One CloudTrail record -> a record of an S3 data event on ``bucket``; None for any other event. Raises
    ValueError (or KeyError, TypeError) when it is not a CloudTrail record."""
    if event.get("eventSource") != "s3.amazonaws.com":
        return None
    params = event.get("requestParameters") or {}
    if not isinstance(params, Mapping) or params.get("bucketName") != bucket:
        return None
    name = str(event["eventName"])
    op = _TRAIL_OPS.get(name, Operation.WRITE if name.startswith(("Put", "Delete", "Copy", "Create")) else
                        Operation.OTHER)
    ident = event.get("userIdentity") or {}
    account = str(ident.get("accountId", "")) if isinstance(ident, Mapping) else ""
    if account == "ANONYMOUS_PRINCIPAL":
        who, requester = Principal.ANONYMOUS, "-"
    elif account:
        who, requester = principals.of_account(account), str(ident.get("arn") or account)
    else:
        who, requester = Principal.UNKNOWN, str(ident.get("type", "")) if isinstance(ident, Mapping) else ""
    extra = event.get("additionalEventData") or {}
    sent = extra.get("bytesTransferredOut", 0) if isinstance(extra, Mapping) else 0
    when = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00")).astimezone(UTC)
    return AccessRecord(
        time=when, ip=str(event.get("sourceIPAddress", "")), requester=requester, principal=who, operation=op,
        key=str(params.get("key", "")), status=400 if event.get("errorCode") else 200,
        bytes_sent=int(sent or 0), request_id=str(event.get("requestID") or ""))


# Management events that can open a bucket to others: the last one before an exposure is its likely start.
OPENING_EVENTS = frozenset({"PutBucketPolicy", "PutBucketAcl", "DeleteBucketPublicAccessBlock",
                            "PutBucketPublicAccessBlock", "PutBucketOwnershipControls"})


@dataclass(frozen=True)
class ChangeEvent:
    time: datetime
    name: str
    who: str


def change_event(event: Mapping[str, Any], bucket: str) -> ChangeEvent | None:
    """A successful management event on ``bucket`` that may have opened it; None for anything else."""
    if event.get("eventSource") != "s3.amazonaws.com" or event.get("eventName") not in OPENING_EVENTS:
        return None
    params = event.get("requestParameters") or {}
    if not isinstance(params, Mapping) or params.get("bucketName") != bucket or event.get("errorCode"):
        return None
    ident = event.get("userIdentity") or {}
    who = str(ident.get("arn") or ident.get("accountId") or "") if isinstance(ident, Mapping) else ""
    when = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00")).astimezone(UTC)
    return ChangeEvent(when, str(event["eventName"]), who)


def feed_trail(document: Any, bucket: str, principals: Principals, aggregator: Aggregator, *, data: bool = True,
               changes: list[ChangeEvent] | None = None, skip_days: Collection[date] = (),
               skip_ids: Collection[str] = ()) -> None:
    """A CloudTrail log file ({"Records": [...]}) into the aggregator (``data``: its S3 data events; a malformed
    record is counted, skipped; one on a day in ``skip_days``, which another source covers, or with a request id in
    ``skip_ids``, which another source counted, is not counted) and its bucket-opening management events into
    ``changes``."""
    records = document.get("Records") if isinstance(document, Mapping) else None
    if not isinstance(records, list):
        if data:
            aggregator.lines += 1
            aggregator.skipped += 1
        return
    _feed_records(records, bucket, principals, aggregator, data, changes, skip_days, skip_ids)


def feed_trail_stream(stream: Readable, bucket: str, principals: Principals, aggregator: Aggregator, *,
                      data: bool = True, changes: list[ChangeEvent] | None = None,
                      skip_days: Collection[date] = (), skip_ids: Collection[str] = ()) -> None:
    """``feed_trail`` on a CloudTrail file read as a stream (ijson: one record in memory at a time, whatever the
    file's size). A file that is not JSON, or has no ``Records`` array, counts one malformed line; one that breaks
    off keeps the records before the break and counts one. Errors of the stream itself (a truncated gzip) are
    raised."""
    found: list[bool] = []

    def watch(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
        for event in events:
            if event[0] == "Records" and event[1] == "start_array":
                found.append(True)
            yield event

    try:
        _feed_records(ijson.items(watch(ijson.parse(stream)), "Records.item"), bucket, principals, aggregator, data,
                      changes, skip_days, skip_ids)
    except ijson.JSONError:
        found.clear()
    if not found and data:
        aggregator.lines += 1
        aggregator.skipped += 1


def _feed_records(records: Iterable[Any], bucket: str, principals: Principals, aggregator: Aggregator, data: bool,
                  changes: list[ChangeEvent] | None, skip_days: Collection[date], skip_ids: Collection[str]) -> None:
    for event in records:
        if changes is not None and isinstance(event, Mapping):
            try:
                found = change_event(event, bucket)
            except (ValueError, KeyError, TypeError):
                found = None
            if found is not None:
                changes.append(found)
        if not data:
            continue
        aggregator.lines += 1
        try:
            if not isinstance(event, Mapping):
                raise ValueError("not a record")
            record = trail_record(event, bucket, principals)
        except (ValueError, KeyError, TypeError, ArithmeticError):
            aggregator.skipped += 1
            continue
        if record is not None and record.time.date() not in skip_days and (
                not record.request_id or record.request_id not in skip_ids):
            aggregator.add(record)
