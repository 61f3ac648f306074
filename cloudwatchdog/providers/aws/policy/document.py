"""A bucket or access-point policy as a typed, frozen document: parsed and checked once, judged elsewhere.

``parse_policy`` takes the JSON text (or an already decoded mapping) and returns a ``PolicyDocument`` or raises
``PolicyError`` saying what is wrong and where (statement Sid or index). A policy read from the cloud that it
cannot take becomes a ``ReadError`` with code ``MALFORMED_POLICY`` (normalize.py), so that the resource is judged
unknown with the reason as evidence.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudwatchdog.providers.aws.policy.jsontext import JsonTextError, load_json
from cloudwatchdog.providers.aws.policy.principals import (
    PRINCIPAL_TYPES,
    Principal,
    classify_principal,
    everyone,
)
from cloudwatchdog.providers.aws.policy.quote import clip, show_values
from cloudwatchdog.providers.base import PolicyError as BasePolicyError


class PolicyError(BasePolicyError):
    """A malformed policy document. The message says what is wrong and where (statement Sid or index)."""


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, for evidence
    base: str  # operator without set prefix and IfExists, e.g. StringEquals
    set_prefix: str  # "", "ForAnyValue:" or "ForAllValues:"
    if_exists: bool
    key: str  # as written
    values: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.operator} {clip(self.key)} {show_values(self.values)}"


@dataclass(frozen=True)
class Statement:
    label: str  # '"Sid"' or 'statement #N'
    effect: str
    principals: tuple[Principal, ...]
    not_principal: bool
    action_patterns: tuple[str, ...]
    not_action: bool
    resource_patterns: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class PolicyDocument:
    version: str | None
    statements: tuple[Statement, ...]

    @property
    def variables(self) -> bool:
        """Policy variables (``${aws:username}``) are interpreted only under Version 2012-10-17."""
        return self.version == "2012-10-17"


_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL_FIELDS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)


MALFORMED_POLICY = "MalformedPolicy"  # the ReadError code of a policy from the cloud that parse_policy rejects


def parse_policy(document: str | Mapping[str, Any]) -> PolicyDocument:
    """The typed document of a policy's JSON text (or decoded mapping). Raises PolicyError when malformed, or
    when judging it would take more than MAX_COMPARISONS pattern comparisons."""
    loaded = _load(document)
    statements = tuple(_parse_statement(raw, i) for i, raw in enumerate(_raw_statements(loaded)))
    comparisons = _comparisons(statements)
    if comparisons > MAX_COMPARISONS:
        raise PolicyError(
            f"policy is too complex to judge: its Deny statements need about {comparisons:,} pattern comparisons "
            f"against what its Allow statements grant (at most {MAX_COMPARISONS:,})"
        )
    version = loaded.get("Version")
    return PolicyDocument(version if isinstance(version, str) else None, statements)


# The analysis compares each Deny's action and resource patterns with what the Allow statements grant, and each
# Deny with each grant path: work that grows with products of the policy's lists, not with its length. Bounded
# here (about a second at most), so that every accepted document is judged in full. Real policies need thousands.
MAX_COMPARISONS = 250_000
_KNOWN_ACTIONS = 100  # an upper bound on the S3 actions the analysis knows by name (actions.py)


def _comparisons(statements: Sequence[Statement]) -> int:
    allows = [s for s in statements if s.effect == "Allow"]
    wildcards = sum(_wild(s.action_patterns) for s in allows)
    actions = _KNOWN_ACTIONS + sum(len(s.action_patterns) for s in allows)
    resources = sum(len(s.resource_patterns) for s in allows)
    paths = sum(len(s.principals) for s in allows)
    work = 2 * _KNOWN_ACTIONS * wildcards  # Allow patterns against the known action names
    for deny in (s for s in statements if s.effect == "Deny"):
        work += actions * _wild(deny.action_patterns) + 3 * len(deny.resource_patterns) * resources + paths
    return work


def _wild(patterns: Sequence[str]) -> int:
    return sum(1 for p in patterns if "*" in p or "?" in p)


def _load(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, str):
        try:
            document = load_json(document)
        except JsonTextError as exc:
            raise PolicyError(str(exc)) from None
    if not isinstance(document, Mapping):
        raise PolicyError(f"policy must be a JSON object, got {type(document).__name__}")
    unknown = sorted(set(document) - _TOP_LEVEL_FIELDS)
    if unknown:
        raise PolicyError(f"policy has unknown top-level field(s): {', '.join(unknown)}")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(f"policy Version {clip(repr(version))} is not one of {', '.join(_VERSIONS)}")
    if "Statement" not in document:
        raise PolicyError("policy has no Statement")
    return document


def _raw_statements(document: Mapping[str, Any]) -> list[Any]:
    statements = document["Statement"]
    # A single statement may be written as an object instead of a one-element list.
    if isinstance(statements, Mapping):
        return [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError("policy Statement must be an object or a non-empty list of objects")
    return statements


def _statement_label(raw: Any, index: int) -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("Sid"), str) and raw["Sid"]:
        return f'statement "{clip(raw["Sid"])}"'
    return f"statement #{index + 1}"


def _parse_statement(raw: Any, index: int) -> Statement:
    label = _statement_label(raw, index)
    where = label
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} is not an object")
    unknown = sorted(set(raw) - _STATEMENT_FIELDS)
    if unknown:
        raise PolicyError(f"{where} has unknown field(s): {', '.join(unknown)}")
    if "Sid" in raw and not isinstance(raw["Sid"], str):
        raise PolicyError(f"{where}: Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where}: Effect must be "Allow" or "Deny", got {clip(repr(effect))}')
    principal_field = _one_of(raw, "Principal", "NotPrincipal", where)
    action_field = _one_of(raw, "Action", "NotAction", where)
    resource_field = _one_of(raw, "Resource", "NotResource", where)
    return Statement(
        label=label,
        effect=effect,
        principals=_parse_principals(raw[principal_field], where, principal_field),
        not_principal=principal_field == "NotPrincipal",
        action_patterns=_strings(raw[action_field], where, action_field),
        not_action=action_field == "NotAction",
        resource_patterns=_strings(raw[resource_field], where, resource_field),
        not_resource=resource_field == "NotResource",
        conditions=_parse_conditions(raw.get("Condition", {}), where),
    )


def _one_of(raw: Mapping[str, Any], positive: str, negative: str, where: str) -> str:
    if positive in raw and negative in raw:
        raise PolicyError(f"{where} has both {positive} and {negative}")
    if positive in raw:
        return positive
    if negative in raw:
        return negative
    raise PolicyError(f"{where} has neither {positive} nor {negative}")


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{where}: {name} must be a non-empty string or a non-empty list of strings")
    return tuple(items)


def _parse_principals(raw: Any, where: str, name: str) -> tuple[Principal, ...]:
    if raw == "*":
        return (everyone(name),)
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f'{where}: {name} must be "*" or an object such as {{"AWS": [...]}}, got {clip(repr(raw))}')
    principals: list[Principal] = []
    for kind, values in raw.items():
        if kind not in PRINCIPAL_TYPES:
            raise PolicyError(f"{where}: {name} has unknown principal type {clip(repr(kind))}")
        for value in _strings(values, where, f"{name} {kind}"):
            principal = classify_principal(kind, value, name)
            if principal is None:
                raise PolicyError(f"{where}: unrecognised AWS principal {clip(repr(value))}")
            principals.append(principal)
    return tuple(principals)


def _parse_conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    conditions: list[Condition] = []
    for operator, block in raw.items():
        base, set_prefix, if_exists = _split_operator(operator, where)
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f"{where}: Condition operator {operator} must map condition keys to values")
        for key, value in block.items():
            values = _condition_values(value, where, f"{operator} {clip(key)}")
            conditions.append(Condition(operator, base, set_prefix, if_exists, key, values))
    return tuple(conditions)


_BASE_OPERATORS = frozenset(
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals",
        "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
        "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null",
    }
)  # fmt: skip


def _split_operator(operator: str, where: str) -> tuple[str, str, bool]:
    set_prefix = ""
    base = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if base.startswith(prefix):
            set_prefix, base = prefix, base[len(prefix) :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _BASE_OPERATORS or (if_exists and base == "Null"):
        raise PolicyError(f"{where}: unknown condition operator {clip(repr(operator))}")
    return base, set_prefix, if_exists


def _condition_values(value: Any, where: str, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(f"{where}: condition {what} has no values")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            raise PolicyError(
                f"{where}: condition {what} has a value that is not a string, number or boolean"
            )
    return tuple(out)
