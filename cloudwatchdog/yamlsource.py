"""YAML loading that remembers where every key came from, so errors can name the file, line and key.

Used by the config, the rule loader and the demo estate. Duplicate keys are rejected (PyYAML silently keeps the last
one, which hides typos in a rule or config). Loading is bounded in time and memory whatever the file holds: a file
over ``MAX_BYTES``, aliases that would expand to more than ``MAX_NODES`` values (a "billion laughs" bomb), an alias
that refers to itself, or nesting deeper than ``MAX_DEPTH`` is an error naming the file and line, not minutes of
work or a RecursionError. Anchors, aliases and merge keys (``<<: *defaults``) otherwise work as YAML says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

KeyPath = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024  # a config or rule file is a few kilobytes
MAX_NODES = 200_000  # values after expanding aliases
MAX_DEPTH = 100  # nested mappings and lists
_TRUSTED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml, when PyYAML was built with it


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


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


def load_yaml_text(text: str, file: str, *, trusted: bool = False) -> YamlDocument:
    """``trusted`` (the rules shipped with the package, never user input) parses with libyaml when PyYAML has it:
    the same nodes, lines and checks, in a tenth of the time; user files keep the pure-Python parser."""
    if len(text) > MAX_BYTES:
        raise SourceErrors([SourceError(file, None, "", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")])
    try:
        node = yaml.compose(text, Loader=_TRUSTED_LOADER if trusted else yaml.SafeLoader)
    except RecursionError:
        raise SourceErrors([SourceError(file, None, "", f"nested deeper than {MAX_DEPTH} levels")]) from None
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
    try:
        doc.data = _Builder(doc, errors).construct(node, ())
    except _TooBig as exc:
        raise SourceErrors([SourceError(file, exc.line, "", str(exc))]) from None
    if errors:
        raise SourceErrors(errors)
    return doc


def load_yaml_file(path: str | Path, *, trusted: bool = False) -> YamlDocument:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceErrors([SourceError(str(p), None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SourceErrors([SourceError(str(p), None, "", f"not UTF-8 text: {exc}")]) from None
    return load_yaml_text(text, str(p), trusted=trusted)


class _Builder:
    """Python values from a composed node graph, counting every value it builds (an alias is built again each time
    it is used, so the count is what the document expands to) and refusing cycles and deep nesting."""

    def __init__(self, doc: YamlDocument, errors: list[SourceError]) -> None:
        self.doc = doc
        self.errors = errors
        self.loader = yaml.SafeLoader("")  # for scalars and merge keys only; one per document
        self.built = 0
        self.active: set[int] = set()  # the nodes being built: meeting one again is an alias of itself

    def construct(self, node: yaml.Node, path: KeyPath) -> Any:
        self.built += 1
        if self.built > MAX_NODES:
            raise _TooBig(node, f"aliases expand to more than {MAX_NODES:,} values (an alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise _TooBig(node, f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self.active:
            raise _TooBig(node, "an alias refers to the node that contains it (a self-referencing anchor)")
        if isinstance(node, yaml.MappingNode):
            self.active.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self.active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self.active.add(id(node))
            try:
                items = []
                for i, item in enumerate(node.value):
                    self.doc.lines[(*path, i)] = item.start_mark.line + 1
                    items.append(self.construct(item, (*path, i)))
                return items
            finally:
                self.active.discard(id(node))
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            # e.g. 2026-02-30: YAML reads it as a date, which does not exist
            value = getattr(node, "value", "")
            self.errors.append(SourceError(self.doc.file, node.start_mark.line + 1, format_path(path),
                                           f"{str(value)[:80]!r} is not a valid {_tag_name(node.tag)}: {exc}"))
            return None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        doc = self.doc
        own = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        try:
            self.loader.flatten_mapping(node)  # merge keys (<<: *anchor) become ordinary entries, merged ones first
        except RecursionError:
            raise _TooBig(node, "merge keys refer to each other in a cycle") from None
        own_ids = {id(k) for k, _ in own}
        merged = [(k, v) for k, v in node.value if id(k) not in own_ids]
        self.built += len(node.value)
        if self.built > MAX_NODES:
            raise _TooBig(node, f"aliases expand to more than {MAX_NODES:,} values (an alias bomb?)")
        out: dict[Any, Any] = {}
        for key_node, value_node in own:
            key = self._key(key_node, path)
            if key is None:
                continue
            child = (*path, key)
            if key in out:
                self.errors.append(SourceError(doc.file, key_node.start_mark.line + 1, format_path(child),
                                               f"duplicate key (first defined on line {doc.lines.get(child)})"))
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = self.construct(value_node, child)
        # Merged keys fill in what the mapping does not set itself; of several merged mappings the first listed wins
        # (PyYAML flattens them last-listed first).
        for key_node, value_node in reversed(merged):
            key = self._key(key_node, path)
            if key is None or key in out:
                continue
            child = (*path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = self.construct(value_node, child)
        return out

    def _key(self, key_node: yaml.Node, path: KeyPath) -> str | None:
        key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str | int | float | bool):
            self.errors.append(SourceError(self.doc.file, key_node.start_mark.line + 1, format_path(path),
                                           "mapping keys must be plain scalars"))
            return None
        return key if isinstance(key, str) else str(key)


def _tag_name(tag: str) -> str:
    name = tag.rsplit(":", 1)[-1]
    return {"timestamp": "date", "int": "number", "float": "number", "bool": "true/false"}.get(name, name)


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
