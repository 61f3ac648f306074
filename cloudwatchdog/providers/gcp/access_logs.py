"""Pure parser of Cloud Storage usage logs (CSV with a header row of quoted names: "time_micros", "c_ip",
"c_ip_type", "c_ip_region", "cs_method", "cs_uri", "sc_status", "cs_bytes", "sc_bytes", "time_taken_micros",
"cs_host", "cs_referer", "cs_user_agent", "s_request_id", "cs_operation", "cs_bucket", "cs_object") ->
``AccessRecord``.

A usage log names no principal: it cannot tell an anonymous request from an authenticated one, nor the owner's
own requests from a stranger's. Every request is therefore ``unknown`` (counted as external), and the dossier says so.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import AccessRecord, Operation, Principal
from cloudwatchdog.forensics.spans import parse_utc
from cloudwatchdog.forensics.stream import csv_rows

USAGE_LOG = "gcs-usage-log"
NO_PRINCIPAL = ("a Cloud Storage usage log names no principal: every successful read or list in it is counted as "
                "external (requester unknown), the owner's own requests included")
_READS = {"GET_Object", "GET_Object_Media", "storage.objects.get"}
_LISTS = {"GET_Bucket", "LIST_Objects", "GET_Objects", "storage.objects.list"}
_NEEDED = ("time_micros", "c_ip", "cs_method", "sc_status", "sc_bytes", "cs_bucket", "cs_object")


def operation_of(operation: str, method: str, obj: str) -> Operation:
    if operation in _READS:
        return Operation.READ
    if operation in _LISTS:
        return Operation.LIST
    if operation:
        return Operation.WRITE if method in ("PUT", "POST", "DELETE", "PATCH") else Operation.OTHER
    if method == "GET":  # no operation recorded: a GET of an object reads it, of the bucket lists it
        return Operation.READ if obj else Operation.LIST
    return Operation.WRITE if method in ("PUT", "POST", "DELETE", "PATCH") else Operation.OTHER


def _text(lines: Iterable[bytes]) -> Iterator[str]:
    for line in lines:
        yield line.decode("utf-8", "replace")


def feed_usage_log(lines: Iterable[bytes], bucket: str, aggregator: Aggregator) -> None:
    """One usage log object (its header first) into the aggregator; a malformed row is counted and skipped; an
    object without the header is one malformed line (its rows cannot be read without it)."""
    rows = csv_rows(csv.reader(_text(lines)))
    header = next(rows, None)
    if header is None:
        return
    try:
        if not header:
            raise ValueError("no header row")
        index = {name: header.index(name) for name in _NEEDED}
        op_index = header.index("cs_operation") if "cs_operation" in header else None
    except ValueError:
        aggregator.lines += 1
        aggregator.skipped += 1
        return
    width = max(index.values()) + 1
    for row in rows:
        if row == []:
            continue
        aggregator.lines += 1
        try:
            if row is None or len(row) < width:
                raise ValueError("short row")
            if row[index["cs_bucket"]] != bucket:
                continue
            obj = row[index["cs_object"]]
            op = operation_of(row[op_index] if op_index is not None and op_index < len(row) else "",
                              row[index["cs_method"]], obj)
            status = int(row[index["sc_status"]])
            when = datetime.fromtimestamp(int(row[index["time_micros"]]) / 1_000_000, UTC).replace(microsecond=0)
            sent = int(row[index["sc_bytes"]] or 0)
            if sent < 0:
                raise ValueError("negative bytes sent")
        except (ValueError, OverflowError, OSError):
            aggregator.skipped += 1
            continue
        aggregator.add(AccessRecord(time=when, ip=row[index["c_ip"]], requester="", principal=Principal.UNKNOWN,
                                    operation=op, key=obj, status=status, bytes_sent=sent))


# --- Data Access audit logs exported by a log sink (JSON lines of LogEntry) ----------------------------------------

AUDIT_LOG = "gcp-data-access-audit-log"
NO_ALL_USERS = "Data Access audit logs never record allUsers (anonymous) requests: they show identified principals"
_AUDIT_OPS = {"storage.objects.get": Operation.READ, "storage.objects.list": Operation.LIST}


class AuditPrincipals:
    """An audit log's principalEmail: the project's own service accounts are the owner's, members of the
    organisation's domains the organisation's, anyone else external."""

    def __init__(self, project: str, domains: Iterable[str]) -> None:
        self._own = (f"@{project}.iam.gserviceaccount.com", f"@{project}.gserviceaccount.com")
        self._domains = tuple(d.lower() for d in domains)

    def of(self, email: str) -> Principal:
        email = email.lower()
        if not email or email == "allusers":
            return Principal.ANONYMOUS
        if email.endswith(self._own):
            return Principal.OWNER
        domain = email.rsplit("@", 1)[-1]
        return Principal.ORGANISATION if domain in self._domains else Principal.EXTERNAL


def audit_record(entry: dict[str, Any], bucket: str, principals: AuditPrincipals) -> AccessRecord | None:
    """One LogEntry -> a record of a read or list on ``bucket``; None for anything else. Raises ValueError (KeyError,
    TypeError) when it is not a LogEntry."""
    payload = entry["protoPayload"]
    resource = str(payload.get("resourceName", ""))
    base = f"projects/_/buckets/{bucket}"
    if resource != base and not resource.startswith(base + "/"):
        return None
    key = resource[len(base) + len("/objects/"):] if resource.startswith(base + "/objects/") else ""
    email = str((payload.get("authenticationInfo") or {}).get("principalEmail", ""))
    status = payload.get("status") or {}
    code = int(status.get("code", 0)) if isinstance(status, dict) else 0
    when = parse_utc(str(entry["timestamp"]))
    return AccessRecord(time=when, ip=str((payload.get("requestMetadata") or {}).get("callerIp", "")),
                        requester=email, principal=principals.of(email),
                        operation=_AUDIT_OPS.get(str(payload.get("methodName", "")), Operation.OTHER), key=key,
                        status=200 if code == 0 else 400, bytes_sent=0)


def feed_audit_log(lines: Iterable[bytes], bucket: str, principals: AuditPrincipals, aggregator: Aggregator) -> None:
    for line in lines:
        if not line.strip():
            continue
        aggregator.lines += 1
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            record = audit_record(entry, bucket, principals)
        except (ValueError, KeyError, TypeError, AttributeError):
            aggregator.skipped += 1
            continue
        if record is not None:
            aggregator.add(record)
