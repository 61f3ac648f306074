"""`cloudwatchdog incident` on Azure (I/O): who read a blob container during its exposure windows.

Source: the storage account's Storage Analytics logs in its ``$logs`` container (``blob/YYYY/MM/DD/hhmm/...log``:
only the days of the span are listed, and the objects streamed). Whether read logging is on is read from the blob
service properties. The container's ``lastModifiedTime`` (ARM) is evidence of an earlier start when the container
was public the first time a scan saw it: its properties, the public access level included, have not changed since.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.evidence import Reading, analysis_span, conclude, exposed_since_first_sight
from cloudwatchdog.forensics.model import AccessEvidence, AccessStatus, AccessTarget, Gap, StartEvidence, TimeSpan
from cloudwatchdog.forensics.spans import day_in, hull, months
from cloudwatchdog.forensics.stream import lines
from cloudwatchdog.model import AccessLogging, Resource
from cloudwatchdog.providers.azure.access_logs import ANALYTICS_LOG, RESOURCE_LOG, feed_analytics_log, feed_resource_log
from cloudwatchdog.providers.azure.model import CONTAINER_TYPE
from cloudwatchdog.providers.azure.session import (
    CallCounter,
    blob_service_client,
    describe_exception,
    make_credential,
    storage_client,
)
from cloudwatchdog.providers.azure.settings import AzureProvider, AzureResourceLogs

log = logging.getLogger(__name__)
_CONTAINER_ID = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/"
                           r"storageAccounts/([^/]+)/blobServices/default/containers/([^/]+)$", re.IGNORECASE)
LOGS_CONTAINER = "$logs"


def _why(exc: Exception) -> str:
    code, message = describe_exception(exc)
    return f"{code}: {message}" if message and message != code else code


def azure_access_evidence(cfg: AzureProvider, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
    span = hull(windows)
    m = _CONTAINER_ID.match(target.uid)
    if target.type != CONTAINER_TYPE or not m:
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, (
            f"access logs are read for blob containers; a {target.type} has none of its own"),),))
    subscription, group, account, container = m.groups()
    counter = CallCounter(loopback_only=cfg.credential == "emulator")
    try:
        credential = make_credential(cfg)
        arm = storage_client(cfg, credential, subscription, counter)
        props = arm.storage_accounts.get_properties(group, account)
        endpoint = str(props.primary_endpoints.blob)
        service = blob_service_client(cfg, credential, endpoint, counter)
    except Exception as exc:
        return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, (
            f"the storage account {account} could not be read: {_why(exc)}"),),))
    starts = _modified_evidence(arm, group, account, container, target, span)
    analysis = analysis_span(windows, starts)
    reading = Reading(analysis, Aggregator(windows, extended_from=analysis.start), start_evidence=starts)
    _analytics_logs(service, account, container, reading)
    if cfg.resource_logs is not None:
        _resource_logs(cfg, cfg.resource_logs, credential, counter, (subscription, group, account, container),
                       reading)
    return conclude(reading)


def _modified_evidence(arm: Any, group: str, account: str, container: str, target: AccessTarget,
                       span: TimeSpan) -> list[StartEvidence]:
    try:
        changed = arm.blob_containers.get(group, account, container).last_modified_time
    except Exception as exc:
        log.info("container %s/%s: no lastModifiedTime: %s", account, container, _why(exc))
        return []
    if not isinstance(changed, datetime):
        return []
    changed = changed.astimezone(UTC).replace(microsecond=0)
    if changed < span.start and exposed_since_first_sight(target, span):
        return [StartEvidence(changed, f"the container's properties, its public access level included, were last "
                              f"changed {changed:%Y-%m-%d %H:%M} UTC (ARM lastModifiedTime) and it was public the "
                              f"first time a scan saw it ({target.first_seen:%Y-%m-%d %H:%M} UTC): it may have been "
                              "public since")]
    return []


def _analytics_logs(service: Any, account: str, container: str, reading: Reading) -> None:
    try:
        logging_on = bool(service.get_service_properties()["analytics_logging"].read)
    except Exception as exc:  # the properties may be unreadable while the logs are not: look at the logs anyway
        reading.notes.append(f"the blob service's logging settings could not be read: {_why(exc)}")
        logging_on = True
    if not logging_on:
        reading.notes.append("Storage Analytics read logging is off now (blob service properties)")
    logs = service.get_container_client(LOGS_CONTAINER)
    found_any = False
    want = reading.read_from
    try:
        for year, month in months(want):
            for blob in logs.list_blobs(name_starts_with=f"blob/{year:04d}/{month:02d}/"):
                parts = str(blob.name).split("/")
                day = day_in(want, *parts[1:4]) if len(parts) > 4 else None
                if day is None:
                    continue
                found_any = True
                try:
                    body = logs.download_blob(blob.name)
                    feed_analytics_log(lines(body), account, container, reading.aggregator)
                except Exception as exc:
                    reading.failed.setdefault(day, f"log objects unreadable ({_why(exc)})")
                    continue
                reading.covered.add(day)
    except Exception as exc:
        code, _ = describe_exception(exc)
        if code == "ContainerNotFound":
            reading.off.append("Storage Analytics logging is off (the account has no $logs container)")
            return
        reading.sources.append(ANALYTICS_LOG)
        reading.unreadable.append(f"the {LOGS_CONTAINER} container is unreadable: {_why(exc)}")
        return
    if found_any or logging_on:
        reading.sources.append(ANALYTICS_LOG)
    else:
        reading.off.append("Storage Analytics read logging is off and the $logs container holds no logs")


def _resource_logs(cfg: AzureProvider, where: AzureResourceLogs, credential: Any, counter: CallCounter,
                   ids: tuple[str, str, str, str], reading: Reading) -> None:
    """StorageRead resource logs exported by a diagnostic setting (``PT1H.json`` JSON lines under
    ``resourceId=/SUBSCRIPTIONS/.../y=YYYY/m=MM/d=DD/h=HH/m=00/``), for the days the Storage Analytics logs do not
    cover (counted once)."""
    subscription, group, account, container = ids
    reading.sources.append(RESOURCE_LOG)
    base = (f"resourceId=/SUBSCRIPTIONS/{subscription.upper()}/RESOURCEGROUPS/{group.upper()}/PROVIDERS/"
            f"MICROSOFT.STORAGE/STORAGEACCOUNTS/{account.upper()}/BLOBSERVICES/DEFAULT/")
    want = reading.read_from
    analytics_days = set(reading.covered) | set(reading.failed)
    try:
        logs = blob_service_client(cfg, credential, where.blob_endpoint, counter).get_container_client(
            where.container)
        for year, month in months(want):
            for blob in logs.list_blobs(name_starts_with=f"{base}y={year:04d}/m={month:02d}/"):
                parts = str(blob.name)[len(base):].split("/")  # y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json
                day = day_in(want, *(p.split("=", 1)[-1] for p in parts[:3])) if len(parts) > 3 else None
                if day is None or day in analytics_days:
                    continue
                try:
                    feed_resource_log(lines(logs.download_blob(blob.name)), account, container, reading.aggregator)
                except Exception as exc:
                    reading.failed.setdefault(day, f"resource log objects unreadable ({_why(exc)})")
                    continue
                reading.covered.add(day)
    except Exception as exc:
        reading.unreadable.append(f"the resource logs in {where.container} are unreadable: {_why(exc)}")


def azure_access_logging(cfg: AzureProvider, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
    """Whether Storage Analytics read logging is on for each exposed container's account: one GetStorageAccount
    and one GetBlobServiceProperties per account."""
    out: dict[str, AccessLogging] = {}
    by_account: dict[tuple[str, str, str], list[Resource]] = {}
    for r in resources:
        m = _CONTAINER_ID.match(r.uid)
        if r.type != CONTAINER_TYPE or not m:
            out[r.uid] = AccessLogging("unknown", f"access logging is read for blob containers, not a {r.type}")
            continue
        by_account.setdefault((m.group(1), m.group(2), m.group(3)), []).append(r)
    if not by_account:
        return out
    counter = CallCounter(loopback_only=cfg.credential == "emulator")
    for (subscription, group, account), containers in by_account.items():
        try:
            credential = make_credential(cfg)
            props = storage_client(cfg, credential, subscription, counter).storage_accounts.get_properties(group,
                                                                                                        account)
            service = blob_service_client(cfg, credential, str(props.primary_endpoints.blob), counter)
            logging_on = bool(service.get_service_properties()["analytics_logging"].read)
        except Exception as exc:
            found = AccessLogging("unknown", f"the account's logging settings could not be read: {_why(exc)}")
        else:
            found = (AccessLogging("on", f"Storage Analytics read logs go to the $logs container of {account}")
                     if logging_on else AccessLogging("off", "Storage Analytics read logging is off (a diagnostic "
                                                             "setting to Azure Monitor is not checked)"))
        out.update({r.uid: found for r in containers})
    return out
