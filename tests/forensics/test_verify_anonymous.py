"""`verify: {anonymous: true}`: each public verdict is tried from outside, unauthenticated, and the answer is
recorded on the finding; a disagreement is flagged and never changes the verdict.

Azurite enforces anonymous access (a container's public access level), so it can disagree with the analysis: here
the ARM emulator reports a container public while Azurite serves it private (the state a change made after the
listing, or a management-plane answer that is wrong, would leave). moto does not enforce bucket policies for
unauthenticated requests: against it, a probe of a public bucket can only agree."""

from __future__ import annotations

import json

from support.azure import SUB_A, AzureEmulators

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import MotoServer, account_session
from cloudwatchdog.model import Level
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.settings.verify import VerifyConfig

ON = VerifyConfig(anonymous=True, timeout=5)


def test_azurite_agrees_and_disagrees(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Verify")
    azure.arm.add_account(SUB_A, "cwdtest1", allow_blob_public_access=True)
    azure.arm.add_container("cwdtest1", "really-open", public_access="Container", blobs={"a.txt": b"a"})
    azure.arm.add_container("cwdtest1", "said-open", public_access="Container", blobs={"b.txt": b"b"})
    azure.azurite.service_client("cwdtest1").get_container_client("said-open").set_container_access_policy(
        signed_identifiers={}, public_access=None)
    result = run_scan(Config(providers=Providers(azure=azure.provider(subscriptions=[SUB_A])), verify=ON),
                      load_rules())
    probes = {f.resource_name: f.anonymous_probe for f in result.findings if f.resource_type.endswith("container")}
    really, said = probes["cwdtest1/really-open"], probes["cwdtest1/said-open"]
    assert really is not None and (really.operation, really.status, really.agrees) == ("LIST", 200, True)
    assert really.detail.startswith("anonymous LIST returned 200 at ")
    assert said is not None and said.agrees is False and said.status in (403, 404)
    assert "the analysis says public" in said.detail
    verdicts = {r.name: r.exposure.level for r in result.resources}
    assert verdicts["cwdtest1/said-open"] is Level.PUBLIC, "a probe never changes the verdict"
    html = FORMATS.get("html").render_scan(result)
    assert "Disagrees with the analysis:" in html


def test_moto_public_bucket(moto: MotoServer) -> None:
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="listed")
    s3.put_bucket_policy(Bucket="listed", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:ListBucket", "s3:GetObject"],
        "Resource": ["arn:aws:s3:::listed", "arn:aws:s3:::listed/*"]}]}))
    aws = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", sharing=False)
    on = run_scan(Config(providers=Providers(aws=aws), verify=ON), load_rules())
    probe = next(f.anonymous_probe for f in on.findings if f.resource_name == "listed")
    assert probe is not None and (probe.status, probe.agrees) == (200, True)
    doc = json.loads(FORMATS.get("json").render_scan(on))
    assert next(f for f in doc["findings"] if f["resource_name"] == "listed")["anonymous_probe"]["status"] == 200


def test_a_probe_that_cannot_be_sent_is_recorded_not_raised() -> None:
    """No emulator serves this: an ARM answer whose blob endpoint httpx cannot parse (``InvalidURL`` is not an
    ``HTTPError``) fails before any request is made, so the resources are built here. The scan must keep going and
    the finding say why there is no answer."""
    from cloudwatchdog.model import Exposure, Resource
    from cloudwatchdog.providers.azure.model import ACCOUNT_TYPE, CONTAINER_TYPE
    from cloudwatchdog.providers.azure.settings import AzureProvider
    from cloudwatchdog.rules.engine import evaluate
    from cloudwatchdog.services.exposure_checks import verify_anonymously

    account = Resource(uid="acct", provider="azure", account=SUB_A, region="westeurope", type=ACCOUNT_TYPE,
                       name="cwdbad", exposure=Exposure(Level.PUBLIC, list=True, read=True), aggregate=True,
                       properties={"blob_endpoint": "https://exa mple\x00.invalid/"})
    container = Resource(uid="cont", provider="azure", account=SUB_A, region="westeurope", type=CONTAINER_TYPE,
                         name="cwdbad/open", exposure=Exposure(Level.PUBLIC, list=True, read=True),
                         properties={"storage_account_id": "acct", "container": "open"})
    findings = evaluate(load_rules(), [account, container])
    assert any(f.resource_uid == "cont" for f in findings)
    cfg = Config(providers=Providers(azure=AzureProvider(subscriptions=[SUB_A])), verify=ON)
    probe = next(f.anonymous_probe for f in verify_anonymously(cfg, [account, container], findings)
                 if f.resource_uid == "cont")
    assert probe is not None and probe.status is None and probe.agrees is None
    assert "got no answer" in probe.detail and "InvalidURL" in probe.detail
