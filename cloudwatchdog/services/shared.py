"""Equal parts of an account's resources held once: most buckets of an estate have the same verdict, evidence,
tags and settings, and 100,000 copies of them are most of a large scan's memory. The values are equal to what the
provider built (nothing changes in the results); only copies are let go. Nothing mutates a resource's parts once
it is built (``Resource`` is frozen; its mappings are read only), so sharing them is safe."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cloudwatchdog.model import Exposure, Resource


def _key(value: Any) -> Any:
    """A hashable key that is equal only for equal JSON-able values of the same types (1, 1.0 and True differ)."""
    if isinstance(value, Exposure):  # frozen: equal and hashable by its fields
        return value
    if isinstance(value, Mapping):
        return (type(value), tuple((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_key(v) for v in value))
    return (type(value), value)


class SharedParts:
    """One account's table of parts already seen (a table per account: its keys never outgrow one account)."""

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def _one(self, value: Any) -> Any:
        try:
            return self._seen.setdefault(_key(value), value)
        except TypeError:  # an unhashable value among the parts (a list in an exposure's tuple): kept as it is
            return value

    def resource(self, resource: Resource, account_name: str | None) -> Resource:
        """``resource`` with its exposure, tags and properties shared with equal ones seen before, and the
        account's name when it has one."""
        changes: dict[str, Any] = {
            "exposure": self._one(resource.exposure),
            "tags": self._one(resource.tags),
            "properties": self._one(resource.properties),
        }
        if account_name:
            changes["account_name"] = account_name
        return dataclasses.replace(resource, **changes)
