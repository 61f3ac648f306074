"""Finding lifecycle across several real scans of a moto server, recorded in the state store (SQLite and a real
PostgreSQL server): new -> open -> resolved -> reopened, exposure windows, failed scans that must resolve nothing,
deleted buckets, suppressions (config and CLI) and their expiry, escalation.

Scans through the API get an injected ``now`` so that intervals are exact; scans through the CLI use the clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client
from cloudwatchdog.model import FindingState, ScanResult, Severity
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.rules.engine import fingerprint
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.state.diff import Suppression
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso, now_utc

PUBLIC_RULE = "aws-s3-bucket-public"


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    with Store.open(state_url) as s:
        yield s


def _policy(bucket: str, *actions: str) -> str:
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": list(actions), "Resource": resources}]})


def _make_public(s3: Any, bucket: str, *actions: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, *(actions or ("s3:GetObject",))))


def _config(moto: MotoServer, **account: Any) -> Config:
    return Config(providers=Providers(aws=AwsProvider(
        endpoint_url=moto.endpoint, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod", **account)],
        object_acl_sample=0)))


def _record(store: Store, moto: MotoServer, rules: list[Rule], when: datetime,
            suppressions: list[Suppression] | None = None) -> ScanResult:
    return store.record_scan(run_scan(_config(moto), rules), now=when, suppressions=suppressions or [])


def _public(result: ScanResult, bucket: str) -> list[Any]:
    return [f for f in result.findings if f.rule_id == PUBLIC_RULE and f.resource_name == bucket]


def _fp(bucket: str) -> str:
    return fingerprint(PUBLIC_RULE, f"arn:aws:s3:::{bucket}")


def test_public_bucket_lifecycle_and_exposure_window(moto: MotoServer, s3: Any, store: Store,
                                                     rules: list[Rule]) -> None:
    t0 = now_utc() - timedelta(days=10)

    def h(n: int) -> datetime:
        return t0 + timedelta(hours=n)

    s3.create_bucket(Bucket="site")
    s3.create_bucket(Bucket="quiet")

    assert _public(_record(store, moto, rules, h(0)), "site") == []
    _make_public(s3, "site")
    [f] = _public(_record(store, moto, rules, h(1)), "site")
    assert (f.state, f.severity, f.first_seen) == (FindingState.NEW, Severity.CRITICAL, iso(h(1)))
    [f] = _public(_record(store, moto, rules, h(2)), "site")
    assert (f.state, f.first_seen, f.last_seen) == (FindingState.OPEN, iso(h(1)), iso(h(2)))

    s3.delete_bucket_policy(Bucket="site")
    fixed = _record(store, moto, rules, h(4))
    assert _public(fixed, "site") == []
    [gone] = [r for r in fixed.resolved if r.rule_id == PUBLIC_RULE]
    assert (gone.id, gone.state, gone.resolved_at, gone.last_seen) == (_fp("site"), FindingState.RESOLVED,
                                                                       iso(h(4)), iso(h(2)))

    _make_public(s3, "site")
    [f] = _public(_record(store, moto, rules, h(7)), "site")
    assert (f.state, f.first_seen, f.resolved_at) == (FindingState.REOPENED, iso(h(1)), None)
    [f] = _public(_record(store, moto, rules, h(8)), "site")
    assert f.state is FindingState.OPEN

    assert [e.type.value for e in store.events(_fp("site"))] == ["finding.new", "finding.resolved",
                                                                 "finding.reopened"]
    [view] = [v for v in store.list_findings(at=h(9)) if v.finding.id == _fp("site")]
    assert [(i.start, i.end) for i in view.window.intervals] == [(iso(h(1)), iso(h(4))), (iso(h(7)), None)]
    assert view.window.total_seconds == (3 + 2) * 3600
    window = store.resource_window("arn:aws:s3:::site", at=h(9))
    assert window.total_seconds == 5 * 3600 and window.open_since == iso(h(7))
    assert store.resource_window("arn:aws:s3:::quiet", at=h(9)).intervals == ()


def test_deleting_a_public_bucket_resolves_it_in_a_complete_scan(moto: MotoServer, s3: Any, store: Store,
                                                                 rules: list[Rule]) -> None:
    t0 = now_utc() - timedelta(days=5)
    s3.create_bucket(Bucket="doomed")
    _make_public(s3, "doomed")
    assert _public(_record(store, moto, rules, t0), "doomed")
    s3.delete_bucket_policy(Bucket="doomed")
    s3.delete_bucket(Bucket="doomed")
    result = _record(store, moto, rules, t0 + timedelta(hours=1))
    assert result.complete
    [resolved] = [f for f in result.resolved if f.id == _fp("doomed")]
    assert resolved.state is FindingState.RESOLVED
    assert "gone" in store.events(_fp("doomed"))[-1].detail
    assert store.resource_window("arn:aws:s3:::doomed", at=t0 + timedelta(hours=2)).total_seconds == 3600


def test_escalation_when_a_bucket_becomes_writable(moto: MotoServer, s3: Any, store: Store,
                                                   rules: list[Rule]) -> None:
    t0 = now_utc() - timedelta(days=3)
    s3.create_bucket(Bucket="listing")
    _make_public(s3, "listing", "s3:ListBucket")
    [f] = _public(_record(store, moto, rules, t0), "listing")
    assert f.severity is Severity.HIGH
    _make_public(s3, "listing", "s3:ListBucket", "s3:PutObject")
    [f] = _public(_record(store, moto, rules, t0 + timedelta(hours=1)), "listing")
    assert (f.severity, f.previous_severity, f.state) == (Severity.CRITICAL, Severity.HIGH, FindingState.OPEN)
    [esc] = [e for e in store.events(_fp("listing")) if e.type.value == "finding.escalated"]
    assert (esc.old_severity, esc.severity) == (Severity.HIGH, Severity.CRITICAL)
    [f] = _public(_record(store, moto, rules, t0 + timedelta(hours=2)), "listing")
    assert f.previous_severity is None, "previous_severity marks the scan that escalated only"


# --- through the CLI ---------------------------------------------------------------------------------------------

def _write_config(tmp_path: Path, moto: MotoServer, *, profile: str | None = None, extra: str = "",
                  name: str = "config.yaml") -> Path:
    account = f'{{id: "{DEFAULT_ACCOUNT}", name: prod' + (f", profile: {profile}" if profile else "") + "}"
    p = tmp_path / name
    p.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    object_acl_sample: 0\n"
                 f"    accounts:\n      - {account}\n{extra}")
    return p


def _cli_scan(capsys: pytest.CaptureFixture[str], config: Path, state_url: str,
              *extra: str) -> tuple[int, dict[str, Any], str]:
    code = main(["scan", "-c", str(config), "--state", state_url, "--format", "json", "--output", "-",
                 "--no-progress", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _doc_public(doc: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule_id"] == PUBLIC_RULE and f["resource_name"] == bucket]


def test_broken_credentials_leave_everything_open(moto: MotoServer, s3: Any, state_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="exposed")
    _make_public(s3, "exposed")
    good = _write_config(tmp_path, moto)
    code, doc, _ = _cli_scan(capsys, good, state_url)
    [f] = _doc_public(doc, "exposed")
    assert code == 0 and f["state"] == "new" and f["first_seen"] and f["last_seen"]

    # The account cannot be entered: coverage error, exit 3, and nothing resolved, although the bucket is absent.
    broken = _write_config(tmp_path, moto, profile="no-such-profile", name="broken.yaml")
    code, doc, err = _cli_scan(capsys, broken, state_url)
    assert code == 3 and "incomplete" in err
    [cov] = doc["scan"]["coverage"]
    assert cov["status"] == "error" and cov["errors"]
    assert [f for f in doc["findings"] if f["state"] == "resolved"] == []

    with Store.open(state_url) as store:
        [view] = [v for v in store.list_findings() if v.finding.id == _fp("exposed")]
        assert view.finding.state is FindingState.OPEN and view.window.open_since is not None
        assert [e.type.value for e in store.events(_fp("exposed"))] == ["finding.new"]

    # Back to normal: still the same open finding, never resolved in between.
    code, doc, _ = _cli_scan(capsys, good, state_url)
    [f] = _doc_public(doc, "exposed")
    assert f["state"] == "open"


def test_suppression_in_the_config_and_its_expiry(moto: MotoServer, s3: Any, state_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="www-public-site")
    _make_public(s3, "www-public-site")
    tomorrow = (now_utc() + timedelta(days=1)).date()
    yesterday = (now_utc() - timedelta(days=1)).date()

    def suppression(expires: date) -> str:
        return (f"suppressions:\n  - rule: {PUBLIC_RULE}\n    resource: 'arn:aws:s3:::www-*'\n"
                f"    reason: static website, public on purpose\n    owner: web-team\n    expires: {expires}\n")

    muted = _write_config(tmp_path, moto, extra=suppression(tomorrow))
    code, doc, _ = _cli_scan(capsys, muted, state_url, "--fail-on", "critical")
    [f] = _doc_public(doc, "www-public-site")
    assert f["severity"] == "critical" and f["state"] == "suppressed"
    assert f["suppression"] == {"reason": "static website, public on purpose", "owner": "web-team",
                                "expires": tomorrow.isoformat(), "source": "config"}
    assert code == 0, "a suppressed finding does not count for --fail-on"

    expired = _write_config(tmp_path, moto, extra=suppression(yesterday), name="expired.yaml")
    code, doc, err = _cli_scan(capsys, expired, state_url, "--fail-on", "critical")
    [f] = _doc_public(doc, "www-public-site")
    assert f["state"] == "reopened" and f["suppression"] is None
    assert code == 1
    assert "suppressions[0]" in err and "expired" in err
    with Store.open(state_url) as store:
        events = store.events(_fp("www-public-site"))
    assert [e.type.value for e in events] == ["finding.suppressed", "finding.unsuppressed"]
    assert f"expired on {yesterday}" in events[-1].detail


def test_suppression_from_the_cli_and_its_expiry(moto: MotoServer, s3: Any, state_url: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str], rules: list[Rule]) -> None:
    s3.create_bucket(Bucket="accepted")
    _make_public(s3, "accepted")
    config = _write_config(tmp_path, moto)
    _cli_scan(capsys, config, state_url)
    fp = _fp("accepted")
    until = (now_utc() + timedelta(days=2)).date()
    assert main(["findings", "suppress", fp[:10], "-c", str(config), "--state-url", state_url,
                 "--reason", "partner download bucket", "--owner", "alice", "--until", until.isoformat()]) == 0
    assert f"Suppressed {fp}" in capsys.readouterr().out

    code, doc, _ = _cli_scan(capsys, config, state_url, "--fail-on", "critical")
    [f] = _doc_public(doc, "accepted")
    assert f["state"] == "suppressed" and f["suppression"]["source"] == "cli" and code == 0

    assert main(["findings", "list", "-c", str(config), "--state-url", state_url, "--state", "suppressed",
                 "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["findings"]
    assert [x["id"] for x in listed] == [fp]

    # The day after --until, the next scan reopens it.
    with Store.open(state_url) as store:
        later = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=now_utc().tzinfo)
        result = _record(store, moto, rules, later)
        [f] = _public(result, "accepted")
        assert f.state is FindingState.REOPENED
        assert [e.type.value for e in store.events(fp)] == ["finding.new", "finding.suppressed",
                                                            "finding.unsuppressed"]


def test_no_state_records_nothing_but_still_honours_config_suppressions(
        moto: MotoServer, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="www-site")
    _make_public(s3, "www-site")
    tomorrow = (now_utc() + timedelta(days=1)).date()
    config = _write_config(tmp_path, moto, extra=(
        f"suppressions:\n  - {{fingerprint: {_fp('www-site')}, reason: website, owner: web, expires: {tomorrow}}}\n"))
    code = main(["scan", "-c", str(config), "--no-state", "--format", "json", "--output", "-", "--no-progress",
                 "--fail-on", "critical"])
    doc = json.loads(capsys.readouterr().out)
    [f] = _doc_public(doc, "www-site")
    assert f["state"] == "suppressed" and f["first_seen"] is None and code == 0
    assert not (tmp_path / "cloudwatchdog.db").exists()


def test_default_store_next_to_the_config_and_the_summary_shows_the_lifecycle(
        moto: MotoServer, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="grows")
    _make_public(s3, "grows", "s3:ListBucket")
    config = _write_config(tmp_path, moto)
    out = tmp_path / "out"
    assert main(["scan", "-c", str(config), "--output", str(out), "--no-progress"]) == 0
    assert "Lifecycle: " in capsys.readouterr().out and (tmp_path / "cloudwatchdog.db").is_file()
    _make_public(s3, "grows", "s3:ListBucket", "s3:PutObject")
    assert main(["scan", "-c", str(config), "--output", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "(was high)" in printed and "open" in printed


def test_an_unreachable_store_fails_before_scanning(moto: MotoServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _write_config(tmp_path, moto, extra=(
        f"state:\n  url: postgresql+psycopg://watchdog:pa55word@127.0.0.1:{port}/state\n"))
    out = tmp_path / "out"
    assert main(["scan", "-c", str(config), "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "error: state.url postgresql+psycopg://watchdog:***@" in err and "pa55word" not in err
    assert not list(out.glob("*")), "nothing scanned, nothing written"
