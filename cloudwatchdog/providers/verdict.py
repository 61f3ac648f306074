"""The accumulator every exposure analysis fills (routes to the data, evidence, external principals) and the one
rule that turns it into a verdict: public wins, then unknown, then cross-account or private (latent when a public
route is held back by a guardrail)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cloudwatchdog.model import NO_CAPABILITIES, Capabilities, Evidence, Exposure, Level, ReadError

Route = Literal["public", "latent", "none", "unknown"]


@dataclass
class VerdictReport:
    """What the analysis has found so far; turned into an Exposure at the end."""

    evidence: list[Evidence] = field(default_factory=list)  # the facts that decide the verdict
    notes: list[Evidence] = field(default_factory=list)  # context: absent settings, guardrails with no effect
    routes: dict[str, Route] = field(default_factory=dict)
    would_be_public: Capabilities = NO_CAPABILITIES  # access of public or latent routes
    public_access: Capabilities = NO_CAPABILITIES  # access of public routes only
    external: set[str] = field(default_factory=set)
    external_access: Capabilities = NO_CAPABILITIES
    external_unknown: bool = False

    def add(self, source: str, detail: str) -> None:
        self.evidence.append(Evidence(source, detail))

    def note(self, source: str, detail: str) -> None:
        self.notes.append(Evidence(source, detail))

    def read_error(self, error: ReadError) -> None:
        self.add("read-error", error.describe())

    def route(self, name: str, route: Route, access: Capabilities) -> None:
        self.routes[name] = route
        if route in ("public", "latent"):
            self.would_be_public = self.would_be_public | access
        if route == "public":
            self.public_access = self.public_access | access

    def grant_external(self, principals: Sequence[str], access: Capabilities) -> None:
        if principals:
            self.external.update(principals)
            self.external_access = self.external_access | access


def verdict(report: VerdictReport, *, incomplete: bool = False) -> Exposure:
    routes = set(report.routes.values())
    external = tuple(sorted(report.external))
    if "public" in routes and not incomplete:
        access = report.public_access
        return _exposure(Level.PUBLIC, False, access, external, report)
    if "unknown" in routes or report.external_unknown or incomplete:
        return _exposure(Level.UNKNOWN, False, NO_CAPABILITIES, external, report)
    latent = "latent" in routes
    level = Level.CROSS_ACCOUNT if external else Level.PRIVATE
    access = report.would_be_public if latent else report.external_access if external else NO_CAPABILITIES
    return _exposure(level, latent, access, external, report)


def _exposure(
    level: Level, latent: bool, access: Capabilities, external: tuple[str, ...], report: VerdictReport
) -> Exposure:
    return Exposure(
        level=level,
        latent=latent,
        read=access.read,
        list=access.list,
        write=access.write,
        external_principals=external,
        # Decisive facts first (what messages and summaries quote), then the context.
        evidence=tuple(dict.fromkeys(report.evidence + report.notes)),
    )
