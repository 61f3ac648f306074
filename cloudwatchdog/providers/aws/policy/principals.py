"""The principals of a Principal/NotPrincipal element: what each spelling stands for.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cloudwatchdog.providers.aws.policy.quote import clip

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
    label = f'{name} {{"{kind}": "{clip(value)}"}}'
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


@dataclass(frozen=True)
class PrincipalSet:
    """The principals a Deny lists, ready to be asked about many grant paths."""

    anyone: bool  # "*" or {"AWS": "*"}: contains every principal
    classes: bool  # some listed principal reaches everyone (a web identity provider, any account's root)
    values: frozenset[str]
    accounts: frozenset[str]  # accounts listed whole: contain each of their principals

    @classmethod
    def of(cls, principals: Iterable[Principal]) -> PrincipalSet:
        listed = tuple(principals)
        return cls(
            anyone=any(p.anyone for p in listed),
            classes=any(p.is_everyone for p in listed),
            values=frozenset(p.value for p in listed),
            accounts=frozenset(p.account for p in listed if p.kind == "account" and p.account is not None),
        )

    def contains(self, principal: Principal, *, loose: bool = False) -> bool:
        """``loose`` (for NotPrincipal, where a match exempts from the Deny) also counts any principal class that
        reaches everyone, such as a web identity provider, as containing it."""
        return (
            self.anyone
            or (loose and self.classes)
            or principal.value in self.values
            or (principal.account is not None and principal.account in self.accounts)
        )
