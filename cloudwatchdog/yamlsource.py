"""YAML loading that remembers where every key came from, so errors can name the file, line and key.

Used by the config and the rule loader. Duplicate keys are rejected (PyYAML silently keeps the last one, which
hides typos in a rule or config).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError:
    """One problem in an input file, located as precisely as the file allows."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class SourceErrors(Exception):
    """Raised with every problem found in one or more files."""

    def __init__(self, errors: Sequence[SourceError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class YamlDocument:
    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest key on ``path`` that the file has (1-based)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def error(self, path: Sequence[str | int], message: str) -> SourceError:
        return SourceError(self.file, self.line_of(path), format_path(path), message)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml_text(text: str, file: str) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceErrors([SourceError(file, line, "", f"invalid YAML: {problem}")]) from None
    doc = YamlDocument(file=file, data=None)
    if node is None:
        return doc
    errors: list[SourceError] = []
    doc.lines[()] = node.start_mark.line + 1
    doc.data = _construct(node, (), doc, errors)
    if errors:
        raise SourceErrors(errors)
    return doc


def load_yaml_file(path: str | Path) -> YamlDocument:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceErrors([SourceError(str(p), None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SourceErrors([SourceError(str(p), None, "", f"not UTF-8 text: {exc}")]) from None
    return load_yaml_text(text, str(p))


_scalar_loader = yaml.SafeLoader("")


def _construct(node: yaml.Node, path: KeyPath, doc: YamlDocument, errors: list[SourceError]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        _scalar_loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _construct(key_node, path, doc, errors)
            if not isinstance(key, str | int | float | bool) or key is None:
                errors.append(SourceError(doc.file, key_node.start_mark.line + 1, format_path(path),
                                          "mapping keys must be plain scalars"))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                errors.append(SourceError(doc.file, key_node.start_mark.line + 1, format_path(child),
                                          f"duplicate key (first defined on line {doc.lines.get(child)})"))
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, doc, errors)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            items.append(_construct(item, (*path, i), doc, errors))
        return items
    return _scalar_loader.construct_object(node, deep=True)


def validation_errors(exc: ValidationError, doc: YamlDocument) -> list[SourceError]:
    """Turn a pydantic ValidationError into located errors."""
    out = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        # pydantic puts the union member or validator name into loc for tagged unions; keep only real keys.
        real = _real_path(loc, doc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")  # pydantic's prefix for a validator's own message
        out.append(doc.error(real, msg))
    return out


def _real_path(loc: list[str | int], doc: YamlDocument) -> list[str | int]:
    """Drop pydantic's synthetic location parts (union members such as ``list[str]``, validator names such as
    ``function-after[...]``) that are not keys in the file; keep a missing required key's name."""
    real: list[str | int] = []
    node: Any = doc.data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            real.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _synthetic(part):
            real.append(part)  # a required key that the file lacks
            node = None
    return real


def _synthetic(part: str) -> bool:
    return "[" in part or "-" in part
