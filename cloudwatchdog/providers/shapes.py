"""Shape checks shared by every normalizer: a cloud answer that does not have the documented shape raises
ShapeError, which the normalizers turn into a per-resource read error (never a crash, never "private")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ShapeError(ValueError):
    """A response that does not have the documented shape."""


def as_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ShapeError(f"{what} is not a mapping: {type(value).__name__}")
    return value


def as_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ShapeError(f"{what} is not a string: {value!r}")
    return value


def as_non_empty_str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{what} is not a non-empty string: {value!r}")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(f"{what} is not a list: {type(value).__name__}")
    return value


def as_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ShapeError(f"{what} is not a boolean: {value!r}")
    return value
