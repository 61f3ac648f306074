"""Data sampling against a real moto server: a public bucket of customer files is critical and says what it
holds; a public bucket of images stays as it was; a private bucket is not read; objects the scanner may not read
make the sample unknown; a 200 MiB object is read only up to max_bytes with bounded memory."""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from data_corpus import build_corpus

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.data.budget import Budget
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import DataStatus, Severity
from cloudwatchdog.providers.aws.sample import sample_aws, sample_s3
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

MIB = 1 << 20


def _public_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def _provider(moto: MotoServer) -> AwsProvider:
    return AwsProvider(endpoint_url=moto.endpoint, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")],
                       object_acl_sample=0, sharing=False)


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return emulator_client(account_core(moto.endpoint), "s3", moto.endpoint)


def _seed(s3: Any, bucket: str, objects: dict[str, bytes], public: bool) -> None:
    s3.create_bucket(Bucket=bucket)
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    if public:
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))


def test_public_bucket_of_customers_is_critical_and_says_what_it_holds(moto: MotoServer, s3: Any) -> None:
    corpus = build_corpus(rows=400)
    _seed(s3, "customer-exports", {o.key: o.body for o in corpus}, public=True)
    _seed(s3, "marketing-images", {f"img/{i}.png": b"\x89PNG\r\n\x1a\n\x00" * 50 for i in range(5)}, public=True)
    _seed(s3, "internal-crm", {o.key: o.body for o in corpus[:2]}, public=False)
    cfg = Config(providers=Providers(aws=_provider(moto)),
                 data_sampling=DataSamplingConfig(enabled=True, max_objects=20))
    result = run_scan(cfg, load_rules())

    by_name = {r.name: r for r in result.resources}
    customers = by_name["customer-exports"].to_dict()["data"]
    assert customers["status"] == "sampled"
    assert customers["objects_listed"] == len(corpus) and customers["objects_sampled"] == len(corpus) - 1
    classes = {c["class"]: c for c in customers["classes"]}
    assert {"email", "phone", "postal_address", "person_name", "credit_card", "national_id", "vin", "ip_address",
            "credential"} <= set(classes)
    assert classes["email"]["keys"][0].startswith("customers/") and classes["email"]["count"] >= 800
    assert classes["credential"]["keys"] == ["config/app/prod.conf"]
    everything = json.dumps(customers, ensure_ascii=False)
    # Nothing sampled is shown in clear: no e-mail address, phone number or card number of the corpus.
    text = "\n".join(o.body.decode("utf-8", "replace") for o in corpus if not o.key.endswith((".gz", ".png")))
    values = set(re.findall(r"[\w.]+@[\w.]+|\d{3}-\d{4}-\d{4}|\d{4} \d{4} \d{4} \d{4}", text))
    assert len(values) > 1000 and not [v for v in values if v in everything]

    [finding] = [f for f in result.findings if f.rule_id == "aws-s3-public-personal-data"]
    assert finding.severity is Severity.CRITICAL and finding.resource_name == "customer-exports"
    assert "holds personal data:" in finding.message and "e-mail addresses" in finding.message
    assert f"of {len(corpus) - 1} sampled objects (customers/" in finding.message

    images = by_name["marketing-images"]
    assert images.data is not None and images.data.status is DataStatus.SAMPLED and images.data.classes == ()
    assert not [f for f in result.findings if f.resource_name == "marketing-images" and "personal" in f.rule_id]
    assert by_name["internal-crm"].data is None and "data" not in by_name["internal-crm"].to_dict()


def test_sampling_off_leaves_the_json_as_it_was(moto: MotoServer, s3: Any) -> None:
    _seed(s3, "customer-exports", {"a.csv": b"email\nx@example.com\n"}, public=True)
    result = run_scan(Config(providers=Providers(aws=_provider(moto))), load_rules())
    assert all("data" not in r.to_dict() for r in result.resources)


def _denied(request: Any, **_: Any) -> AWSResponse | None:
    if "/restricted/" in str(request.url):
        class Body:
            def stream(self, **_: Any) -> Any:
                yield b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse("http://127.0.0.1/injected", 403, {"Content-Type": "application/xml"}, Body())
    return None


def test_objects_the_scanner_may_not_read_are_unknown(moto: MotoServer, s3: Any) -> None:
    """moto enforces no IAM: the denial is injected on the real session, every other call goes to moto."""
    _seed(s3, "locked", {"restricted/a.csv": b"email\nx@example.com\n", "restricted/b.csv": b"x"}, public=True)
    _seed(s3, "half", {"restricted/a.csv": b"x", "open/c.csv": b"email\nx@example.com\ny@example.jp\n"}, public=True)
    session = account_core(moto.endpoint)
    session.register("before-send.s3.GetObject", _denied)
    cfg = Config(providers=Providers(aws=_provider(moto)))
    scanned = run_scan(cfg, load_rules())
    resources = [r for r in scanned.resources if r.name in ("locked", "half")]
    samples = sample_aws(_provider(moto), resources, DataSamplingConfig(enabled=True), Budget(MIB), session=session)
    by_name = {r.name: samples[r.uid] for r in resources}
    assert by_name["locked"].status is DataStatus.UNKNOWN
    assert "AccessDenied" in by_name["locked"].reason and "2 of 2 objects could not be read" in by_name["locked"].reason
    assert by_name["half"].status is DataStatus.SAMPLED and by_name["half"].classes[0].count == 2
    assert "restricted/a.csv: AccessDenied" in by_name["half"].reason


def test_a_200_mib_object_is_read_only_up_to_max_bytes(moto: MotoServer, s3: Any) -> None:
    s3.create_bucket(Bucket="big-dump")
    upload = s3.create_multipart_upload(Bucket="big-dump", Key="dump/customers.csv")
    part = b"email,phone\n" + b"taro@example.jp,090-1234-5678\n" * (5 * MIB // 30 + 1)  # each part at least 5 MiB
    parts = []
    for n in range(1, 41):  # 40 parts of ~5 MiB: 200 MiB
        etag = s3.upload_part(Bucket="big-dump", Key="dump/customers.csv", UploadId=upload["UploadId"],
                              PartNumber=n, Body=part)["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket="big-dump", Key="dump/customers.csv", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": parts})
    size = s3.head_object(Bucket="big-dump", Key="dump/customers.csv")["ContentLength"]
    assert size >= 200 * MIB

    tracemalloc.start()
    try:
        sample = sample_s3(s3, "big-dump", DataSamplingConfig(enabled=True, max_bytes=MIB), Budget(256 * MIB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sample.status is DataStatus.SAMPLED and sample.bytes_read == MIB
    assert {c.data_class.value for c in sample.classes} == {"email", "phone"}
    assert peak < 32 * MIB, f"peak {peak / MIB:.1f} MiB while sampling a {size / MIB:.0f} MiB object"


def test_cli_json_and_html_carry_what_was_found(moto: MotoServer, s3: Any, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    corpus = build_corpus(rows=200)
    _seed(s3, "customer-exports", {o.key: o.body for o in corpus[:2]}, public=True)
    config = tmp_path / "config.yaml"
    config.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    object_acl_sample: 0\n"
                      f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\", name: prod}}\n"
                      "data_sampling:\n  enabled: true\n  max_objects: 5\n  max_bytes: 65536\n")
    code = main(["scan", "-c", str(config), "--format", "json", "--output", "-", "--fail-on", "critical"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1, "a public bucket of customer data is critical"
    [resource] = [r for r in doc["resources"] if r["name"] == "customer-exports"]
    data = resource["data"]
    assert set(data) >= {"status", "reason", "objects_listed", "objects_sampled", "bytes_read", "classes"}
    assert data["status"] == "sampled" and data["objects_sampled"] == 2 and data["bytes_read"] <= 2 * 65536
    for c in data["classes"]:
        assert set(c) == {"class", "count", "objects", "keys", "examples"}
        assert c["count"] > 0 and c["keys"] and all("***" in e or "*" in e or "…" in e for e in c["examples"])
    [finding] = [f for f in doc["findings"] if f["rule_id"] == "aws-s3-public-personal-data"]
    assert finding["severity"] == "critical" and "e-mail addresses" in finding["message"]

    out = tmp_path / "out"
    assert main(["scan", "-c", str(config), "--format", "html", "--output", str(out)]) == 0
    html = next(out.glob("*.html")).read_text()
    assert "holds personal data" in html and "customers/" in html


def test_an_unchanged_object_version_is_not_read_again(moto: MotoServer, s3: Any, tmp_path: Path) -> None:
    """What a scan found per object version is kept in the store (counts and masked examples only): the next scan
    reads nothing of the unchanged objects, and reads a changed one again."""
    from cloudwatchdog.state.sample_cache import StoreResultCache
    from cloudwatchdog.state.store import Store

    corpus = build_corpus(rows=200)[:3]
    _seed(s3, "customer-exports", {o.key: o.body for o in corpus}, public=True)
    cfg = Config(providers=Providers(aws=_provider(moto)),
                 data_sampling=DataSamplingConfig(enabled=True, max_objects=20))
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        def scan() -> dict[str, Any]:
            cache = StoreResultCache(store)
            result = run_scan(cfg, load_rules(), sample_cache=cache)
            cache.flush()
            [bucket] = [r for r in result.resources if r.name == "customer-exports"]
            data: dict[str, Any] = bucket.to_dict()["data"]
            return data

        first, second = scan(), scan()
        assert first["bytes_read"] > 0 and second["bytes_read"] == 0
        assert second["classes"] == first["classes"] and second["objects_sampled"] == first["objects_sampled"]
        s3.put_object(Bucket="customer-exports", Key=corpus[0].key, Body=corpus[0].body + b"\n")
        third = scan()
        assert 0 < third["bytes_read"] < first["bytes_read"]
        with store.read_session() as s:
            from cloudwatchdog.state.schema import ObjectSampleRow

            kept = [row.result for row in s.query(ObjectSampleRow)]
        assert kept and all(set(r) == {"key", "read", "counts", "examples"} for r in kept)
        text = json.dumps(kept)
        assert "@" not in text or "***" in text, "only masked examples are kept"
