"""The match language of rules: parse a YAML expression once, evaluate it against plain resource documents.

Expressions::

    {all: [expr, ...]}   {any: [expr, ...]}   {not: expr}
    {path: dotted.path, <operator>: value}                       # a condition: exactly one operator
    {any_item: {path: list.path, match: expr}}                   # paths inside are relative to the item
    {all_items: {path: list.path, match: expr}}

A path that does not resolve (or resolves to null) is *absent*: ``exists: false`` matches it, ``equals: null``
matches only a present null, and every other operator is false on it. ``not`` is plain negation, so
``{not: {path: x, equals: 1}}`` is true when ``x`` is absent.

Parsing reports problems as ``(key path, message)`` pairs so the loader can locate them in the file; this
module knows nothing about files.

``matches`` takes an RE2 regular expression (google-re2): it matches in time linear in the text, whatever the
pattern, so a rule author's typo such as ``(a+)+$`` cannot freeze a scan or the daemon. RE2 has no lookarounds
and no backreferences; a pattern that uses them is a validation error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import re2  # type: ignore[import-untyped]

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]


class _Absent:
    """The value of a path that does not resolve."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()

OPERATORS: Final = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "exists",
    "greater_than",
    "less_than",
    "greater_or_equal",
    "less_or_equal",
    "matches",
)
COMBINATORS: Final = ("all", "any", "not", "any_item", "all_items")


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    operator: str
    value: Any  # for ``matches`` a compiled pattern

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class AllOf:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    expr: Expr


@dataclass(frozen=True)
class ItemMatch:
    """``any_item`` (``every=False``) or ``all_items`` (``every=True``) over the list at ``path``."""

    path: tuple[str, ...]
    expr: Expr
    every: bool


Expr = Condition | AllOf | AnyOf | Not | ItemMatch


# --- Evaluation ---------------------------------------------------------------------------------------------


def resolve(doc: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` in ``doc``, or ``ABSENT``. Digit segments index lists."""
    node = doc
    for part in path:
        if isinstance(node, Mapping):
            if part not in node:
                return ABSENT
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ABSENT
    return node


def matches(expr: Expr, doc: Any) -> bool:
    """Whether ``doc`` (a ``Resource.to_dict()``, or a list item inside ``any_item``) satisfies ``expr``."""
    if isinstance(expr, Condition):
        return _condition(expr, resolve(doc, expr.path))
    if isinstance(expr, AllOf):
        return all(matches(e, doc) for e in expr.items)
    if isinstance(expr, AnyOf):
        return any(matches(e, doc) for e in expr.items)
    if isinstance(expr, Not):
        return not matches(expr.expr, doc)
    items = resolve(doc, expr.path)
    if not isinstance(items, list):
        return False
    if expr.every:
        return all(matches(expr.expr, item) for item in items)
    return any(matches(expr.expr, item) for item in items)


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from numbers (YAML ``true`` must not equal ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _search(pattern: Any, text: str) -> bool:
    try:
        return pattern.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate (from a \u escape in cloud JSON): RE2 takes only UTF-8
        return pattern.search(text.encode("utf-8", "replace").decode("utf-8")) is not None


def compile_regex(pattern: str) -> Any:
    """An RE2 pattern (linear-time matching); raises ValueError saying what is wrong with it."""
    options = re2.Options()
    options.log_errors = False  # RE2 would print every rejected pattern to stderr
    try:
        return re2.compile(pattern, options)
    except UnicodeEncodeError:
        raise ValueError("invalid regular expression: it holds a lone surrogate") from None
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        reason = reason if len(reason) <= 200 else reason[:200] + "..."
        hint = ""
        if reason.startswith(("invalid perl operator", "invalid escape sequence")):
            hint = " (matches uses RE2, which runs in linear time: no lookarounds, no backreferences)"
        raise ValueError(f"invalid regular expression: {reason}{hint}") from None


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _condition(cond: Condition, actual: Any) -> bool:
    op, want = cond.operator, cond.value
    if op == "exists":
        present = actual is not ABSENT and actual is not None
        return present is want
    if actual is ABSENT:
        return False
    if op == "equals":
        return _same(actual, want)
    if op == "not_equals":
        return not _same(actual, want)
    if op == "in":
        return any(_same(actual, w) for w in want)
    if op == "not_in":
        return not any(_same(actual, w) for w in want)
    if op == "contains":
        if isinstance(actual, list):
            return any(_same(item, want) for item in actual)
        return isinstance(actual, str) and isinstance(want, str) and want in actual
    if op == "matches":
        return isinstance(actual, str) and _search(want, actual)
    if not _number(actual):
        return False
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "greater_than": lambda a, b: bool(a > b),
        "less_than": lambda a, b: bool(a < b),
        "greater_or_equal": lambda a, b: bool(a >= b),
        "less_or_equal": lambda a, b: bool(a <= b),
    }
    return compare[op](actual, want)


# --- Parsing ------------------------------------------------------------------------------------------------

ConditionCheck = Callable[[tuple[str, ...], str, Any], tuple[str, str] | None]
"""Extra validation of a document-level ``(path, operator, value)``; returns ``(key, message)`` for a problem
(key: ``path`` or the operator), else None. For a list path the operator is ``any_item``/``all_items`` and the
value None. Not applied inside ``any_item``/``all_items``, where paths are relative to the item."""

_SEGMENT = re.compile(r"^[^.\s]+$")


def suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean {close[0]}? " if close else ""


def parse_expr(data: Any, at: KeyPath, problems: list[Problem], check: ConditionCheck | None = None) -> Expr:
    """Parse ``data`` (found at key path ``at``). Problems are appended; the returned expression is only
    meaningful when none were added."""
    if not isinstance(data, dict):
        problems.append((at, "an expression must be a mapping: all, any, not, any_item, all_items, "
                             "or a condition (path + operator)"))
        return AllOf(())
    forms = [k for k in data if k in COMBINATORS]
    is_condition = "path" in data or any(k in OPERATORS for k in data)
    if len(forms) + int(is_condition) != 1:
        return _bad_form(data, at, problems, forms, is_condition)
    if is_condition:
        return _parse_condition(data, at, problems, check)
    form = forms[0]
    extra = [k for k in data if k != form]
    for k in extra:
        problems.append(((*at, k), f"unknown key next to {form}"))
    value = data[form]
    if form == "not":
        return Not(parse_expr(value, (*at, "not"), problems, check))
    if form in ("all", "any"):
        if not isinstance(value, list) or not value:
            problems.append(((*at, form), "must be a non-empty list of expressions"))
            return AllOf(())
        items = tuple(parse_expr(v, (*at, form, i), problems, check) for i, v in enumerate(value))
        return AllOf(items) if form == "all" else AnyOf(items)
    return _parse_items(value, (*at, form), form == "all_items", problems, check)


def _bad_form(data: dict[str, Any], at: KeyPath, problems: list[Problem], forms: list[str],
              is_condition: bool) -> Expr:
    if not forms and not is_condition:
        for k in data:
            problems.append(((*at, k), f"unknown key: {suggest(k, (*COMBINATORS, 'path'))}"
                                       f"an expression is one of {', '.join(COMBINATORS)} or a condition "
                                       "(path + operator)"))
        if not data:
            problems.append((at, "empty expression"))
    else:
        found = forms + (["a condition"] if is_condition else [])
        problems.append((at, f"an expression has exactly one form, found {' and '.join(found)}; "
                             "combine them with all or any"))
    return AllOf(())


def _parse_path(value: Any, at: KeyPath, problems: list[Problem]) -> tuple[str, ...] | None:
    if not isinstance(value, str) or not value:
        problems.append((at, "must be a dotted path such as exposure.level"))
        return None
    parts = tuple(value.split("."))
    if not all(_SEGMENT.match(p) for p in parts):
        problems.append((at, f"invalid path {value!r}: use dotted keys without spaces, e.g. exposure.level"))
        return None
    return parts


def _parse_condition(data: dict[str, Any], at: KeyPath, problems: list[Problem],
                     check: ConditionCheck | None) -> Expr:
    before = len(problems)
    ops = [k for k in data if k in OPERATORS]
    for k in data:
        if k != "path" and k not in OPERATORS:
            hint = suggest(k, OPERATORS)
            problems.append(((*at, k), f"unknown operator ({hint}known: {', '.join(OPERATORS)})"))
    if "path" not in data:
        problems.append(((*at, "path"), "required key is missing"))
    path = _parse_path(data.get("path"), (*at, "path"), problems) if "path" in data else None
    if len(ops) > 1:
        problems.append((at, f"a condition has exactly one operator, found {', '.join(ops)}"))
    elif not ops and len(problems) == before:
        problems.append((at, f"a condition needs an operator (known: {', '.join(OPERATORS)})"))
    if len(problems) != before or path is None:
        return AllOf(())
    op = ops[0]
    value = _check_value(op, data[op], (*at, op), problems)
    if check is not None and len(problems) == before:
        found = check(path, op, data[op])
        if found:
            problems.append(((*at, found[0]), found[1]))
    return Condition(path, op, value)


_SCALAR = (str, int, float, bool, type(None))


def _check_value(op: str, value: Any, at: KeyPath, problems: list[Problem]) -> Any:
    def bad(msg: str) -> None:
        problems.append((at, msg))

    if op in ("equals", "not_equals"):
        if not isinstance(value, (*_SCALAR, list)):
            bad("must be a scalar (string, number, boolean, null) or a list")
    elif op in ("in", "not_in"):
        if not isinstance(value, list) or not all(isinstance(v, _SCALAR) for v in value):
            bad("must be a list of scalars")
    elif op == "contains":
        if not isinstance(value, _SCALAR):
            bad("must be a scalar (an item of the list, or a substring)")
    elif op == "exists":
        if not isinstance(value, bool):
            bad("must be true or false")
    elif op == "matches":
        if not isinstance(value, str):
            bad("must be a regular expression string")
            return value
        try:
            return compile_regex(value)
        except ValueError as exc:
            bad(str(exc))
    elif not _number(value):
        bad("must be a number")
    return value


def _parse_items(value: Any, at: KeyPath, every: bool, problems: list[Problem],
                 check: ConditionCheck | None) -> Expr:
    if not isinstance(value, dict):
        problems.append((at, "must be a mapping with path (the list) and match (an expression on each item)"))
        return AllOf(())
    for k in value:
        if k not in ("path", "match"):
            problems.append(((*at, k), f"unknown key ({suggest(k, ('path', 'match'))}known: path, match)"))
    for k in ("path", "match"):
        if k not in value:
            problems.append(((*at, k), "required key is missing"))
    if "path" not in value or "match" not in value:
        return AllOf(())
    path = _parse_path(value["path"], (*at, "path"), problems)
    if path is not None and check is not None:
        found = check(path, str(at[-1]) if at else "", None)
        if found:
            problems.append(((*at, found[0]), found[1]))
    # Inside, paths are relative to the item: the document-level path check does not apply.
    inner = parse_expr(value["match"], (*at, "match"), problems, None)
    return ItemMatch(path or (), inner, every)
