"""Effective exposure of Azure blob containers and storage accounts (docs/exposure.md, "Azure Blob").

A container is readable by anyone when three things hold together:

1. the container grants anonymous access: public access level ``Blob`` (read blobs) or ``Container`` (read and
   list), or it is ``$web`` and static website hosting is on (the website endpoint serves ``$web`` anonymously
   whatever its level, and whatever ``allowBlobPublicAccess`` says: Microsoft documents that disallowing anonymous
   access does not affect static websites);
2. the account allows it: ``allowBlobPublicAccess`` true or unset (null) - false neutralises every container level
   (latent), not the static website;
3. the network lets the internet in: ``publicNetworkAccess`` not Disabled and the firewall's ``defaultAction``
   Allow (or no rule set). The firewall applies to the website endpoint too.

Decisions where the documentation leaves a choice (documented in the README):

- ``defaultAction: Deny`` with IP or virtual network rules restricts anonymous access to those networks. That is not
  "anyone on the internet", so the verdict is ``private`` with ``latent`` (one change - the default action - away
  from public) and the rules as evidence. But IP rules that together admit more than a /8 of IPv4 (16.7 million
  addresses) or a /32 of IPv6 are treated as the internet (``public``), as docs/exposure.md does for aws:SourceIp.
- ``publicNetworkAccess: Disabled``, or Deny with no rule at all, closes the public endpoint: ``private`` and
  ``latent`` when a container grants anonymous access (private endpoints still serve it anonymously).
- ``publicNetworkAccess: SecuredByPerimeter`` defers to a network security perimeter whose rules are not read: a
  verdict that depends on it is ``unknown``.
- Trusted-service bypass and resource instance rules admit authenticated Azure services only: never anonymous.
- ``allowSharedKeyAccess`` does not affect anonymous access; the account resource carries it for its own rule.
- An unreadable static website setting makes ``$web`` ``unknown``, behind the firewall too: on, the site would be
  public (open network) or latent (restricted or closed network); off, it adds nothing. Only when the container's
  own level already makes it latent behind the firewall does the setting not matter.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cloudwatchdog.model import NO_CAPABILITIES, Capabilities, Evidence, Exposure, Level, ReadError
from cloudwatchdog.providers.azure.model import BlobContainer, StaticWebsite, StorageAccount

NetworkKind = Literal["internet", "restricted", "closed", "unknown"]
Route = Literal["public", "latent", "none", "unknown"]

BROAD_IPV4 = 2**24  # more addresses than a /8 is "the internet"
BROAD_IPV6 = 2**96  # more than a /32

_ACCESS = {"Blob": Capabilities(read=True), "Container": Capabilities(read=True, list=True)}
_WEBSITE_ACCESS = Capabilities(read=True)


# --- The network --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkReach:
    """Who reaches the account's public endpoint: the internet, only the listed networks, nobody, or unknown."""

    kind: NetworkKind
    detail: str
    rules: tuple[str, ...] = ()  # for ``restricted``: the IP ranges and subnets admitted
    error: ReadError | None = None


def _ip_space(rules: Sequence[str]) -> tuple[int, int] | str:
    """(IPv4, IPv6) addresses the rules admit together, or the text of a rule that is not an address/range."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for rule in rules:
        try:
            network = ipaddress.ip_network(rule.strip(), strict=False)
        except ValueError:
            return rule
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return (sum(n.num_addresses for n in ipaddress.collapse_addresses(v4)),
            sum(n.num_addresses for n in ipaddress.collapse_addresses(v6)))


def _subnet_name(subnet_id: str) -> str:
    """``vnet/subnet`` of a subnet resource id, for readable evidence (the full id is in the properties)."""
    parts = subnet_id.rstrip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "virtualnetworks" in lowered and "subnets" in lowered:
        vnet = parts[lowered.index("virtualnetworks") + 1] if lowered.index("virtualnetworks") + 1 < len(parts) else "?"
        return f"{vnet}/{parts[-1]}"
    return subnet_id


def network_reach(account: StorageAccount) -> NetworkReach:
    """How the account's public endpoint is reachable (docs/exposure.md, the network clause)."""
    pna = account.public_network_access
    if isinstance(pna, ReadError):
        return NetworkReach("unknown", f"publicNetworkAccess could not be read: {pna.describe()}", error=pna)
    if pna is not None and pna.lower() == "disabled":
        return NetworkReach("closed", "publicNetworkAccess is Disabled: the public endpoint refuses every request; "
                                      "only private endpoints reach the account")
    if pna is not None and pna.lower() == "securedbyperimeter":
        return NetworkReach("unknown", "publicNetworkAccess is SecuredByPerimeter: a network security perimeter "
                                       "decides who reaches the account, and its rules are not read")
    if pna is not None and pna.lower() != "enabled":
        return NetworkReach("unknown", f"publicNetworkAccess has an unexpected value {pna!r}")
    pna_text = "publicNetworkAccess is Enabled" if pna else "publicNetworkAccess is not set (Enabled)"
    net = account.network
    if isinstance(net, ReadError):
        return NetworkReach("unknown", f"the network rule set could not be read: {net.describe()}", error=net)
    if net is None:
        return NetworkReach("internet", f"{pna_text} and there is no network rule set: every network reaches the "
                                        "public endpoint")
    if net.default_action == "Allow":
        ignored = len(net.ip_rules) + len(net.virtual_network_rules)
        extra = f" (its {ignored} IP and virtual network rules restrict nothing then)" if ignored else ""
        return NetworkReach("internet", f"{pna_text} and the firewall's defaultAction is Allow: every network "
                                        f"reaches the public endpoint{extra}")
    space = _ip_space(net.ip_rules)
    if isinstance(space, str):
        return NetworkReach("unknown", f"the firewall has an IP rule that is not an address or range: {space!r}")
    v4, v6 = space
    if v4 > BROAD_IPV4 or v6 > BROAD_IPV6:
        return NetworkReach(
            "internet",
            f"{pna_text}; the firewall's defaultAction is Deny, but its IP rules ({', '.join(net.ip_rules)}) admit "
            f"{v4 + v6:,} addresses, more than a /8: treated as the whole internet",
            tuple(net.ip_rules),
        )
    admitted = [f"IP {r}" for r in net.ip_rules] + [f"subnet {_subnet_name(s)}" for s in net.virtual_network_rules]
    if not admitted:
        return NetworkReach("closed", f"{pna_text}, but the firewall's defaultAction is Deny with no IP or virtual "
                                      "network rule: no network reaches the public endpoint")
    return NetworkReach(
        "restricted",
        f"{pna_text}; the firewall's defaultAction is Deny: only {', '.join(admitted)} reach the public endpoint",
        tuple(net.ip_rules) + tuple(net.virtual_network_rules),
    )


def _network_notes(account: StorageAccount) -> list[Evidence]:
    net = account.network
    if isinstance(net, ReadError) or net is None:
        return []
    notes = []
    if net.bypass and net.bypass.lower() != "none":
        notes.append(Evidence("network", f"firewall bypass for {net.bypass}: trusted Azure services authenticate; "
                                         "no anonymous access comes from it"))
    if net.resource_access_rules:
        notes.append(Evidence("network", f"{len(net.resource_access_rules)} resource instance rule(s): "
                                         "authenticated Azure resources only, never anonymous"))
    return notes


# --- The account flag ---------------------------------------------------------------------------------------


def blob_public_access_allowed(account: StorageAccount) -> bool | None:
    """Does ``allowBlobPublicAccess`` let containers grant anonymous access? (true or unset: yes) None: unreadable."""
    flag = account.allow_blob_public_access
    if isinstance(flag, ReadError):
        return None
    return flag is not False


def _flag_evidence(account: StorageAccount) -> Evidence:
    flag = account.allow_blob_public_access
    if isinstance(flag, ReadError):
        return Evidence("read-error", flag.describe())
    if flag is False:
        return Evidence("account-public-access", f"allowBlobPublicAccess is false on storage account {account.name}: "
                                                 "anonymous requests are refused whatever the container level")
    if flag is True:
        return Evidence("account-public-access", f"allowBlobPublicAccess is true on storage account {account.name}")
    return Evidence("account-public-access", f"allowBlobPublicAccess is not set on storage account {account.name}; "
                                             "Azure treats an unset value as allowed")


# --- Container verdict --------------------------------------------------------------------------------------


@dataclass
class _Report:
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[Evidence] = field(default_factory=list)
    routes: list[tuple[Route, Capabilities]] = field(default_factory=list)

    def add(self, source: str, detail: str) -> None:
        self.evidence.append(Evidence(source, detail))

    def note(self, source: str, detail: str) -> None:
        self.notes.append(Evidence(source, detail))


def _through_network(reach: NetworkReach, access: Capabilities, report: _Report) -> None:
    """A grant that the account lets through: public, latent or unknown depending on the network."""
    if reach.kind == "internet":
        report.add("network", reach.detail)
        report.routes.append(("public", access))
    elif reach.kind in ("restricted", "closed"):
        report.add("network", f"{reach.detail} (latent: anonymous access from the internet is one network setting "
                              "away)")
        report.routes.append(("latent", access))
    else:
        report.add("read-error" if reach.error else "network", f"{reach.detail}: cannot tell whether the internet "
                                                               "reaches it")
        report.routes.append(("unknown", access))


def _blob_endpoint_route(container: BlobContainer, reach: NetworkReach, report: _Report) -> None:
    account = container.account
    level = container.public_access
    if isinstance(level, ReadError):
        report.add("read-error", level.describe())
        report.routes.append(("unknown", NO_CAPABILITIES))
        return
    if level == "None":
        report.note("container-public-access", f"container {container.name} has public access level None (private): "
                                               "anonymous requests to the blob endpoint are refused")
        report.routes.append(("none", NO_CAPABILITIES))
        return
    access = _ACCESS[level]
    what = "read its blobs (not list them)" if level == "Blob" else "list and read its blobs"
    report.add("container-public-access", f"container {container.name} has public access level {level}: anonymous "
                                          f"requests may {what}")
    allowed = blob_public_access_allowed(account)
    report.add(*_flag_pair(account))
    if allowed is False:
        report.routes.append(("latent", access))
        report.note("network", reach.detail)
        return
    if allowed is None and reach.kind not in ("restricted", "closed"):
        report.routes.append(("unknown", access))
        report.note("network", reach.detail)
        return
    _through_network(reach, access, report)


def _flag_pair(account: StorageAccount) -> tuple[str, str]:
    ev = _flag_evidence(account)
    detail = ev.detail
    if account.allow_blob_public_access is False:
        detail += " (latent)"
    return ev.source, detail


def _website_route(container: BlobContainer, reach: NetworkReach, report: _Report) -> None:
    website: StaticWebsite | ReadError | None = container.account.static_website
    if website is None:
        website = ReadError("GetBlobServiceProperties", "NotCollected", "the static website setting was not read")
    if isinstance(website, ReadError):
        _unreadable_website(website, reach, report)
        return
    if not website.enabled:
        report.note("static-website", "static website hosting is off: $web is an ordinary container")
        report.routes.append(("none", NO_CAPABILITIES))
        return
    index = f" (index document {website.index_document})" if website.index_document else ""
    report.add("static-website", f"static website hosting is on{index}: the website endpoint serves every blob in "
                                 "$web anonymously, whatever the container's access level and allowBlobPublicAccess")
    _through_network(reach, _WEBSITE_ACCESS, report)


def _unreadable_website(error: ReadError, reach: NetworkReach, report: _Report) -> None:
    """The static website setting could not be read. On an open network the site would be public; behind a
    restricting or closed firewall it would be latent (one network change away from public), and off it would add
    nothing: either way the verdict depends on the setting, so it is unknown, never plainly private. The one
    exception: the container's own level already makes it latent with read access behind that firewall, which is all
    the website could add."""
    restricted = reach.kind in ("restricted", "closed")
    if restricted and any(state == "latent" and access.read for state, access in report.routes):
        report.note("static-website", f"the static website setting could not be read ({error.describe()}); the "
                                      "container is latent through its access level whether or not the website is on")
        report.routes.append(("none", NO_CAPABILITIES))
        return
    report.add("read-error", f"{error.describe()}: cannot tell whether the $web container is served as a static "
                             "website")
    if restricted:
        report.add("network", f"{reach.detail}: if the website is on, it is held back by the network (latent), not "
                              "public")
    report.routes.append(("unknown", _WEBSITE_ACCESS))


def _verdict(report: _Report, *, unknown: bool = False) -> Exposure:
    states = {state for state, _ in report.routes}
    public = NO_CAPABILITIES
    latent = NO_CAPABILITIES
    for state, access in report.routes:
        if state == "public":
            public = public | access
        elif state == "latent":
            latent = latent | access
    evidence = tuple(dict.fromkeys(report.evidence + report.notes))
    if "public" in states:
        return Exposure(Level.PUBLIC, False, public.read, public.list, public.write, (), evidence)
    if "unknown" in states or unknown:
        return Exposure(Level.UNKNOWN, evidence=evidence)
    if "latent" in states:
        return Exposure(Level.PRIVATE, True, latent.read, latent.list, latent.write, (), evidence)
    return Exposure(Level.PRIVATE, evidence=evidence)


def container_exposure(container: BlobContainer) -> Exposure:
    """The effective exposure of one blob container, with its evidence, decisive facts first."""
    reach = network_reach(container.account)
    report = _Report()
    _blob_endpoint_route(container, reach, report)
    if container.is_web:
        _website_route(container, reach, report)
    report.notes.extend(_network_notes(container.account))
    return _verdict(report)


def anonymous_grant(container: BlobContainer) -> bool | None:
    """Do the container's own settings grant anonymous access (level Blob/Container, or $web with the static website
    on), guardrails aside? None when a setting needed to tell is unreadable."""
    level = container.public_access
    grants: bool | None = None if isinstance(level, ReadError) else level in _ACCESS
    if container.is_web and grants is not True:
        website = container.account.static_website
        if isinstance(website, StaticWebsite):
            return True if website.enabled else grants
        return None
    return grants


# --- Account verdict ----------------------------------------------------------------------------------------


def account_exposure(account: StorageAccount, containers: Sequence[tuple[str, Exposure]]) -> Exposure:
    """The account's exposure: can anyone read its blob data? Public when a container is, unknown when the container
    listing is incomplete or a container's verdict is unknown, latent when a container is latent."""
    report = _Report()
    public = [(name, e) for name, e in containers if e.level is Level.PUBLIC]
    unknown = [name for name, e in containers if e.level is Level.UNKNOWN]
    latent = [(name, e) for name, e in containers if e.level is not Level.PUBLIC and e.latent]
    for name, e in public:
        report.add("container", f"container {name} is public ({_access(e)})")
        report.routes.append(("public", Capabilities(e.read, e.list, e.write)))
    if account.containers_error is not None:
        report.add("read-error", f"the container listing is incomplete: {account.containers_error.describe()}")
    for error in account.other_errors:
        report.add("read-error", error.describe())
    for name in unknown:
        report.add("container", f"the exposure of container {name} could not be determined")
    for name, e in latent:
        report.add("container", f"container {name} grants anonymous access held back by a guardrail (latent: "
                                f"{_access(e)})")
        report.routes.append(("latent", Capabilities(e.read, e.list, e.write)))
    ev = _flag_evidence(account)
    report.note(ev.source, ev.detail)
    report.note("network", network_reach(account).detail)
    if not public and not latent and not unknown and account.containers_error is None:
        report.note("container", f"none of its {len(containers)} containers grants anonymous access")
    incomplete = account.containers_error is not None or bool(unknown) or bool(account.other_errors)
    return _verdict(report, unknown=incomplete)


def _access(e: Exposure) -> str:
    granted = [cap for cap, on in (("read", e.read), ("list", e.list), ("write", e.write)) if on]
    return ", ".join(granted) or "metadata only"


__all__ = [
    "BROAD_IPV4",
    "BROAD_IPV6",
    "NetworkReach",
    "account_exposure",
    "anonymous_grant",
    "blob_public_access_allowed",
    "container_exposure",
    "network_reach",
]
