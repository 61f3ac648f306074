"""Unknown is not safe, end to end: denied or throttled calls against a real moto server surface as `unknown`
verdicts, `partial` coverage, an unreadable-resource finding and exit code 3, never as private.

moto does not enforce IAM or throttle, so the failures are injected in-process with botocore event handlers on
the real session the collector uses; every other call goes over HTTP to moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from cloudwatchdog.cli import main
from cloudwatchdog.commands.scan import exit_code
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import CoverageStatus, Level
from cloudwatchdog.providers.aws.collect import collect_aws
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan


def _public_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def _s3_error(status: int, code: str, message: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return AWSResponse("http://127.0.0.1/injected", status, {"Content-Type": "application/xml"}, _Body(body))


def _bucket_of(request: Any) -> str:
    return str(request.url).split("?")[0].rstrip("/").rsplit("/", 1)[-1]


def _provider(moto: MotoServer, **extra: Any) -> AwsProvider:
    return AwsProvider(endpoint_url=moto.endpoint, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")],
                       object_acl_sample=0, **extra)


def test_denied_guardrail_makes_public_policy_unknown(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("guarded-maybe", "plain-private"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="guarded-maybe", Policy=_public_policy("guarded-maybe"))

    def deny(request: Any, **_: Any) -> AWSResponse | None:
        # GetPublicAccessBlock on one bucket: is its public policy in force, or neutralised? Nobody can tell.
        if "publicAccessBlock" in str(request.url) and _bucket_of(request) == "guarded-maybe":
            return _s3_error(403, "AccessDenied", "Access Denied")
        return None

    session.register("before-send.s3.GetPublicAccessBlock", deny)
    cfg = Config(providers=Providers(aws=_provider(moto)))
    snapshots = collect_aws(cfg.providers.aws, session=session)  # type: ignore[arg-type]
    result = run_scan(cfg, load_rules(), replay=snapshots)

    by_name = {r.name: r for r in result.resources}
    maybe = by_name["guarded-maybe"]
    assert maybe.exposure.level is Level.UNKNOWN
    assert any(e.source == "read-error" and "AccessDenied" in e.detail for e in maybe.exposure.evidence)
    assert by_name["plain-private"].exposure.level is Level.PRIVATE
    [cov] = result.coverage
    assert cov.status is CoverageStatus.PARTIAL and any("guarded-maybe" in e for e in cov.errors)
    unreadable = [f for f in result.findings if f.resource_name == "guarded-maybe"]
    assert [f.rule_id for f in unreadable] == ["aws-resource-unreadable"]
    assert unreadable[0].severity.value == "high", "readable settings already grant public access"
    assert exit_code(result, None) == 3
    assert exit_code(result, "high") == 1


def test_throttling_is_retried_then_reported(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("busy-once", "busy-always"):
        s3.create_bucket(Bucket=name)
    attempts: dict[str, int] = {}

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if "acl" not in str(request.url):
            return None
        bucket = _bucket_of(request)
        attempts[bucket] = attempts.get(bucket, 0) + 1
        if bucket == "busy-always" or (bucket == "busy-once" and attempts[bucket] == 1):
            return _s3_error(503, "SlowDown", "Please reduce your request rate.")
        return None

    session.register("before-send.s3.GetBucketAcl", throttle)
    cfg = Config(providers=Providers(aws=_provider(moto, max_attempts=3)))
    snapshots = collect_aws(cfg.providers.aws, session=session)  # type: ignore[arg-type]
    result = run_scan(cfg, load_rules(), replay=snapshots)
    by_name = {r.name: r for r in result.resources}

    assert attempts["busy-once"] == 2, "one throttled attempt, then success"
    assert by_name["busy-once"].exposure.level is Level.PRIVATE
    assert attempts["busy-always"] == 3, "max_attempts bounds the retries"
    assert by_name["busy-always"].exposure.level is Level.UNKNOWN
    assert any("SlowDown" in e.detail for e in by_name["busy-always"].exposure.evidence)
    assert result.coverage[0].status is CoverageStatus.PARTIAL


_HOSTILE = {  # policies the parser cannot take, each once crashing the whole scan or judged on one reading
    "huge-int": _public_policy("weird-policy").replace('"Sid"', '"Condition": {"NumericEquals": {"s3:max-keys": '
                                                          + "9" * 5000 + '}}, "Sid"'),
    "deep": '{"Statement": ' + "[" * 20_000 + "]" * 20_000 + "}",
    # Read once, the second "Statement" hides the public one and the bucket looks private.
    "duplicate-statement": _public_policy("weird-policy")[:-1] + ', "Statement": [{"Effect": "Deny", '
                           '"Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::weird-policy"}]}',
}


@pytest.mark.parametrize("policy", ["{not json", '{"Statement": "nope"}', *_HOSTILE.values()],
                         ids=["not-json", "not-a-policy", *_HOSTILE])
def test_malformed_policy_from_the_cloud_is_unknown(moto: MotoServer, policy: str) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    s3.create_bucket(Bucket="weird-policy")

    def broken(request: Any, **_: Any) -> AWSResponse | None:
        # A policy document that AWS would never return, to prove a bad value is reported and not trusted.
        return AWSResponse("http://127.0.0.1/injected", 200, {}, _Body(policy.encode()))

    session.register("before-send.s3.GetBucketPolicy", broken)
    cfg = Config(providers=Providers(aws=_provider(moto)))
    result = run_scan(cfg, load_rules(), replay=collect_aws(cfg.providers.aws, session=session))  # type: ignore[arg-type]
    [bucket] = [r for r in result.resources if r.name == "weird-policy"]
    assert bucket.exposure.level is Level.UNKNOWN
    assert any("could not be parsed" in e.detail for e in bucket.exposure.evidence)
    # A verdict that could not be reached is an incomplete scan, even though every call answered.
    assert result.coverage[0].status is CoverageStatus.PARTIAL
    assert any("weird-policy" in e for e in result.coverage[0].errors)
    assert exit_code(result, None) == 3


def test_a_crash_reading_one_bucket_costs_that_bucket_only(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import cloudwatchdog.providers.aws.collect as collector

    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("fine", "cursed"):
        s3.create_bucket(Bucket=name)
    real = collector.AccountReader.read_bucket

    def read_bucket(self: Any, name: str, **kwargs: Any) -> Any:
        # In-process: stands for a bug or an SDK answer no one foresaw, raised inside a worker thread.
        if name == "cursed":
            raise RuntimeError("unforeseen")
        return real(self, name, **kwargs)

    monkeypatch.setattr(collector.AccountReader, "read_bucket", read_bucket)
    cfg = Config(providers=Providers(aws=_provider(moto)))
    result = run_scan(cfg, load_rules(), replay=collect_aws(cfg.providers.aws, session=session))  # type: ignore[arg-type]
    by_name = {r.name: r for r in result.resources}
    assert by_name["fine"].exposure.level is Level.PRIVATE
    assert by_name["cursed"].exposure.level is Level.UNKNOWN
    [cov] = result.coverage
    assert cov.status is CoverageStatus.PARTIAL
    assert len(cov.errors) == len(set(cov.errors)), "each failure listed once"


def test_a_hostile_policy_costs_its_bucket_only_and_replays_the_same(
    moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("hostile", "fine"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="hostile", Policy=_public_policy("hostile"))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    regions: [us-east-1]\n"
                   f"    object_acl_sample: 0\n    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\"}}\n")
    raw = tmp_path / "raw.json"
    assert main(["scan", "-c", str(cfg), "--no-progress", "--output", str(tmp_path / "out"), "--format", "json",
                 "--save-raw", str(raw)]) == 0
    capsys.readouterr()
    # What a scanned account's owner can feed us: a policy nested past Python's recursion limit, replayed offline.
    doc = json.loads(raw.read_text())
    [bucket] = [b for b in doc["snapshots"][0]["buckets"] if b["name"] == "hostile"]
    bucket["calls"]["GetBucketPolicy"]["ok"]["Policy"] = '{"Statement": ' + "[" * 20_000 + "]" * 20_000 + "}"
    raw.write_text(json.dumps(doc))
    code = main(["scan", "-c", str(cfg), "--from-raw", str(raw), "--format", "json", "--output", "-"])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err
    resources = {r["name"]: r for r in json.loads(out)["resources"]}
    assert resources["fine"]["exposure"]["level"] == "private"
    hostile = resources["hostile"]["exposure"]
    assert hostile["level"] == "unknown"
    assert any("could not be parsed: policy nests deeper than" in e["detail"] for e in hostile["evidence"])


def test_object_acls_the_bucket_policy_denies_the_scanner_leave_the_verdict_known(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    s3.create_bucket(Bucket="vpce-only")
    s3.put_object(Bucket="vpce-only", Key="report.csv", Body=b"x")
    s3.put_bucket_policy(Bucket="vpce-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:s3:::vpce-only/*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b"}}}]}))

    def deny(request: Any, **_: Any) -> AWSResponse | None:
        # The scanner is outside the endpoint: the policy denies it every object call, GetObjectAcl included.
        return _s3_error(403, "AccessDenied", "Access Denied")

    session.register("before-send.s3.GetObjectAcl", deny)
    cfg = Config(providers=Providers(aws=AwsProvider(endpoint_url=moto.endpoint, object_acl_sample=5,
                                                     accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")])))
    result = run_scan(cfg, load_rules(), replay=collect_aws(cfg.providers.aws, session=session))  # type: ignore[arg-type]
    [bucket] = [r for r in result.resources if r.name == "vpce-only"]
    assert bucket.exposure.level is Level.PRIVATE, [e.detail for e in bucket.exposure.evidence]
    assert any("no object ACL can take effect" in e.detail for e in bucket.exposure.evidence)
    # The failed call is still reported: the scan is partial, the verdict known.
    assert result.coverage[0].status is CoverageStatus.PARTIAL
    assert not [f for f in result.findings if f.resource_name == "vpce-only"]
