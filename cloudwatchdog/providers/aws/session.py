"""AWS account discovery: which accounts to scan and how to enter each one (where credentials come from is
``credentials``).

Nothing here reads a resource; ``collect`` does. Every way into an account ends in an ``AccountTarget``:
either a (botocore) session acting as that account, or the reason it could not be entered, in one line. Never logs
credentials.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

from cloudwatchdog.providers.aws.bucket_endpoints import share_bucket_endpoints
from cloudwatchdog.providers.aws.credentials import (
    DEFAULT_REGION,
    default_source,
    describe_exception,
    entry_failure,
    new_core,
    profile_session,
    refuse_non_loopback,
    region_of,
    shared_session,
    source_of,
)
from cloudwatchdog.providers.aws.host_pools import size_host_pools
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsOrganization, AwsProvider

log = logging.getLogger("cloudwatchdog.providers.aws.collect")

SESSION_NAME = "cloudwatchdog"
T = TypeVar("T")
_CLIENT_LOCK = threading.Lock()
# The session accounts are entered from, or why there is none (a missing or broken AWS_PROFILE, say): then every
# account that needs it is an error saying so, and the others are still scanned.
Base = botocore.session.Session | Exception


def _usable(base: Base) -> botocore.session.Session:
    if isinstance(base, Exception):
        raise base
    return base


# --- Per-account client factory -----------------------------------------------------------------------------


class CallCounter:
    """Thread-safe count of the HTTP requests an account's clients sent (retries included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n

    def hook(self, **_: Any) -> None:
        """A botocore ``before-send`` handler. Returns None so the request goes out."""
        self.add()


def strip_account_host_prefix(request: Any, **_: Any) -> None:
    """``before-sign.s3-control.*`` handler for emulator endpoints.

    botocore addresses S3 Control at ``https://<account-id>.<endpoint host>``; for ``http://127.0.0.1:5000``
    that host does not resolve. Drop the prefix from the URL before signing (so the signed Host matches); the
    account id still travels in the ``x-amz-account-id`` header.
    """
    account = request.headers.get("x-amz-account-id")
    if isinstance(account, bytes):
        account = account.decode()
    if not account:
        return
    parts = urlsplit(request.url)
    prefix = f"{account}."
    if parts.netloc.startswith(prefix):
        request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(prefix) :]))


def botocore_config(cfg: AwsProvider) -> Config:
    return Config(
        # total_max_attempts counts the first try too; botocore's max_attempts would count only the retries.
        retries={"mode": "adaptive", "total_max_attempts": cfg.max_attempts},
        max_pool_connections=max(10, cfg.max_workers * 2),
        connect_timeout=10,
        # Every call's parameters are built by the collectors, not typed in by a user: botocore's client-side check
        # of them against the model (a walk of every shape, on every request) would only catch our own bugs, which
        # the tests do. Names read from a listing still pass botocore's bucket-name check (a handler of its own),
        # and the service validates what it receives.
        parameter_validation=False,
        read_timeout=30,
        user_agent_extra="cloudwatchdog",
        # Emulators (moto, LocalStack) serve buckets path-style on one host.
        s3={"addressing_style": "path"} if cfg.effective_endpoint() or cfg.s3_addressing_style == "path" else None,
        # The emulator credential: no proxy from the environment (HTTPS_PROXY, ...) between us and 127.0.0.1.
        proxies={} if cfg.credential == "emulator" else None,
    )


def make_client(
    session: botocore.session.Session,
    service: str,
    cfg: AwsProvider,
    *,
    region: str | None = None,
    counter: CallCounter | None = None,
) -> Any:
    """A client with the collector's retry/pool config, the emulator endpoint if any, and the call counter.

    Typed ``Any`` on purpose: the collector drives clients by operation name (``call``), not by typed
    method."""
    endpoint = cfg.effective_endpoint()
    with _CLIENT_LOCK:  # a session is not thread-safe for creating clients; accounts are entered side by side
        client: BaseClient = session.create_client(
            service,
            region_name=region or region_of(session) or DEFAULT_REGION,
            endpoint_url=endpoint,
            config=botocore_config(cfg),
        )
        # The first paginator of each client lists the model files of every service to find its own; the loader
        # caches that listing, but threads asking at once would each make it (about 10 ms of CPU apiece): here,
        # under the lock, it is made once per loader.
        session.get_component("data_loader").list_available_services("paginators-1")
    if cfg.credential == "emulator":
        client.meta.events.register("before-send", refuse_non_loopback)
    if counter is not None:
        client.meta.events.register("before-send", counter.hook)
    if service == "s3":
        share_bucket_endpoints(client)  # one evaluation of S3's endpoint rules per kind of name, not per bucket
        size_host_pools(client, 2 * cfg.max_workers)  # one host per bucket: a pool for each bucket being read
    if endpoint and service == "s3control":
        client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    return client


class ClientFactory:
    """Clients of one account, one per (service, region), created once and shared by the worker threads.

    Sessions are not thread-safe for client creation, clients are: creation is serialised by a lock."""

    def __init__(self, session: botocore.session.Session, cfg: AwsProvider, counter: CallCounter) -> None:
        self.session = session
        self.cfg = cfg
        self.counter = counter
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self.default_region: str = region_of(session) or DEFAULT_REGION  # (looked up in the session's config)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.default_region)
        client = self._clients.get(key)  # the common case: made already (a dict read is atomic), no lock to wait on
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = make_client(self.session, service, self.cfg, region=key[1], counter=self.counter)
                self._clients[key] = client
            return client


# --- Entering accounts --------------------------------------------------------------------------------------


@dataclass
class AccountTarget:
    """One account to scan: a session acting as it, or why it could not be entered."""

    account: str
    name: str | None
    via: str  # how it was entered: default, profile:<name>, role:<arn>, organization-role:<arn>, ...
    session: botocore.session.Session | None = None
    error: str | None = None
    counter: CallCounter = field(default_factory=CallCounter)
    extra_calls: dict[str, Any] = field(
        default_factory=dict
    )  # e.g. organizations:ListAccounts on the manager
    organization_id: str | None = None  # the AWS Organization it was discovered through
    entry: Callable[[], AccountTarget] | None = None  # deferred entering (discover_accounts(lazy=True))

    def enter(self) -> None:
        """Enter the account now, if entering it was deferred: its session (or why there is none) and the calls
        entering took. Never raises (entering reports a failure as the target's error)."""
        entry, self.entry = self.entry, None
        if entry is not None:
            entered = entry()
            self.session, self.error, self.counter = entered.session, entered.error, entered.counter
            self.extra_calls.update(entered.extra_calls)


class EnterError(Exception):
    """An account could not be entered; the message is safe to log and report."""


def _caller_account(session: botocore.session.Session, cfg: AwsProvider, counter: CallCounter) -> tuple[str, str]:
    """(account id, caller ARN) of a session."""
    ident = make_client(session, "sts", cfg, counter=counter).get_caller_identity()
    return str(ident["Account"]), str(ident["Arn"])


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def assume_role_session(
    base: botocore.session.Session,
    role_arn: str,
    cfg: AwsProvider,
    *,
    external_id: str | None = None,
    counter: CallCounter | None = None,
) -> tuple[botocore.session.Session, str]:
    """A session acting through ``role_arn``, assumed from ``base``, refreshed before its credentials expire
    (a large account can take longer than the default hour). Returns (session, the assumed account id)."""
    sts = make_client(base, "sts", cfg, counter=counter)
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
    if external_id:
        kwargs["ExternalId"] = external_id
    assumed_account: list[str] = []

    def fetch() -> dict[str, str]:
        resp = sts.assume_role(**kwargs)
        creds = resp["Credentials"]
        arn = str(resp.get("AssumedRoleUser", {}).get("Arn", ""))
        assumed_account.append(arn.split(":")[4] if arn.count(":") >= 5 else "")
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    region = region_of(base) or DEFAULT_REGION
    core = new_core(cfg, region)
    # botocore has no public setter for refreshable credentials; this is the documented-by-usage way.
    core._credentials = credentials  # type: ignore[attr-defined]
    return shared_session(core, region), assumed_account[0] if assumed_account else ""


def _explicit(account: AwsAccount) -> AccountTarget:
    """A configured account's target, not entered yet."""
    if account.profile:
        via = f"profile:{account.profile}"
    elif account.role_arn:
        via = f"role:{account.role_arn}"
    else:
        via = "default"
    return AccountTarget(account=account.id, name=account.name, via=via)


def enter_explicit(account: AwsAccount, base: Base, cfg: AwsProvider) -> AccountTarget:
    """Enter one configured account: by profile, by assuming role_arn from the default chain, or the default
    chain itself. The account id is verified; a mismatch is an error (we must not scan the wrong account)."""
    target = _explicit(account)
    via = target.via
    try:
        if account.profile:
            session = profile_session(account.profile)
            actual, _ = _caller_account(session, cfg, target.counter)
        elif account.role_arn:
            session, actual = assume_role_session(
                _usable(base), account.role_arn, cfg, external_id=account.external_id, counter=target.counter
            )
        else:
            session = _usable(base)
            actual, _ = _caller_account(session, cfg, target.counter)
        if actual != account.id:
            raise EnterError(f"credentials ({via}) act as account {actual or '?'}, not {account.id}")
        target.session = session
    except EnterError as exc:
        target.error = str(exc)
    except Exception as exc:  # any SDK, config or network failure: the account is reported, never raised
        target.error = entry_failure(exc, source_of(via, cfg), cfg.effective_endpoint())
    if target.error:
        log.warning("aws account %s: %s", account.id, target.error)
    return target


def _list_org_accounts(
    manager: botocore.session.Session, cfg: AwsProvider, counter: CallCounter
) -> list[dict[str, Any]]:
    org = make_client(manager, "organizations", cfg, counter=counter)
    accounts: list[dict[str, Any]] = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts.extend(page.get("Accounts", []))
    return accounts


def enter_organization(
    org: AwsOrganization, base: Base, cfg: AwsProvider, *, skip: set[str], lazy: bool = False
) -> list[AccountTarget]:
    """Every ACTIVE member account (minus ``org.exclude`` and ``skip``), entered through
    ``org.role_name`` (``lazy``: when each is scanned, ``AccountTarget.enter``); the management account itself
    through its own credentials."""
    counter = CallCounter()
    source = f"profile {org.profile!r}" if org.profile else default_source(cfg)
    try:
        manager = profile_session(org.profile) if org.profile else _usable(base)
        manager_id, manager_arn = _caller_account(manager, cfg, counter)
    except Exception as exc:
        error = entry_failure(exc, source, cfg.effective_endpoint(), "enter the organization's management account")
        log.warning("aws organization: %s", error)
        return [
            AccountTarget(
                account="unknown", name="organization", via="organization", error=error, counter=counter
            )
        ]
    organization_id = _organization_id(manager, cfg, counter)
    try:
        members = _list_org_accounts(manager, cfg, counter)
        listing: dict[str, Any] = {"ok": {"Accounts": members}}
    except Exception as exc:
        code, message = describe_exception(exc)
        log.warning("aws organization %s: ListAccounts failed: %s: %s", manager_id, code, message)
        members = []
        listing = {"error": {"operation": "ListAccounts", "code": code, "message": message}}

    def member_target(member: dict[str, Any]) -> AccountTarget:
        account_id = str(member.get("Id", ""))
        role_arn = f"arn:{_partition(manager_arn)}:iam::{account_id}:role/{org.role_name}"
        return AccountTarget(account=account_id, name=member.get("Name"), via=f"organization-role:{role_arn}")

    def enter_member(member: dict[str, Any]) -> AccountTarget:
        target = member_target(member)
        account_id, role_arn = target.account, target.via.removeprefix("organization-role:")
        try:
            session, actual = assume_role_session(
                manager, role_arn, cfg, external_id=org.external_id, counter=target.counter
            )
            if actual and actual != account_id:
                raise EnterError(f"role {role_arn} acts as account {actual}, not {account_id}")
            target.session = session
        except EnterError as exc:
            target.error = str(exc)
        except Exception as exc:
            target.error = entry_failure(exc, f"role {role_arn} (assumed with {source})", cfg.effective_endpoint())
        if target.error:
            log.warning("aws account %s: %s", account_id, target.error)
        return target

    # Account.State replaces the deprecated Account.Status; either may be the only one in a reply.
    active = [m for m in members if (m.get("State") or m.get("Status")) == "ACTIVE"
              and str(m.get("Id", "")) not in org.exclude and str(m.get("Id", "")) not in skip]
    seen_manager = any(str(m.get("Id", "")) == manager_id for m in active)
    entered = iter(_side_by_side(enter_member, [m for m in active if str(m.get("Id", "")) != manager_id], cfg,
                                 member_target if lazy else None))
    targets: list[AccountTarget] = []
    for member in active:  # in the order the organization listed them
        if str(member.get("Id", "")) != manager_id:
            targets.append(next(entered))
            continue
        target = AccountTarget(account=manager_id, name=member.get("Name"), via="organization-management",
                               session=manager, counter=counter)
        target.extra_calls["ListAccounts"] = jsonable(listing)
        targets.append(target)

    if not seen_manager and "error" in listing:
        if manager_id not in skip and manager_id not in org.exclude:
            # Discovery failed: still scan what we can, and carry the failure on the management account.
            target = AccountTarget(
                account=manager_id, name=None, via="organization-management", session=manager, counter=counter
            )
            target.extra_calls["ListAccounts"] = listing
        else:
            # The management account is scanned (or excluded) elsewhere: the failure still needs an entry of its
            # own, or the missing member accounts would look like a complete scan.
            err = listing["error"]
            target = AccountTarget(
                account="unknown",
                name="organization",
                via="organization",
                error=f"cannot list the organization's accounts (management account {manager_id}): "
                f"ListAccounts failed: {err['code']}: {err['message']}",
                counter=counter,
            )
        targets.append(target)
    for target in targets:
        target.organization_id = organization_id
    return targets


def _organization_id(manager: botocore.session.Session, cfg: AwsProvider, counter: CallCounter) -> str | None:
    """The organization's id, so that policies limited to it are recognised as internal. A failure only means
    such policies show as cross-account (``org:<id>``), never as private: log it and go on."""
    try:
        org = make_client(manager, "organizations", cfg, counter=counter)
        return str(org.describe_organization()["Organization"]["Id"])
    except Exception as exc:
        code, message = describe_exception(exc)
        log.warning("aws organization: DescribeOrganization failed: %s: %s", code, message)
        return None


def jsonable(value: Any) -> Any:
    """An SDK response as plain JSON values: datetimes as ISO 8601 text, bytes as UTF-8 text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _side_by_side(enter: Callable[[T], AccountTarget], items: Sequence[T], cfg: AwsProvider,
                  later: Callable[[T], AccountTarget] | None = None) -> list[AccountTarget]:
    """Enter accounts ``max_accounts`` at a time (an AssumeRole is a round trip), in the given order; with
    ``later`` (the target of an item, not entered), each is entered only when ``AccountTarget.enter`` is called."""
    if later is not None:
        return [_deferred(later(i), enter, i) for i in items]
    if len(items) <= 1:
        return [enter(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(cfg.max_accounts, len(items)), thread_name_prefix="aws-enter") as pool:
        return list(pool.map(enter, items))


def _deferred(target: AccountTarget, enter: Callable[[T], AccountTarget], item: T) -> AccountTarget:
    target.entry = lambda: enter(item)
    return target


def discover_accounts(cfg: AwsProvider, base: Base, *, lazy: bool = False) -> list[AccountTarget]:
    """The accounts to scan: explicit ones, then organization members not already listed; with neither, the
    default chain's own account. ``base`` is the session accounts are entered from, or why there is none.
    ``lazy``: configured and member accounts are entered only when ``AccountTarget.enter`` is called (a scan
    enters each as it reads it, and lets its session go after: a session and its STS client are some 400 KiB, so
    entering a thousand accounts up front held 400 MiB)."""
    targets = _side_by_side(lambda a: enter_explicit(a, base, cfg), cfg.accounts, cfg, _explicit if lazy else None)
    if cfg.organization is not None:
        targets.extend(enter_organization(cfg.organization, base, cfg, skip={a.id for a in cfg.accounts},
                                          lazy=lazy))
    if not cfg.accounts and cfg.organization is None:
        target = AccountTarget(account="unknown", name=None, via="default")
        try:
            session = _usable(base)
            target.account, _ = _caller_account(session, cfg, target.counter)
            target.session = session
        except Exception as exc:
            target.error = entry_failure(exc, default_source(cfg), cfg.effective_endpoint())
            log.warning("aws default account: %s", target.error)
        targets.append(target)
    return targets


__all__ = [
    "AccountTarget",
    "Base",
    "CallCounter",
    "ClientFactory",
    "botocore_config",
    "discover_accounts",
    "jsonable",
    "make_client",
    "strip_account_host_prefix",
]
