"""Pure parsers of Azure Storage access logs -> ``AccessRecord``.

- Storage Analytics (classic) logs, in the account's ``$logs`` container as ``blob/YYYY/MM/DD/hhmm/NNNNNN.log``:
  one request per line, version 1.0 (30 fields) or 2.0 (more), semicolon-delimited; a field may be double-quoted
  and then hold ``;`` and doubled ``""``. Read here: 0 version, 1 request-start-time, 2 operation-type, 4 HTTP
  status, 7 authentication-type (anonymous, authenticated = Shared Key, sas, oauth), 8 requester-account-name,
  9 owner-account-name, 10 service-type, 12 requested-object-key ("/account/container/blob"), 15
  requester-ip-address (ip:port), 20 response-packet-size.
- Azure Monitor resource logs exported to a storage account by a diagnostic setting (container
  ``insights-logs-storageread``, JSON lines): time, operationName, statusCode, callerIpAddress (ip:port),
  identity.type (Anonymous, AccountKey, SAS, OAuth, ...), properties.objectKey, properties.responseBodySize.

Shared Key requests are the account's own (only key holders can sign them); SAS and OAuth requests are counted as
external with an unknown requester (a SAS is bearer: whoever holds it; the OAuth tenant is not compared).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import AccessRecord, Operation, Principal
from cloudwatchdog.forensics.spans import parse_utc
from cloudwatchdog.forensics.stream import csv_rows

ANALYTICS_LOG = "azure-storage-analytics-log"
RESOURCE_LOG = "azure-monitor-resource-log"
_READS = {"GetBlob"}
_LISTS = {"ListBlobs"}
_WRITES_PREFIX = ("Put", "Delete", "Copy", "Set", "Create", "Append", "Undelete", "Abort", "Lease", "Snapshot")


def operation_of(name: str) -> Operation:
    if name in _READS:
        return Operation.READ
    if name in _LISTS:
        return Operation.LIST
    if name.startswith(_WRITES_PREFIX):
        return Operation.WRITE
    return Operation.OTHER


def principal_of(auth: str) -> Principal:
    auth = auth.lower()
    if auth == "anonymous":
        return Principal.ANONYMOUS
    if auth in ("authenticated", "accountkey", "sharedkey"):
        return Principal.OWNER
    return Principal.UNKNOWN


def parse_time(text: str) -> datetime:
    """``2014-05-01T23:57:25.5820000Z`` (seven fractional digits) or ``Thursday, 01-May-14 23:57:25 GMT`` (old
    logs) -> aware UTC, whole seconds."""
    if text[:4].isdigit():
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    return datetime.strptime(text, "%A, %d-%b-%y %H:%M:%S GMT").replace(tzinfo=UTC)


def _ip(value: str) -> str:
    """``ip:port`` or ``[v6]:port`` -> the address."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _blob_of(object_key: str, account: str, container: str) -> str | None:
    """The blob name of a requested object key ("/account/container/blob"); "" for the container itself; None for
    another container."""
    base = f"/{account}/{container}"
    if object_key == base or object_key == base + "/":
        return ""
    if object_key.startswith(base + "/"):
        return object_key[len(base) + 1:]
    return None


def _text(lines: Iterable[bytes]) -> Iterator[str]:
    for line in lines:
        if line.strip():
            yield line.decode("utf-8", "replace")


def feed_analytics_log(lines: Iterable[bytes], account: str, container: str, aggregator: Aggregator) -> None:
    """Storage Analytics log lines into the aggregator (blob service requests on ``container`` only)."""
    for row in csv_rows(csv.reader(_text(lines), delimiter=";", quotechar='"', doublequote=True)):
        aggregator.lines += 1
        try:
            if row is None or len(row) < 30 or row[0] not in ("1.0", "2.0"):
                raise ValueError("not a Storage Analytics log line")
            if row[10] != "blob":
                continue
            blob = _blob_of(row[12], account, container)
            if blob is None:
                continue
            record = AccessRecord(
                time=parse_time(row[1]), ip=_ip(row[15]), requester=row[8] or row[7], principal=principal_of(row[7]),
                operation=operation_of(row[2]), key=blob, status=int(row[4]), bytes_sent=int(row[20] or 0))
            if record.bytes_sent < 0:
                raise ValueError("negative bytes sent")
        except (ValueError, IndexError):
            aggregator.skipped += 1
            continue
        aggregator.add(record)


def resource_log_record(entry: Mapping[str, Any], account: str, container: str) -> AccessRecord | None:
    """One Azure Monitor StorageRead entry -> a record; None for another container. Raises ValueError (KeyError,
    TypeError) when it is not one."""
    when = parse_utc(str(entry["time"]))
    operation = operation_of(str(entry["operationName"]))
    props = entry.get("properties") or {}
    if not isinstance(props, Mapping):
        raise ValueError("properties is not an object")
    blob = _blob_of(str(props.get("objectKey", "")), account, container)
    if blob is None:
        return None
    identity = entry.get("identity") or {}
    kind = str(identity.get("type", "")) if isinstance(identity, Mapping) else ""
    return AccessRecord(time=when, ip=_ip(str(entry.get("callerIpAddress", ""))), requester=kind,
                        principal=principal_of(kind), operation=operation, key=blob,
                        status=int(entry["statusCode"]), bytes_sent=int(props.get("responseBodySize") or 0))


def feed_resource_log(lines: Iterable[bytes], account: str, container: str, aggregator: Aggregator) -> None:
    for line in lines:
        if not line.strip():
            continue
        aggregator.lines += 1
        try:
            entry = json.loads(line)
            record = resource_log_record(entry, account, container) if isinstance(entry, Mapping) else None
            if not isinstance(entry, Mapping):
                raise ValueError("not an object")
            if record is not None and record.bytes_sent < 0:
                raise ValueError("negative bytes sent")
        except (ValueError, KeyError, TypeError):
            aggregator.skipped += 1
            continue
        if record is not None:
            aggregator.add(record)
