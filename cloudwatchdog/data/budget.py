"""The light types of data sampling (no detector imported): a listed object, a read failure, the per-scan byte
budget. The Provider protocol names them, so importing them must stay cheap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: its key (untrusted text), size in bytes, last-modified time (ISO 8601, comparable as
    text) and version or ETag."""

    key: str
    size: int
    modified: str
    etag: str = ""


class ReadFailure(Exception):
    """An object (or the listing) could not be read: ``code`` (AccessDenied, KMS.DisabledException, SlowDown ...)
    and a message safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ResultCache(Protocol):
    """Earlier results by object version (the state store keeps them): JSON-able, counts and masked examples."""

    def get(self, key: str) -> Mapping[str, Any] | None: ...

    def put(self, key: str, result: Mapping[str, Any]) -> None: ...


class Budget:
    """The scan's sampling state: the bytes it may still read from objects (shared by every provider and
    resource) and, when the scan has a state store, what earlier scans found per object version (``cache``)."""

    def __init__(self, total: int, cache: ResultCache | None = None) -> None:
        self.total = total
        self.used = 0
        self.cache = cache

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.used)

    def take(self, wanted: int) -> int:
        granted = min(wanted, self.remaining)
        self.used += granted
        return granted

    def give_back(self, unused: int) -> None:
        self.used -= max(0, min(unused, self.used))
