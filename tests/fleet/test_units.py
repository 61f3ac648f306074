"""Splitting a scan into units (Provider.units) and putting the units' answers back together (services.fleet).
The organization case runs against moto server: discovery happens once, and the units' snapshots judge exactly like
the single-process collect's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client
from cloudwatchdog.model import CoverageStatus
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsOrganization, AwsProvider
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.services.fleet import assemble, plan_units
from cloudwatchdog.services.fleet_queue import PlannedUnit
from cloudwatchdog.services.scan import analyse_snapshots
from cloudwatchdog.state.fleet import UnitOutcome


def _verdicts(snapshots: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    resources, coverage = analyse_snapshots(snapshots)
    return sorted((r.uid, r.exposure.level.value, r.account_name or "") for r in resources) + sorted(
        (c.account, c.status.value, c.name or "") for c in coverage)


def test_an_organization_is_listed_once_and_each_member_is_a_unit_that_reads_as_collect_does(
        moto: MotoServer) -> None:
    manager = account_session(moto.endpoint)
    org = emulator_client(manager, "organizations", moto.endpoint)
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    members = [org.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["AccountId"]
               for n in ("analytics", "sandbox", "explicit")]
    analytics, sandbox, explicit = members
    for account in (DEFAULT_ACCOUNT, analytics, explicit):
        s3 = account_session(moto.endpoint, account).client("s3", endpoint_url=moto.endpoint)
        s3.create_bucket(Bucket=f"b-{account}")
        s3.put_bucket_ownership_controls(Bucket=f"b-{account}", OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        s3.put_public_access_block(Bucket=f"b-{account}", PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
        s3.put_bucket_acl(Bucket=f"b-{account}", ACL="public-read")
    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", regions=["us-east-1"], sharing=False,
                      accounts=[AwsAccount(id=explicit, name="mine")],
                      organization=AwsOrganization(role_name="Audit", exclude=[sandbox]))
    aws = PROVIDERS.get("aws")

    units = aws.units(cfg)

    assert [u.account for u in units] == [explicit, DEFAULT_ACCOUNT, analytics]
    for unit in units:  # one account each, discovery off, the organization trusted
        assert unit.settings.organization is None and len(unit.settings.accounts) == 1
    assert units[0].settings.accounts[0].name == "mine"
    assert units[2].settings.accounts[0].role_arn == f"arn:aws:iam::{analytics}:role/Audit"
    assert units[2].name == "analytics"
    assert units[2].settings.trusted_organizations == [org_id]
    by_units = [s for u in units for s in aws.collect(u.settings)]
    assert _verdicts(by_units) == _verdicts(aws.collect(cfg))
    assert ("arn:aws:s3:::b-" + analytics, "public", "analytics") in _verdicts(by_units)


def test_an_organization_listed_empty_stays_one_unit(moto: MotoServer) -> None:
    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", regions=["us-east-1"],
                      organization=AwsOrganization())  # no organization in moto: nothing listed
    [unit] = PROVIDERS.get("aws").units(cfg)
    assert unit.account == "organization" and unit.settings.organization == cfg.organization
    # Explicitly listed accounts are units of their own: the organization's unit leaves them out, as a
    # single-process scan's discovery does, so no account is read twice.
    listed = cfg.model_copy(update={"accounts": [AwsAccount(id="123456789012")]})
    explicit, whole = PROVIDERS.get("aws").units(listed)
    assert explicit.account == "123456789012" and whole.account == "organization"
    assert whole.settings.accounts == [] and whole.settings.organization is not None
    assert whole.settings.organization.exclude == ["123456789012"]


def test_listed_projects_and_subscriptions_are_units_and_a_discovery_that_fails_is_one() -> None:
    gcp, azure = PROVIDERS.get("gcp"), PROVIDERS.get("azure")
    listed = gcp.settings.model_validate({"projects": [{"id": "proj-one", "name": "One"}, "proj-two"]})
    assert [(u.account, u.name, [p.id for p in u.settings.projects]) for u in gcp.units(listed)] == [
        ("proj-one", "One", ["proj-one"]), ("proj-two", None, ["proj-two"])]
    # (Discovery is tried, against the discard port on loopback: nothing answers, so the section stays whole.
    # tests/fleet/test_units_discovered.py splits discovered projects and subscriptions.)
    discovering = gcp.settings.model_validate({"organization": "123", "credential": "anonymous",
                                               "endpoint_url": "http://127.0.0.1:9", "retry_timeout": 0.5,
                                               "resource_manager_endpoint": "http://127.0.0.1:9"})
    assert [u.settings for u in gcp.units(discovering)] == [discovering]
    subs = ["0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"]
    split = azure.units(azure.settings.model_validate({"subscriptions": subs}))
    assert [(u.account, u.settings.subscriptions) for u in split] == [(s, [s]) for s in subs]
    listing = azure.settings.model_validate({"credential": "emulator", "arm_endpoint": "https://127.0.0.1:9",
                                             "max_attempts": 1})
    assert [u.settings for u in azure.units(listing)] == [listing]


def answer(unit: PlannedUnit, snapshots: list[dict[str, Any]], scan_id: str = "s") -> dict[str, Any]:
    """A unit's result as a worker writes it."""
    return {"scan_id": scan_id, "unit": unit.key, "provider": unit.provider, "account": unit.account,
            "snapshots": snapshots}


def test_a_unit_without_a_result_is_its_accounts_error_and_the_others_keep_their_order() -> None:
    cfg = Config.model_validate({"providers": {"aws": {"accounts": [
        {"id": "111111111111", "name": "one"}, {"id": "222222222222", "name": "two"},
        {"id": "333333333333"}]}}})
    units = plan_units(cfg)
    assert [u.account for u in units] == ["111111111111", "222222222222", "333333333333"]
    snapshot = {"schema_version": 1, "provider": "aws", "account": "333333333333", "status": "ok", "calls": {},
                "buckets": [], "access_points": [], "access_point_listings": {}}
    outcomes = {units[0].key: UnitOutcome(units[0].key, "failed", 3, None, "timed out: unfinished", None),
                units[2].key: UnitOutcome(units[2].key, "ok", 1, "w", None, answer(units[2], [snapshot])),
                # units[1]: no row at all
                }
    resources, coverage, failed, kept = assemble(units, outcomes.get, scan_id="s")
    assert kept == [snapshot] and assemble(units, outcomes.get, scan_id="s", keep_raw=False)[3] == []
    assert (resources, coverage) == analyse_snapshots([snapshot])  # the one unit with a result, analysed
    assert [c.account for c in coverage] == ["333333333333"]
    assert [(c.account, c.status, c.name) for c in failed] == [
        ("111111111111", CoverageStatus.ERROR, "one"), ("222222222222", CoverageStatus.ERROR, "two")]
    assert "timed out" in failed[0].errors[0] and "no result" in failed[1].errors[0]
    # A malformed result is no result: the account is an error, never empty and fine.
    bad = {units[2].key: UnitOutcome(units[2].key, "ok", 1, "w", None, {**answer(units[2], []), "snapshots": "oops"})}
    assert [c.account for c in assemble(units[2:], bad.get, scan_id="s")[2]] == ["333333333333"]
    # An account's unit that says nothing of it (an empty list) is no result either: the account never vanishes.
    empty = {units[2].key: UnitOutcome(units[2].key, "ok", 1, "w", None, answer(units[2], []))}
    assert [c.account for c in assemble(units[2:], empty.get, scan_id="s")[2]] == ["333333333333"]


@pytest.mark.parametrize("extra", [["--no-state"], ["--state-url", "sqlite:///{tmp}/s.db"]])
@pytest.mark.parametrize("fleet", ["", "fleet: {url: 'postgresql://127.0.0.1:1/queue'}\n"])
def test_distributed_needs_the_shared_postgresql_store(tmp_path: Path, extra: list[str], fleet: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A PostgreSQL queue (fleet.url) does not make a SQLite store shared: the units' results live in the store."""
    config = tmp_path / "c.yaml"
    config.write_text("providers: {aws: {accounts: [{id: '111111111111'}]}}\n" + fleet)
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    code = main(["scan", "-c", str(config), "--distributed", "--output", str(tmp_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert "--no-state" in err if extra == ["--no-state"] else "need PostgreSQL" in err


def test_a_queue_database_that_cannot_be_reached_is_a_state_error(tmp_path: Path, postgres_url: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The shared store is there, the queue's database (fleet.url) is not: one line, exit 2, no password."""
    config = tmp_path / "c.yaml"
    config.write_text("providers: {aws: {accounts: [{id: '111111111111'}]}}\n"
                      f"state: {{url: '{postgres_url}'}}\n"
                      "fleet: {url: 'postgresql://cwd:s3cret-pw@127.0.0.1:1/queue'}\n")
    code = main(["worker", "-c", str(config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "queue database" in err and "s3cret-pw" not in err and "Traceback" not in err
