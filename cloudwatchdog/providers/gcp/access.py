"""`cloudwatchdog incident` on Google Cloud (I/O): who read a Cloud Storage bucket during its exposure windows.

Source: the bucket's usage logs (its ``logging`` configuration names the log bucket and object prefix; objects are
named ``<prefix>_usage_YYYY_MM_DD_HH_MM_SS_<id>_v0``: only those whose names fall in the span are read, streamed).
The bucket's ``timeCreated`` is evidence of an earlier start when the bucket was public the first time a scan saw
it. Public (allUsers) reads are not written to Data Access audit logs, so usage logs are the source that sees them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.evidence import Reading, analysis_span, conclude, exposed_since_first_sight
from cloudwatchdog.forensics.model import AccessEvidence, AccessStatus, AccessTarget, Gap, StartEvidence, TimeSpan
from cloudwatchdog.forensics.spans import day_in, hull, months
from cloudwatchdog.forensics.stream import lines
from cloudwatchdog.model import AccessLogging, Resource
from cloudwatchdog.providers.gcp.access_logs import (
    AUDIT_LOG,
    NO_ALL_USERS,
    NO_PRINCIPAL,
    USAGE_LOG,
    AuditPrincipals,
    feed_audit_log,
    feed_usage_log,
)
from cloudwatchdog.providers.gcp.inventory import BUCKET_TYPE
from cloudwatchdog.providers.gcp.session import (
    CallCounter,
    authorized_session,
    describe_exception,
    load_credentials,
    storage_client,
)
from cloudwatchdog.providers.gcp.settings import GcpAuditLogs, GcpProvider

log = logging.getLogger(__name__)
_NAME_TIME = re.compile(r"_usage_(\d{4})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_")


def _why(exc: Exception) -> str:
    code, message = describe_exception(exc)
    return f"{code}: {message}" if message and message != code else code


def _endpoint(cfg: GcpProvider, project: str) -> str | None:
    for p in cfg.projects:
        if p.id == project and p.endpoint_url:
            return p.endpoint_url
    return cfg.effective_endpoint()


def gcp_access_evidence(cfg: GcpProvider, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
    span = hull(windows)
    if target.type != BUCKET_TYPE:
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, (
            f"access logs are read for Cloud Storage buckets; a {target.type} has none of its own"),),))
    try:
        credentials, _ = load_credentials(cfg)
        client = storage_client(credentials, target.account, _endpoint(cfg, target.account),
                                authorized_session(credentials, CallCounter(), 2))
        bucket = client.get_bucket(target.name, timeout=cfg.timeout)
    except Exception as exc:
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end,
                                                              f"the bucket could not be read: {_why(exc)}"),))
    starts = _creation_evidence(bucket, target, span)
    analysis = analysis_span(windows, starts)
    reading = Reading(analysis, Aggregator(windows, extended_from=analysis.start), start_evidence=starts)
    _usage_logs(client, bucket, target, reading, cfg.timeout)
    if cfg.audit_logs is not None:
        _audit_logs(client, cfg.audit_logs, cfg, target, reading)
    return conclude(reading)


def _creation_evidence(bucket: Any, target: AccessTarget, span: TimeSpan) -> list[StartEvidence]:
    created = getattr(bucket, "time_created", None)
    if not isinstance(created, datetime):
        return []
    created = created.astimezone(UTC).replace(microsecond=0)
    if created < span.start and exposed_since_first_sight(target, span):
        return [StartEvidence(created, f"the bucket was created {created:%Y-%m-%d %H:%M} UTC (Cloud Storage "
                              f"timeCreated) and was public the first time a scan saw it "
                              f"({target.first_seen:%Y-%m-%d %H:%M} UTC): it may have been public since")]
    return []


def _name_time(name: str) -> datetime | None:
    m = _NAME_TIME.search(name)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(g) for g in m.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None


def _usage_logs(client: Any, bucket: Any, target: AccessTarget, reading: Reading, timeout: float) -> None:
    config = bucket.get_logging() or {}
    log_bucket = str(config.get("logBucket") or "")
    if not log_bucket:
        reading.off.append("usage logging is off (the bucket has no logging configuration)")
        return
    reading.sources.append(USAGE_LOG)
    reading.notes.append(NO_PRINCIPAL)
    prefix = f"{config.get('logObjectPrefix') or target.name}_usage_"
    want = reading.read_from
    try:
        blobs = client.list_blobs(log_bucket, prefix=prefix, timeout=timeout,
                                  start_offset=f"{prefix}{want.start:%Y_%m_%d_%H_%M_%S}",
                                  end_offset=f"{prefix}{want.end + timedelta(seconds=1):%Y_%m_%d_%H_%M_%S}")
        for blob in blobs:
            when = _name_time(str(blob.name))
            if when is None or not want.start <= when <= want.end:
                continue
            try:
                with blob.open("rb", timeout=timeout) as body:
                    feed_usage_log(lines(body), target.name, reading.aggregator)
            except Exception as exc:
                reading.failed.setdefault(when.date(), f"log objects unreadable ({_why(exc)})")
                continue
            reading.covered.add(when.date())
    except Exception as exc:
        reading.unreadable.append(f"the log bucket {log_bucket} is unreadable: {_why(exc)}")


def _audit_logs(client: Any, audit: GcpAuditLogs, cfg: GcpProvider, target: AccessTarget, reading: Reading) -> None:
    """Data Access audit logs exported by a sink, for the days the usage logs do not cover (counted once)."""
    reading.sources.append(AUDIT_LOG)
    reading.notes.append(NO_ALL_USERS)
    principals = AuditPrincipals(target.account, cfg.organization_domains)
    base = f"{audit.prefix.rstrip('/')}/" if audit.prefix else ""
    want = reading.read_from
    usage_days = set(reading.covered) | set(reading.failed)
    try:
        for year, month in months(want):
            listed = f"{base}cloudaudit.googleapis.com/data_access/{year:04d}/{month:02d}/"
            for blob in client.list_blobs(audit.bucket, prefix=listed, timeout=cfg.timeout):
                parts = str(blob.name)[len(listed) - 8:].split("/")  # YYYY/MM/DD/<file>
                day = day_in(want, *parts[:3]) if len(parts) > 3 else None
                if day is None or day in usage_days:
                    continue
                try:
                    with blob.open("rb", timeout=cfg.timeout) as body:
                        feed_audit_log(lines(body), target.name, principals, reading.aggregator)
                except Exception as exc:
                    reading.failed.setdefault(day, f"audit log objects unreadable ({_why(exc)})")
                    continue
                reading.covered.add(day)
    except Exception as exc:
        reading.unreadable.append(f"the audit log bucket {audit.bucket} is unreadable: {_why(exc)}")


def gcp_access_logging(cfg: GcpProvider, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
    """Whether usage logging records each exposed bucket's requests: one buckets.get per bucket."""
    out: dict[str, AccessLogging] = {}
    buckets = [r for r in resources if r.type == BUCKET_TYPE]
    for r in resources:
        if r.type != BUCKET_TYPE:
            out[r.uid] = AccessLogging("unknown", f"access logging is read for Cloud Storage buckets, not a {r.type}")
    if not buckets:
        return out
    try:
        credentials, _ = load_credentials(cfg)
        session = authorized_session(credentials, CallCounter(), 2)
    except Exception as exc:
        return out | {r.uid: AccessLogging("unknown", f"the logging configuration could not be read: {_why(exc)}")
                      for r in buckets}
    for r in buckets:
        try:
            client = storage_client(credentials, r.account, _endpoint(cfg, r.account), session)
            config = client.get_bucket(r.name, timeout=cfg.timeout).get_logging() or {}
        except Exception as exc:
            out[r.uid] = AccessLogging("unknown", f"the logging configuration could not be read: {_why(exc)}")
            continue
        if config.get("logBucket"):
            out[r.uid] = AccessLogging("on", f"usage logs go to gs://{config['logBucket']}/"
                                             f"{config.get('logObjectPrefix') or r.name}_usage_*")
        else:
            out[r.uid] = AccessLogging("off", "usage logging is off (Data Access audit logs do not record "
                                              "allUsers requests)")
    return out
