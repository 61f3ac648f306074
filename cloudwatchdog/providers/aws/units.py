"""Distributed scans: AWS accounts as units of work (``Provider.units``).

Each configured account is a unit of its own. An organization is listed once, here in the coordinator, and each
ACTIVE member becomes a unit that names that one account (entered by the organization's role, assumed from the
default chain as ``collect`` would) with discovery off; the organization's id is trusted in every member's unit, as
``collect`` does. When the organization cannot be listed apart (its management account cannot be entered,
ListAccounts fails or lists nothing, or the organization's credentials are a profile that a member's account entry
cannot name), the organization stays one unit, whose ``collect`` reports exactly what a single-process scan would.

One difference in the raw answers: the management account's snapshot does not carry the organization's
ListAccounts answer (the coordinator made that call), and each unit's ``api_calls`` counts its own entry calls.
"""

from __future__ import annotations

import logging

from cloudwatchdog.providers.aws.credentials import base_session, describe_exception
from cloudwatchdog.providers.aws.session import (
    CallCounter,
    _caller_account,
    _list_org_accounts,
    _organization_id,
    _partition,
)
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.providers.base import Unit

log = logging.getLogger("cloudwatchdog.providers.aws.units")


def aws_units(cfg: AwsProvider) -> list[Unit]:
    units = [Unit(a.id, cfg.model_copy(update={"accounts": [a], "organization": None}), a.name)
             for a in cfg.accounts]
    if cfg.organization is not None:
        units.extend(_organization_units(cfg))
    elif not cfg.accounts:
        units.append(Unit("default", cfg))  # the default chain's own account, found by collect
    return units


def _organization_units(cfg: AwsProvider) -> list[Unit]:
    org = cfg.organization
    assert org is not None
    # One unit for the whole organization: its discovery runs in the worker, without the explicitly listed
    # accounts (they are units of their own, as discover_accounts skips them in a single-process scan).
    listed = {a.id for a in cfg.accounts}
    whole = Unit("organization", cfg.model_copy(update={"accounts": [], "organization": org.model_copy(
        update={"exclude": sorted(set(org.exclude) | listed)})}), "organization")
    if org.profile:
        return [whole]
    counter = CallCounter()
    try:
        manager = base_session(cfg)
        manager_id, manager_arn = _caller_account(manager, cfg, counter)
        members = _list_org_accounts(manager, cfg, counter)
    except Exception as exc:  # collect says why, in the organization's own snapshot
        code, message = describe_exception(exc)
        log.warning("aws organization: cannot list its accounts apart (%s: %s); it is one unit", code, message)
        return [whole]
    organization_id = _organization_id(manager, cfg, counter)
    trusted = sorted(set(cfg.trusted_organizations) | ({organization_id} if organization_id else set()))
    skip = {a.id for a in cfg.accounts} | set(org.exclude)
    units: list[Unit] = []
    for member in members:
        account_id = str(member.get("Id", ""))
        state = member.get("State") or member.get("Status")
        if state != "ACTIVE" or account_id in skip:
            continue
        name = member.get("Name") if isinstance(member.get("Name"), str) else None
        if account_id == manager_id:
            account = AwsAccount(id=account_id, name=name)
        else:
            role_arn = f"arn:{_partition(manager_arn)}:iam::{account_id}:role/{org.role_name}"
            account = AwsAccount(id=account_id, name=name, role_arn=role_arn, external_id=org.external_id)
        units.append(Unit(account_id, cfg.model_copy(update={
            "accounts": [account], "organization": None, "trusted_organizations": trusted}), name))
    return units or [whole]  # nothing listed: collect says so, as it would in one process
