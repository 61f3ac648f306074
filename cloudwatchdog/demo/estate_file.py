"""The demo estate's data files (``cloudwatchdog/demo/estate/*.yaml``), read with the project's YAML loader into
typed specs: a mistake in a file is an error naming the file, the line and the key, as for a config or a rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cloudwatchdog.yamlsource import KeyPath, SourceErrors, load_yaml_file, validation_errors

ESTATE_DIR = Path(__file__).with_name("estate")

M = TypeVar("M", bound=BaseModel)
# What a file's structure cannot say (a name given twice, a reference to nothing): (where, what is wrong) pairs.
Check = Callable[[M], Iterable[tuple[KeyPath, str]]]


def load_estate(model: type[M], path: Path, check: Check[M] | None = None) -> M:
    """``path`` validated as ``model``; raises ``SourceErrors`` with every problem, each located in the file."""
    doc = load_yaml_file(path)
    try:
        spec = model.model_validate(doc.data)
    except ValidationError as exc:
        raise SourceErrors(validation_errors(exc, doc)) from None
    errors = [doc.error(where, message) for where, message in (check(spec) if check else ())]
    if errors:
        raise SourceErrors(errors)
    return spec


def duplicates(names: Iterable[tuple[KeyPath, str]], what: str) -> list[tuple[KeyPath, str]]:
    """A problem for every name given a second time."""
    seen: set[str] = set()
    out = []
    for where, name in names:
        if name in seen:
            out.append((where, f"{what} {name!r} is declared twice"))
        seen.add(name)
    return out


__all__ = ["ESTATE_DIR", "duplicates", "load_estate"]
