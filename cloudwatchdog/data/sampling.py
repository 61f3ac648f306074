"""Which objects to read and how much: the per-resource plan and the per-scan byte budget. Pure: a provider lists
objects and reads ranges through the callables it passes in."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cloudwatchdog.data.budget import Budget, ObjectInfo, ReadFailure
from cloudwatchdog.data.classify import ObjectFindings, classify_object, summarise
from cloudwatchdog.data.readers import INFLATE_FACTOR, listed_only
from cloudwatchdog.model import DataClass, DataSample, DataStatus

LIST_LIMIT = 5000  # keys listed per resource to choose from


def _prefix(key: str) -> str:
    return key.rsplit("/", 1)[0] if "/" in key else ""


def choose(objects: Sequence[ObjectInfo], max_objects: int) -> list[ObjectInfo]:
    """Up to ``max_objects`` readable objects covering the resource: the newest and the largest first, then the
    newest of each prefix in turn, so one busy folder does not hide the others."""
    readable = [o for o in objects if o.size > 0 and not listed_only(o.key)]
    if not readable or max_objects <= 0:
        return []
    newest = sorted(readable, key=lambda o: (o.modified, o.size), reverse=True)
    picked: dict[str, ObjectInfo] = {}
    for o in (newest[0], max(readable, key=lambda o: o.size)):
        picked.setdefault(o.key, o)
    queues: dict[str, list[ObjectInfo]] = {}
    for o in newest:
        queues.setdefault(_prefix(o.key), []).append(o)
    while len(picked) < max_objects and any(queues.values()):
        for queue in queues.values():
            while queue and queue[0].key in picked:
                queue.pop(0)
            if queue and len(picked) < max_objects:
                o = queue.pop(0)
                picked[o.key] = o
    return list(picked.values())[:max_objects]


Lister = Callable[[int], list[ObjectInfo]]  # limit -> listed objects (raises ReadFailure)
Reader = Callable[[ObjectInfo, int], bytes]  # (object, bytes from the start) -> bytes (raises ReadFailure)


def cache_key(scope: str, o: ObjectInfo, max_bytes: int) -> str | None:
    """Where an object version's result is kept: None when the cloud gave no version or ETag (then it is read)."""
    if not o.etag or not scope:
        return None
    key = f"{scope}\x00{o.key}\x00{o.etag}\x00{max_bytes}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def findings_to_json(f: ObjectFindings) -> dict[str, Any]:
    return {"key": f.key, "read": f.read, "counts": {c.value: n for c, n in f.counts.items()},
            "examples": {c.value: list(v) for c, v in f.examples.items()}}


def findings_from_json(doc: Mapping[str, Any], key: str) -> ObjectFindings | None:
    try:
        return ObjectFindings(key, bool(doc["read"]), {DataClass(c): int(n) for c, n in doc["counts"].items()},
                              {DataClass(c): tuple(str(x) for x in v) for c, v in doc["examples"].items()})
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # an entry of another version or shape: read the object again


def sample_resource(list_objects: Lister, read: Reader, *, max_objects: int, max_bytes: int,
                    budget: Budget, scope: str = "") -> DataSample:
    """List, choose, read a bounded prefix of each chosen object, classify, sum up. An object version classified by
    an earlier scan (same ``scope``, key, version or ETag and byte limit, in ``budget.cache``) is not read again."""
    try:
        objects = list_objects(LIST_LIMIT)
    except ReadFailure as exc:
        return DataSample(DataStatus.UNKNOWN, f"objects could not be listed: {exc}")
    chosen = choose(objects, max_objects)
    findings: list[ObjectFindings] = []
    errors: list[str] = []
    bytes_read = 0
    exhausted = False
    for o in chosen:
        ck = cache_key(scope, o, max_bytes) if budget.cache is not None else None
        cached = budget.cache.get(ck) if budget.cache is not None and ck is not None else None
        earlier = findings_from_json(cached, o.key) if cached is not None else None
        if earlier is not None:
            findings.append(earlier)
            continue
        wanted = min(max_bytes, o.size)
        granted = budget.take(wanted)
        if granted <= 0:
            exhausted = True
            break
        try:
            data = read(o, granted)[:granted]
        except ReadFailure as exc:
            budget.give_back(granted)
            errors.append(f"{o.key}: {exc}")
            continue
        budget.give_back(granted - len(data))
        bytes_read += len(data)
        found = classify_object(o.key, data, truncated=len(data) < o.size, max_text=max_bytes * INFLATE_FACTOR)
        findings.append(found)
        if budget.cache is not None and ck is not None:
            budget.cache.put(ck, findings_to_json(found))
    if exhausted and not findings and not errors:
        return DataSample(DataStatus.NOT_SAMPLED, "the scan's byte budget (data_sampling.scan_byte_budget) is spent",
                          len(objects))
    result = summarise(findings, listed=len(objects), bytes_read=bytes_read, errors=errors, attempted=len(chosen))
    if exhausted:
        note = "the scan's byte budget ran out before every chosen object was read"
        return DataSample(result.status, f"{result.reason}; {note}" if result.reason else note, result.objects_listed,
                          result.objects_sampled, result.bytes_read, result.classes)
    return result


__all__ = ["Budget", "ObjectInfo", "ReadFailure", "choose", "sample_resource"]
