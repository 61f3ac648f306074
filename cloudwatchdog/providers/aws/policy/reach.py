"""Who a grant path reaches, in the context of the account that owns the policy.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cloudwatchdog.providers.aws.policy.principals import Principal
from cloudwatchdog.providers.aws.policy.quote import show_list

ResourceKind = Literal["bucket", "access-point"]


@dataclass(frozen=True)
class Context:
    account_id: str
    resource: ResourceKind
    trusted_orgs: frozenset[str]
    variables: bool  # policy variables are interpreted only under Version 2012-10-17

    @property
    def source(self) -> str:
        return "bucket-policy" if self.resource == "bucket" else "access-point-policy"


@dataclass(frozen=True)
class Reach:
    """Who a grant path reaches: everyone, or the union of private paths, external identities and networks."""

    everyone: bool = False
    private: frozenset[str] = frozenset()  # owner account, trusted org, VPC, service: not external
    identities: frozenset[str] = frozenset()  # external principals: account ids, ARNs, org:, canonical:
    networks: frozenset[str] = frozenset()  # ip:<cidr>: unauthenticated access from those networks

    @property
    def nobody(self) -> bool:
        return not (self.everyone or self.private or self.identities or self.networks)

    @property
    def external(self) -> frozenset[str]:
        return self.identities | self.networks

    def union(self, other: Reach) -> Reach:
        if self.everyone or other.everyone:
            return EVERYONE
        return Reach(
            False,
            self.private | other.private,
            self.identities | other.identities,
            self.networks | other.networks,
        )

    def narrow(self, other: Reach) -> Reach:
        """Both must hold (AND). An exact intersection is not representable; keep the narrower side: a private
        restriction beats an identity restriction, which beats a network one. Equally narrow sides are united,
        which can only over-report external principals, never hide them."""
        if self.everyone:
            return other
        if other.everyone:
            return self
        if self.nobody or other.nobody:
            return NOBODY
        mine, theirs = self._rank, other._rank
        if mine != theirs:
            return self if mine < theirs else other
        return self.union(other)

    @property
    def _rank(self) -> int:
        if not self.external:
            return 0
        return 1 if self.identities else 2


EVERYONE = Reach(everyone=True)
NOBODY = Reach()


def union_all(reaches: Iterable[Reach]) -> Reach:
    """The union of many reaches at once (one set each, not one copy a step)."""
    private_: set[str] = set()
    identities: set[str] = set()
    networks: set[str] = set()
    for reach in reaches:
        if reach.everyone:
            return EVERYONE
        private_ |= reach.private
        identities |= reach.identities
        networks |= reach.networks
    return Reach(False, frozenset(private_), frozenset(identities), frozenset(networks))


def private(why: str) -> Reach:
    return Reach(private=frozenset({why}))


def principal_reach(principal: Principal, ctx: Context) -> Reach:
    """The reach of a fixed (not everyone) principal."""
    if principal.kind == "service":
        return private(f"service {principal.value}")
    if principal.kind == "deleted":
        return NOBODY
    if principal.account == ctx.account_id:
        return private(f"owner account {ctx.account_id}")
    return Reach(identities=frozenset({principal.value}))


def account_reach(account: str, spelled: str, ctx: Context) -> Reach:
    if account == ctx.account_id:
        return private(f"owner account {account}")
    return Reach(identities=frozenset({spelled}))


def reach_text(reach: Reach) -> str:
    if reach.everyone:
        return "public"
    if reach.external:
        return "external principals " + show_list(sorted(reach.external))
    return "private path (" + show_list(sorted(reach.private)) + ")"
