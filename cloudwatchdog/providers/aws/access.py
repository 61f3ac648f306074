"""`cloudwatchdog incident` on AWS (I/O): who read an S3 bucket during its exposure windows.

Sources: the bucket's server access logs (GetBucketLogging names the target bucket, prefix and key format; only the
log objects whose key timestamps fall in the span are listed and read, streamed and gunzipped on the fly), and the
S3 data events of a CloudTrail trail when ``providers.aws.cloudtrail`` names its bucket (read for the days the server
access logs do not cover, so no request is counted twice). The bucket's CreationDate is evidence of an earlier start
when the bucket was public the first time a scan saw it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.evidence import Reading, analysis_span, conclude, exposed_since_first_sight
from cloudwatchdog.forensics.model import AccessEvidence, AccessStatus, AccessTarget, Gap, StartEvidence, TimeSpan
from cloudwatchdog.forensics.spans import day_in, hull, months
from cloudwatchdog.forensics.stream import decoded, lines
from cloudwatchdog.model import AccessLogging, Resource
from cloudwatchdog.providers.aws.access_logs import (
    CLOUDTRAIL,
    SERVER_LOG,
    ChangeEvent,
    Principals,
    ServerLogParser,
    feed_trail_stream,
)
from cloudwatchdog.providers.aws.credentials import base_session, describe_exception
from cloudwatchdog.providers.aws.model import BUCKET_TYPE
from cloudwatchdog.providers.aws.session import AccountTarget, CallCounter, discover_accounts, make_client
from cloudwatchdog.providers.aws.settings import AwsProvider

log = logging.getLogger(__name__)
_KEY_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-")


def _why(exc: Exception) -> str:
    code, message = describe_exception(exc)
    return f"{code}: {message}" if message and message != code else code


def _accounts(cfg: AwsProvider, session: Any) -> dict[str, AccountTarget]:
    """The configured accounts, entered as the collector enters them (once for every resource asked about)."""
    base: Any
    try:
        base = session if session is not None else base_session(cfg)
    except Exception as exc:  # a missing or broken profile: reported as the reason
        base = exc
    targets: dict[str, AccountTarget] = {}
    for entered in discover_accounts(cfg, base):
        targets.setdefault(entered.account, entered)
    return targets


def _session_in(accounts: dict[str, AccountTarget], account: str) -> Any:
    entered = accounts.get(account)
    if entered is None:
        raise LookupError(f"account {account} is not among the configured accounts")
    if entered.session is None:
        raise LookupError(entered.error or "the account could not be entered")
    return entered.session


def _client_in(accounts: dict[str, AccountTarget], cfg: AwsProvider, account: str, region: str) -> Any:
    return make_client(_session_in(accounts, account), "s3", cfg, region=region or None)


def _client(cfg: AwsProvider, target: AccessTarget, session: Any) -> Any:
    return _client_in(_accounts(cfg, session), cfg, target.account, target.region)


def aws_access_evidence(cfg: AwsProvider, target: AccessTarget, windows: Sequence[TimeSpan], *,
                        session: Any = None, client: Any = None) -> AccessEvidence:
    """``client``: an S3 client to use instead of entering the target's account (the benchmark's log directory)."""
    span = hull(windows)
    if target.type != BUCKET_TYPE:
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, (
            f"access logs are read for S3 buckets; a {target.type} has none of its own"),),))
    try:
        client = client if client is not None else _client(cfg, target, session)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, LookupError) else _why(exc)
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, f"logs not read: {reason}"),))
    starts = _creation_evidence(client, target, span)
    analysis = analysis_span(windows, starts)
    reading = Reading(analysis, Aggregator(windows, extended_from=analysis.start), start_evidence=starts)
    principals = Principals(target.account, target.known_accounts)
    counted = _server_logs(client, target, reading, principals)
    if cfg.cloudtrail is not None:
        _cloudtrail(client, cfg.cloudtrail.bucket, cfg.cloudtrail.prefix, target, reading, principals,
                    min(w.start for w in windows), counted)
    else:
        reading.off.append("no CloudTrail trail bucket is configured (providers.aws.cloudtrail)")
    return conclude(reading)


def _creation_evidence(client: Any, target: AccessTarget, span: TimeSpan) -> list[StartEvidence]:
    try:
        buckets = client.list_buckets().get("Buckets", [])
    except Exception as exc:
        log.info("ListBuckets failed, no creation date for %s: %s", target.name, _why(exc))
        return []
    for b in buckets:
        created = b.get("CreationDate")
        if b.get("Name") == target.name and isinstance(created, datetime):
            created = created.astimezone(UTC).replace(microsecond=0)
            if created < span.start and exposed_since_first_sight(target, span):
                return [StartEvidence(created, f"the bucket was created {created:%Y-%m-%d %H:%M} UTC (S3 ListBuckets "
                                      f"CreationDate) and was public the first time a scan saw it "
                                      f"({target.first_seen:%Y-%m-%d %H:%M} UTC): it may have been public since")]
    return []


def _key_time(key: str, prefix: str) -> datetime | None:
    m = _KEY_TIME.match(key.rsplit("/", 1)[-1] if "/" in key[len(prefix):] else key[len(prefix):])
    if not m:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    except ValueError:
        return None


def _list(client: Any, bucket: str, prefix: str, start_after: str = "") -> Iterator[str]:
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        args["StartAfter"] = start_after
    while True:
        page = client.list_objects_v2(**args)
        for o in page.get("Contents", []):
            yield str(o["Key"])
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return
        args = {"Bucket": bucket, "Prefix": prefix, "ContinuationToken": token}


def _server_logs(client: Any, target: AccessTarget, reading: Reading, principals: Principals) -> set[str]:
    """Reads the server access logs; returns the request ids of the requests they counted on a day other than their
    object's (a request before midnight delivered after it), which CloudTrail, reading that day, must not count
    again."""
    try:
        enabled = client.get_bucket_logging(Bucket=target.name).get("LoggingEnabled")
    except Exception as exc:
        reading.unreadable.append(f"the server access logging configuration is unreadable: {_why(exc)}")
        return set()
    if not enabled:
        reading.off.append("server access logging is off (GetBucketLogging shows no target)")
        return set()
    reading.sources.append(SERVER_LOG)
    log_bucket, prefix = str(enabled.get("TargetBucket", "")), str(enabled.get("TargetPrefix", ""))
    partitioned = "PartitionedPrefix" in (enabled.get("TargetObjectKeyFormat") or {})
    parser = ServerLogParser(target.name, principals, reading.aggregator)
    parser.days_read = (reading.covered, reading.failed)
    want = reading.read_from
    try:
        if partitioned:  # <prefix><account>/<region>/<bucket>/YYYY/MM/DD/<time>-<unique>: a month per listing
            keys: Iterator[str] = (k for year, month in months(want) for k in _list(
                client, log_bucket, f"{prefix}{target.account}/{target.region}/{target.name}/{year:04d}/{month:02d}/"))
        else:
            keys = _list(client, log_bucket, prefix, prefix + f"{want.start - timedelta(seconds=1):%Y-%m-%d-%H-%M-%S}")
        for key in keys:
            when = _key_time(key, prefix)
            if when is None or when < want.start:  # a month's listing starts before the look-back
                continue
            if when > want.end:
                if partitioned:
                    continue
                break
            parser.delivered = when.date()
            _read_object(client, log_bucket, key, when.date(), reading, lambda body: parser.feed(lines(body)))
    except Exception as exc:
        reading.unreadable.append(f"the log bucket {log_bucket} is unreadable: {_why(exc)}")
    return parser.crossing


def _read_object(client: Any, bucket: str, key: str, day: date, reading: Reading, feed: Any) -> None:
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            feed(body)
        finally:
            body.close()
    except Exception as exc:
        reading.failed.setdefault(day, f"log objects unreadable ({_why(exc)})")
        return
    reading.covered.add(day)


def _cloudtrail(client: Any, bucket: str, prefix: str, target: AccessTarget, reading: Reading,
                principals: Principals, opened_by: datetime, counted: set[str]) -> None:
    """Data events of the days the server access logs do not cover (a request is counted once: a file is read when
    its day or the day before has no server logs; an event of a day that has them, or whose request id the server
    logs ``counted``, is not counted); management events that may have opened the bucket, in every file up to the
    day the store first saw it exposed (``opened_by``)."""
    reading.sources.append(CLOUDTRAIL)
    reading.notes.append("CloudTrail files cover a day only when the trail records S3 data events for this bucket")
    base = f"{prefix.rstrip('/')}/" if prefix else ""
    want = reading.read_from
    server_days = set(reading.covered) | set(reading.failed)
    changes: list[ChangeEvent] = []
    try:
        for year, month in months(want):
            listed = f"{base}AWSLogs/{target.account}/CloudTrail/{target.region}/{year:04d}/{month:02d}/"
            for key in _list(client, bucket, listed):
                parts = key[len(listed) - 8:].split("/")  # YYYY/MM/DD/<file>
                day = day_in(want, *parts[:3]) if len(parts) > 3 else None
                if day is None:
                    continue
                if day not in server_days:
                    _read_object(client, bucket, key, day, reading, lambda body: feed_trail_stream(
                        decoded(body), target.name, principals, reading.aggregator, changes=changes,
                        skip_days=server_days, skip_ids=counted))
                elif day - timedelta(days=1) not in server_days:  # its events of the day before; not its day
                    _read_trail_quietly(client, bucket, key, target, reading, principals, changes,
                                        (server_days, counted))
                elif day <= opened_by.date():  # the server logs have the requests: only the changes are read
                    _read_trail_quietly(client, bucket, key, target, reading, principals, changes, None)
    except Exception as exc:
        reading.unreadable.append(f"the CloudTrail bucket {bucket} is unreadable: {_why(exc)}")
    before = [c for c in changes if c.time <= opened_by]
    if before:
        last = max(before, key=lambda c: c.time)
        reading.start_evidence.append(StartEvidence(last.time, (
            f"{last.name} on the bucket by {last.who or 'an unknown principal'} at {last.time:%Y-%m-%d %H:%M:%S} UTC "
            "(a CloudTrail management event): the last change before the store saw it exposed, which may have "
            "opened it")))


def _read_trail_quietly(client: Any, bucket: str, key: str, target: AccessTarget, reading: Reading,
                       principals: Principals, changes: list[ChangeEvent],
                       skip: tuple[set[date], set[str]] | None) -> None:
    """A CloudTrail file of a day the server logs cover: its change events, and (``skip``: the days and request ids
    the server logs count) the data events of the day before when they do not cover it; a failure is a note (the
    file's own day is covered by the server logs)."""
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            feed_trail_stream(decoded(body), target.name, principals, reading.aggregator, data=skip is not None,
                              changes=changes, skip_days=skip[0] if skip else (), skip_ids=skip[1] if skip else ())
        finally:
            body.close()
    except Exception as exc:
        reading.notes.append(f"a CloudTrail file could not be read: {_why(exc)}")


def aws_access_logging(cfg: AwsProvider, resources: Sequence[Resource], *, session: Any = None
                       ) -> dict[str, AccessLogging]:
    """Whether server access logging (and a configured CloudTrail trail) records each exposed bucket's requests:
    one GetBucketLogging per bucket, ``max_workers`` of them in flight (each account entered once)."""
    trail = (f"; CloudTrail data events are read from s3://{cfg.cloudtrail.bucket}/{cfg.cloudtrail.prefix}"
             if cfg.cloudtrail else "")
    clients: dict[tuple[str, str], Any] = {}
    accounts: dict[str, AccountTarget] | None = None
    lock = threading.Lock()
    counter = CallCounter()  # its requests are counted like the collector's (bench/scan_buckets.py reports them)

    def client(r: Resource) -> Any:
        nonlocal accounts
        with lock:  # one entry per account, one client per (account, region), shared by the threads
            key = (r.account, r.region)
            if key not in clients:
                accounts = accounts if accounts is not None else _accounts(cfg, session)
                clients[key] = make_client(_session_in(accounts, r.account), "s3", cfg, region=r.region or None,
                                           counter=counter)
            return clients[key]

    def check(r: Resource) -> AccessLogging:
        if r.type != BUCKET_TYPE:
            return AccessLogging("unknown", f"access logging is read for S3 buckets, not a {r.type}")
        try:
            enabled = client(r).get_bucket_logging(Bucket=r.name).get("LoggingEnabled")
        except Exception as exc:
            reason = str(exc) if isinstance(exc, LookupError) else _why(exc)
            return AccessLogging("unknown", f"the logging configuration could not be read: {reason}{trail}")
        if enabled:
            return AccessLogging("on", f"server access logs go to s3://{enabled.get('TargetBucket', '')}/"
                                       f"{enabled.get('TargetPrefix', '')}{trail}")
        if trail:  # whether the trail records this bucket's data events is not read: not "on"
            return AccessLogging("unknown", "server access logging is off" + trail + " (whether the trail "
                                 "records this bucket's data events is not checked)")
        return AccessLogging("off", "server access logging is off")

    with ThreadPoolExecutor(max_workers=max(1, cfg.max_workers), thread_name_prefix="aws-logging") as pool:
        return dict(zip((r.uid for r in resources), pool.map(check, resources), strict=True))
