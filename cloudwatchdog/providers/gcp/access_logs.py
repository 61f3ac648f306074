"""Pure parser of Cloud Storage usage logs (CSV with a header row of quoted names: "time_micros", "c_ip",
"c_ip_type", "c_ip_region", "cs_method", "cs_uri", "sc_status", "cs_bytes", "sc_bytes", "time_taken_micros",
"cs_host", "cs_referer", "cs_user_agent", "s_request_id", "cs_operation", "cs_bucket", "cs_object") ->
``AccessRecord``.

A usage log names no principal: it cannot tell an anonymous request from an authenticated one, nor the owner's
own requests from a stranger's. Every request is therefore ``unknown`` (counted as external), and the dossier says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import AccessRecord, Operation, Principal

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
    rows = csv.reader(_text(lines))
    header = next(rows, None)
    if header is None:
        return
    try:
        index = {name: header.index(name) for name in _NEEDED}
        op_index = header.index("cs_operation") if "cs_operation" in header else None
    except ValueError:
        aggregator.lines += 1
        aggregator.skipped += 1
        return
    width = max(index.values()) + 1
    for row in rows:
        if not row:
            continue
        aggregator.lines += 1
        try:
            if len(row) < width:
                raise ValueError("short row")
            if row[index["cs_bucket"]] != bucket:
                continue
            obj = row[index["cs_object"]]
            op = operation_of(row[op_index] if op_index is not None and op_index < len(row) else "",
                              row[index["cs_method"]], obj)
            status = int(row[index["sc_status"]])
            when = datetime.fromtimestamp(int(row[index["time_micros"]]) / 1_000_000, UTC).replace(microsecond=0)
            sent = int(row[index["sc_bytes"]] or 0)
        except (ValueError, OverflowError, OSError):
            aggregator.skipped += 1
            continue
        aggregator.add(AccessRecord(time=when, ip=row[index["c_ip"]], requester="", principal=Principal.UNKNOWN,
                                    operation=op, key=obj, status=status, bytes_sent=sent))
