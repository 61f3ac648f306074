"""Message and remediation templates: ``{placeholder}`` over a resource document, checked when a rule loads.

A deliberately small renderer instead of ``str.format``: placeholders name fields of the matched document
only, so a rule file can never reach Python attributes. ``{{`` and ``}}`` are literal braces.

Placeholders::

    {resource.uid|name|account|region|type|provider}   {resource.tags.<key>}
    {exposure.level|latent|read|list|write|external_principals|evidence|access}
    {properties.<dotted.path>}
    {data.status|reason|summary|objects_listed|objects_sampled|bytes_read}   what data sampling found
    {evidence}              the evidence details joined with "; "
    {external_principals}   comma-joined

``{name|fallback}`` renders ``fallback`` when the value is absent, null or empty.
``{exposure.access}`` names the capabilities behind the verdict ("read, list, write", or "metadata only").
Values render plainly: lists comma-joined, booleans true/false, mappings ``key=value, ...``, absent or null
``(none)``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cloudwatchdog.rules.match import ABSENT, resolve

RESOURCE_FIELDS: Final = ("uid", "name", "account", "region", "type", "provider")
EXPOSURE_FIELDS: Final = (
    "level", "latent", "read", "list", "write", "external_principals", "evidence", "access",
)
DATA_FIELDS: Final = ("status", "reason", "summary", "objects_listed", "objects_sampled", "bytes_read")
NONE_TEXT: Final = "(none)"


def shell_quote(value: str) -> str:
    """A value as one shell word: unchanged when it is plainly safe (``my-bucket``), single-quoted otherwise."""
    return shlex.quote(value)


class TemplateError(ValueError):
    """A template that cannot be parsed or names an unknown placeholder."""


@dataclass(frozen=True)
class Placeholder:
    name: str  # e.g. "resource.name"
    fallback: str | None = None  # rendered when the value is absent, null or empty: {name|fallback}


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, Placeholder))

    def render(self, doc: Mapping[str, Any], *, quote: Callable[[str], str] | None = None) -> str:
        """Render against a ``Resource.to_dict()`` document. ``quote`` wraps every value put in (``shell_quote``
        for a command line: a name from the cloud such as Azure's ``$web`` must not expand in a shell)."""
        wrap = quote or (lambda s: s)
        return "".join(p if isinstance(p, str) else wrap(_render(p, doc)) for p in self.parts)

    def missing(self, doc: Mapping[str, Any]) -> list[str]:
        """Placeholders without a fallback that would render as ``(none)`` for ``doc``: a rule lint (a message
        should say something for every failing resource), not an error at scan time."""
        return [
            p.name for p in self.parts
            if isinstance(p, Placeholder) and p.fallback is None and _empty(_value(p.name, doc))
        ]


def parse_template(text: str) -> Template:
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i + 1: i + 2] == ch:
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise TemplateError(f"unmatched '}}' at character {i + 1} (write '}}}}' for a literal brace)")
        if ch == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise TemplateError(f"unclosed '{{' at character {i + 1} (write '{{{{' for a literal brace)")
            name, bar, fallback = text[i + 1: end].partition("|")
            name = name.strip()
            _check_placeholder(name)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Placeholder(name, fallback if bar else None))
            i = end + 1
            continue
        literal.append(ch)
        i += 1
    if literal:
        parts.append("".join(literal))
    return Template(text, tuple(parts))


KNOWN_PLACEHOLDERS: Final = (
    *(f"resource.{f}" for f in RESOURCE_FIELDS),
    "resource.tags.<key>",
    *(f"exposure.{f}" for f in EXPOSURE_FIELDS),
    "properties.<path>",
    *(f"data.{f}" for f in DATA_FIELDS),
    "evidence",
    "external_principals",
)


def _check_placeholder(name: str) -> None:
    head, _, rest = name.partition(".")
    ok = (
        name in ("evidence", "external_principals")
        or (head == "resource" and (rest in RESOURCE_FIELDS or (rest.startswith("tags.") and len(rest) > 5)))
        or (head == "exposure" and rest in EXPOSURE_FIELDS)
        or (head == "properties" and rest != "" and all(rest.split(".")))
        or (head == "data" and rest in DATA_FIELDS)
    )
    if not ok:
        raise TemplateError(f"unknown placeholder {{{name}}} (known: {', '.join(KNOWN_PLACEHOLDERS)})")


def _value(name: str, doc: Mapping[str, Any]) -> Any:
    exposure = doc.get("exposure") or {}
    if name in ("evidence", "exposure.evidence"):
        details = [str(e.get("detail", "")) for e in exposure.get("evidence", []) if isinstance(e, Mapping)]
        return "; ".join(details) if details else ABSENT
    if name == "external_principals":
        return exposure.get("external_principals", ABSENT)
    if name == "exposure.access":
        granted = [cap for cap in ("read", "list", "write") if exposure.get(cap) is True]
        return ", ".join(granted) if granted else "metadata only"
    head, _, rest = name.partition(".")
    if head == "resource":
        if rest.startswith("tags."):
            tags = doc.get("tags") or {}
            return tags.get(rest[5:], ABSENT)
        return doc.get(rest, ABSENT)
    if head == "exposure":
        return exposure.get(rest, ABSENT)
    if head == "data":
        return (doc.get("data") or {}).get(rest, ABSENT)
    return resolve(doc.get("properties") or {}, rest.split("."))


def _empty(value: Any) -> bool:
    return value is ABSENT or value is None or (isinstance(value, list | tuple | Mapping) and not value)


def _render(p: Placeholder, doc: Mapping[str, Any]) -> str:
    value = _value(p.name, doc)
    if p.fallback is not None and _empty(value):
        return p.fallback
    return _text(value)


def _text(value: Any) -> str:
    if value is ABSENT or value is None:
        return NONE_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) if value else NONE_TEXT
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) if value else NONE_TEXT
    return str(value)
