"""Policy JSON text, read strictly and within explicit bounds.

A bucket policy is written by whoever controls one bucket in one scanned account, so its text is hostile input.
``json.loads`` alone lets through what must not reach the analysis: a number with thousands of digits (Python's
int-from-string limit raises ValueError), nesting thousands deep (RecursionError), a key given twice (the last one
silently wins, so an Allow can hide behind a second "Statement"), lone UTF-16 surrogates that no output can encode.
Each becomes a ``JsonTextError`` saying what is wrong.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cloudwatchdog.providers.aws.policy.quote import clip

# AWS caps bucket and access-point policies at 20 KB; pretty-printed copies (check-policy reads Terraform output)
# may be larger, so the bound is well above that and still small enough to judge quickly.
MAX_CHARS = 64 * 1024
# A policy nests six deep: document, Statement list, statement, Condition, operator, key, value list.
MAX_DEPTH = 16
MAX_NUMBER_CHARS = 64

_STRUCTURE = re.compile(r'[\\"\[\]{}]')


class JsonTextError(ValueError):
    """Text that is not a policy-sized, well-formed JSON document."""


def load_json(text: str) -> Any:
    """The decoded document, or JsonTextError."""
    if len(text) > MAX_CHARS:
        raise JsonTextError(f"policy is {len(text)} characters long, more than the {MAX_CHARS} this reader takes")
    _check_depth(text)
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_int=_int, parse_float=_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"policy is not valid JSON: {exc}") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JsonTextError("policy is not valid JSON: a \\u escape is a lone UTF-16 surrogate") from None
    return value


def _check_depth(text: str) -> None:
    """Nesting is measured on the text, before the decoder recurses into it. Only brackets outside strings count;
    a backslash inside a string escapes the character after it."""
    depth = 0
    in_string = False
    escaped_until = -1
    for match in _STRUCTURE.finditer(text):
        at = match.start()
        if at < escaped_until:
            continue
        char = text[at]
        if in_string:
            if char == "\\":
                escaped_until = at + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonTextError(f"policy nests deeper than {MAX_DEPTH} levels (a policy needs 6)")
        elif char in "]}":
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            sid = next((v for k, v in pairs if k == "Sid" and isinstance(v, str)), None)
            where = f' in statement "{clip(sid)}"' if sid else ""
            raise JsonTextError(
                f"policy has the key {clip(key)!r} twice{where}: JSON readers disagree on which one counts and the "
                "other may hold an Allow, so the policy is not judged on one reading"
            )
        out[key] = value
    return out


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonTextError(f"policy has a number {len(text)} characters long (at most {MAX_NUMBER_CHARS})")
    return text


def _int(text: str) -> int:
    return int(_number_text(text))


def _float(text: str) -> float:
    return float(_number_text(text))


def _constant(name: str) -> Any:
    raise JsonTextError(f"policy is not valid JSON: {name} is not a JSON value")
