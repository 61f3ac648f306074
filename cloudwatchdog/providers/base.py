"""What the core asks of a cloud: the ``Provider`` protocol.

Each cloud is one package under ``cloudwatchdog/providers/<name>/`` whose ``plugin.py`` holds one object that
implements this protocol, registered by one line in ``providers/registry.py``. The core (services, state, alerts,
render, daemon, CLI) reaches a cloud only through it and never names one.

- ``collect`` is I/O: the provider's config section -> raw snapshots (JSON-able API answers), one per account,
  project or subscription. It never raises for a cloud-side failure: an account it cannot read is a snapshot that
  says so (its coverage is ``error``). ``should_stop`` (a distributed unit whose scan stopped waiting for it) is
  asked between requests or resources: once it says yes, collect sends nothing more and returns soon, each account
  it did not read in full an ``error`` snapshot (its caller drops them anyway).
- ``analyse`` is pure: one snapshot -> its resources with their verdicts, and one coverage entry. A saved snapshot
  replays offline to the same verdicts.
- ``sample`` is I/O (data sampling): for the resources the scan chose, list objects, read a bounded prefix of a
  few and classify them (``cloudwatchdog.data``); a resource it cannot read is ``unknown`` with the reason, a type
  it cannot sample ``not_sampled``.

- ``access_evidence`` is I/O (``cloudwatchdog incident``): read the resource's access logs for its exposure windows
  and count who read it from outside (``cloudwatchdog.forensics``). A provider or resource type whose logs it does
  not analyse answers ``forensics.evidence.unsupported``: status unknown, with the reason, never "no access".

A plugin module imports nothing heavy at import time: its methods import the SDK-bound modules when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cloudwatchdog.data.budget import Budget
from cloudwatchdog.model import AccessLogging, Coverage, DataSample, Level, Resource, Snapshot
from cloudwatchdog.settings.base import ProviderSettings
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

if TYPE_CHECKING:  # annotations only: a scan does not load the forensics and change-event models
    from cloudwatchdog.events.model import ChangeTarget, EventSource
    from cloudwatchdog.forensics.model import AccessEvidence, AccessTarget, TimeSpan

# progress(label, advance): (account, 0) when an account starts, ("<account>/<resource>", 1) per resource read.
Progress = Callable[[str, int], None]
# should_stop(): True once the reading should end early (cheap: asked before each request or resource).
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class OcsfCloud:
    """How OCSF names this cloud and its account unit (``cloud.provider``, ``cloud.account.type_id``/``type``)."""

    provider: str
    account_type_id: int
    account_type: str


@dataclass(frozen=True)
class Starter:
    """`cloudwatchdog init`: what credentials were found for a provider (``found``, e.g. "AWS_PROFILE=prod") and
    its config section for a first scan (YAML, indented under `providers:`, comments included)."""

    found: str
    section: str


@dataclass(frozen=True)
class ProbeTarget:
    """`verify: {anonymous: true}`: the unauthenticated request that shows whether a resource is public, at the
    cloud's public endpoint (or the configured emulator's): ``operation`` LIST or READ; ``verify`` the TLS check
    (True, or a CA bundle path for an emulator)."""

    url: str
    operation: str
    verify: str | bool = True


@dataclass(frozen=True)
class Unit:
    """One unit of a distributed scan (``Provider.units``): ``settings`` are the provider's section narrowed to
    what one worker reads with one ``collect`` call, normally exactly one account (project, subscription) with
    discovery off. ``account`` names it for coverage when the unit fails ("organization" when it stands for several
    that could not be listed apart); ``name`` is the account's configured or discovered name."""

    account: str
    settings: ProviderSettings
    name: str | None = None


class PolicyError(ValueError):
    """A policy document that cannot be judged (not JSON, not a policy); the message says what and where."""


class PolicyVerdict(Protocol):
    """The verdict of one policy document alone (``check-policy``)."""

    @property
    def level(self) -> Level: ...

    def to_dict(self) -> dict[str, Any]:
        """The ``check-policy --json`` shape: level, read, list, write, external_principals, evidence."""


@runtime_checkable
class Provider(Protocol):
    name: str  # the config section (`providers.<name>`) and Resource.provider
    title: str  # for people: "AWS", "Google Cloud", "Azure"
    account_noun: str  # what an account is called there: account, project, subscription
    settings: type[ProviderSettings]  # the model of its config section
    ocsf: OcsfCloud
    # Resource types whose verdict rolls up others or carries account-level settings (Resource.aggregate).
    aggregate_types: frozenset[str]
    # Resource policies `cloudwatchdog check-policy` can judge offline (empty: none).
    policy_resources: tuple[str, ...]

    def default_settings(self) -> ProviderSettings | None:
        """The section used when there is no config file at all (None: the provider is off then)."""

    def starter(self, environ: Mapping[str, str], home: Path) -> Starter | None:
        """A first config section when credentials are visible in ``environ`` or files under ``home`` (no network
        call); None when none are."""

    def collect(self, settings: Any, progress: Progress | None = None,
                should_stop: ShouldStop | None = None) -> Iterator[Snapshot]:
        """I/O: raw snapshots of every configured or discovered account (``should_stop``: None, never), handed out
        one account at a time as each is read, in the order of the config or discovery: a caller that analyses
        each and lets it go holds a few accounts' raw answers at a time, not the estate's."""

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        """Pure: one snapshot -> resources with verdicts, and its coverage."""

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        """Pure: the verdict of one resource policy document alone (raises PolicyError)."""

    def sample(self, settings: Any, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
               scanned: Sequence[Resource]) -> dict[str, DataSample]:
        """I/O: what the objects of each of ``resources`` hold, by resource uid (every resource given gets an
        entry). ``scanned`` is every resource of this provider in the scan (an endpoint may live on a parent)."""

    def access_evidence(self, settings: Any, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
        """I/O: what the access logs say of ``target`` during ``windows`` (oldest first, closed at the end)."""

    def access_logging(self, settings: Any, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
        """I/O, after the analysis, for exposed resources only: whether access logs record their requests, by
        resource uid (a resource it cannot tell about is ``unknown`` with the reason)."""

    def probe_targets(self, settings: Any, resources: Sequence[Resource],
                      scanned: Sequence[Resource]) -> dict[str, ProbeTarget]:
        """Pure: for public ``resources``, the unauthenticated request to try, by uid (a resource it cannot probe
        is left out: the finding then says it was not probed). ``scanned``: every resource of the scan."""

    def units(self, settings: Any) -> list[Unit]:
        """Distributed scans: the section split into units, each ``collect``-ed by one worker. Discovery (an
        organization's accounts, ...) happens here, once, in the coordinator. The snapshots of all units together
        equal ``collect(settings)``'s. A provider that cannot split returns one unit of the whole section."""


@runtime_checkable
class ChangeEvents(Protocol):
    """Optional: a provider that follows its cloud's change events. A provider without these methods
    has no event source: the daemon scans it on its schedules only (``change_events`` returns None for it).

    - ``event_source``: its configured queue (``providers.<name>.events``), or None when none is configured.
    - ``rescan`` is I/O like ``collect``, for one account only: ``targets`` None reads the whole account; else only
      the named resources, plus what their verdict needs (account-level guardrails). The snapshots it returns
      analyse like any other; none when the account is not one the config watches."""

    def event_source(self, settings: Any) -> EventSource | None: ...

    def rescan(self, settings: Any, account: str, targets: Sequence[ChangeTarget] | None) -> list[Snapshot]: ...


def change_events(provider: Provider) -> ChangeEvents | None:
    """The provider's change-event capability, or None when it has none."""
    return provider if isinstance(provider, ChangeEvents) else None


@runtime_checkable
class SharedTrust(Protocol):
    """Optional: a provider whose judgement of one account trusts every account of the scan (Google Cloud: the
    members of every scanned project are "ours" in each). A distributed scan reads each account in its own unit, so
    the coordinator unites the units' ``scan_trust`` and analyses each snapshot ``with_trust`` the whole of it, as
    one process would have judged it."""

    def scan_trust(self, snapshot: Snapshot) -> dict[str, set[str]]: ...

    def plan_trust(self, settings: Mapping[str, Any]) -> dict[str, set[str]]:
        """What a unit's settings (as JSON) make ours whether or not the unit is read: one process trusts every
        account it targets, even one it cannot read."""
        ...

    def with_trust(self, snapshot: Snapshot, trust: Mapping[str, set[str]]) -> Snapshot: ...


def shared_trust(provider: Provider) -> SharedTrust | None:
    """The provider's shared-trust capability, or None when its accounts are judged each on its own."""
    return provider if isinstance(provider, SharedTrust) else None
