"""The principals of a Principal/NotPrincipal element: what each spelling stands for.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
ACCOUNT_ID = re.compile(r"^\d{12}$")
IAM_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::([^:]*):(.+)$")
# IAM replaces the ARN of a deleted user or role in a policy by its unique id; it then matches nobody.
_UNIQUE_ID = re.compile(r"^(?:AIDA|AROA|AIPA|ANPA|ANVA|AGPA|ASIA|AKIA)[A-Z0-9]{12,}$")


@dataclass(frozen=True)
class Principal:
    """One principal of a Principal/NotPrincipal element.

    ``kind``: everyone | account | arn | canonical | service | deleted. ``value`` is the external-principal
    spelling (12-digit account id, ARN as given, ``canonical:<id>``, service name). ``account`` is the owning
    account when known. ``label`` is how the policy wrote it, for evidence.
    """

    kind: str
    value: str
    account: str | None
    label: str
    anyone: bool = False  # "*" or {"AWS": "*"}: matches every request, anonymous ones included

    @property
    def is_everyone(self) -> bool:
        return self.kind == "everyone"


def everyone(name: str) -> Principal:
    """``Principal: "*"`` (``name`` is Principal or NotPrincipal)."""
    return Principal("everyone", "*", None, f'{name} "*"', anyone=True)


def classify_principal(kind: str, value: str, name: str) -> Principal | None:
    """The principal ``{kind: value}`` of element ``name``; None for an AWS principal we do not recognise."""
    label = f'{name} {{"{kind}": "{value}"}}'
    if value == "*":
        # Only "*" and {"AWS": "*"} cover every request; {"Federated": "*"}, {"Service": "*"} reach everyone in an
        # Allow but do not, in a Deny or NotPrincipal, cover anonymous requests.
        return Principal("everyone", "*" if kind == "AWS" else f"{kind}:*", None, label, anyone=kind == "AWS")
    if kind == "AWS":
        return _aws_principal(value, label)
    if kind == "Service":
        return Principal("service", value, None, label)
    if kind == "CanonicalUser":
        return Principal("canonical", f"canonical:{value}", None, label)
    return _federated_principal(value, label)


def _aws_principal(value: str, label: str) -> Principal | None:
    if ACCOUNT_ID.match(value):
        return Principal("account", value, value, label)
    match = IAM_ARN.match(value)
    if match:
        account, rest = match.groups()
        if "*" in account or "?" in account:
            return Principal("everyone", value, None, label)  # any account: everyone authenticated
        if rest == "root":
            return Principal("account", account, account, label)
        return Principal("arn", value, account, label)
    if _UNIQUE_ID.match(value):
        return Principal("deleted", value, None, label)
    return None


def _federated_principal(value: str, label: str) -> Principal:
    match = IAM_ARN.match(value)
    if match and ACCOUNT_ID.match(match.group(1)):
        # A SAML/OIDC provider of one account: its federated users belong to that account.
        return Principal("arn", value, match.group(1), label)
    # Web identity providers (Cognito, Google, Facebook, Login with Amazon): anyone can sign in.
    return Principal("everyone", value, None, label)


def principal_in(principal: Principal, listed: Sequence[Principal], *, loose: bool = False) -> bool:
    """Is ``principal`` among ``listed``? ``loose`` (for NotPrincipal, where a match exempts from the Deny) also
    counts any principal class that reaches everyone, such as a web identity provider, as containing it."""
    for other in listed:
        if other.anyone or other.value == principal.value or (loose and other.is_everyone):
            return True
        if other.kind == "account" and principal.account == other.account:
            return True
    return False
