"""At scan time, each exposed resource's finding says whether access logs record its requests (read after the
analysis, for exposed resources only), and the HTML report links it to its incident dossier."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.azure import SUB_A, AzureEmulators
from support.gcs import PROD

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.emulators.moto import MotoServer, account_session
from cloudwatchdog.model import Exposure, Level, Resource
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.azure.access import azure_access_logging
from cloudwatchdog.providers.gcp.access import gcp_access_logging
from cloudwatchdog.providers.gcp.settings import GcpProvider
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan


def _public_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def test_aws_findings_say_whether_server_access_logging_is_on(moto: MotoServer) -> None:
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    for name in ("open-logged", "open-unlogged", "closed", "access-logs"):
        s3.create_bucket(Bucket=name)
    for name in ("open-logged", "open-unlogged"):
        s3.put_bucket_policy(Bucket=name, Policy=_public_policy(name))
    s3.put_bucket_acl(Bucket="access-logs", GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
                      GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery")
    for name in ("open-logged", "closed"):
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": "access-logs", "TargetPrefix": f"{name}/"}})
    result = run_scan(Config(providers=Providers(aws=AwsProvider(endpoint_url=moto.endpoint,
                                                                 credential="emulator", sharing=False))),
                      load_rules())
    logging = {f.resource_name: f.access_logging for f in result.findings if f.resource_type == "aws.s3.bucket"}
    assert logging["open-logged"] is not None and logging["open-logged"].status == "on"
    assert "s3://access-logs/open-logged/" in logging["open-logged"].detail
    assert logging["open-unlogged"] is not None and logging["open-unlogged"].status == "off"
    assert logging.get("closed") is None, "a private bucket is not checked (and has no finding)"
    assert all(f.anonymous_probe is None for f in result.findings), "verify: anonymous is off by default"
    doc = json.loads(FORMATS.get("json").render_scan(result))
    found = next(f for f in doc["findings"] if f["resource_name"] == "open-unlogged")
    assert found["access_logging"] == {"status": "off", "detail": "server access logging is off"}
    html = FORMATS.get("html").render_scan(result)
    assert f'href="incident-{found["id"]}.html"' in html and f"cloudwatchdog incident {found['id']}" in html


def _resource(provider: str, uid: str, account: str, rtype: str, name: str) -> Resource:
    return Resource(uid=uid, provider=provider, account=account, region="US", type=rtype, name=name,
                    exposure=Exposure(level=Level.PUBLIC, read=True))


def test_gcp_usage_logging_per_bucket(gcs: GcsEmulator, gcs_client: Callable[..., Any]) -> None:
    client = gcs_client()
    client.create_bucket("usage")
    logged = client.create_bucket("logged")
    logged.enable_logging("usage", object_prefix="lg")
    logged.patch()
    client.create_bucket("unlogged")
    cfg = GcpProvider(credential="anonymous", project_iam=False,
                      projects=[{"id": PROD, "endpoint_url": gcs.endpoint}])  # type: ignore[list-item]
    found = gcp_access_logging(cfg, [_resource("gcp", f"gcs/{n}", PROD, "gcp.storage.bucket", n)
                                     for n in ("logged", "unlogged", "missing")])
    assert (found["gcs/logged"].status, found["gcs/logged"].detail) == ("on", "usage logs go to gs://usage/lg_usage_*")
    assert found["gcs/unlogged"].status == "off"
    assert found["gcs/missing"].status == "unknown" and "could not be read" in found["gcs/missing"].detail


def test_azure_analytics_logging_per_account(azure: AzureEmulators) -> None:
    from azure.storage.blob import BlobAnalyticsLogging, RetentionPolicy

    azure.arm.add_subscription(SUB_A, "Forensics")
    ids = {}
    for account, on in (("cwdtest1", True), ("cwdtest2", False)):
        azure.arm.add_account(SUB_A, account, allow_blob_public_access=True)
        ids[account] = str(azure.arm.add_container(account, "open", public_access="Container")["id"])
        azure.azurite.service_client(account).set_service_properties(analytics_logging=BlobAnalyticsLogging(
            read=on, write=on, delete=on, retention_policy=RetentionPolicy(enabled=on, days=7 if on else None)))
    found = azure_access_logging(azure.provider(), [
        _resource("azure", uid, SUB_A, "azure.storage.container", f"{a}/open") for a, uid in ids.items()])
    assert found[ids["cwdtest1"]].status == "on" and "$logs" in found[ids["cwdtest1"]].detail
    assert found[ids["cwdtest2"]].status == "off"


def test_aws_server_logging_off_with_a_trail_configured_is_unknown_not_on(moto: MotoServer) -> None:
    """A configured CloudTrail bucket does not show that the trail records this bucket's data events: with server
    access logging off, the finding says unknown (and why), never "on"."""
    from cloudwatchdog.providers.aws.access import aws_access_logging
    from cloudwatchdog.providers.aws.settings import AwsCloudTrail

    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="open-untrailed")
    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", sharing=False,
                      cloudtrail=AwsCloudTrail(bucket="trail", prefix="org"))
    bucket = _resource("aws", "arn:aws:s3:::open-untrailed", "123456789012", "aws.s3.bucket", "open-untrailed")
    found = aws_access_logging(cfg, [bucket])[bucket.uid]
    assert found.status == "unknown"
    assert "server access logging is off" in found.detail and "not checked" in found.detail


def test_aws_logging_configuration_unreadable_is_unknown_not_off(moto: MotoServer) -> None:
    """GetBucketLogging fails (here NoSuchBucket: the bucket went between the listing and the check): unknown, with
    the reason, never "off"."""
    from cloudwatchdog.providers.aws.access import aws_access_logging

    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", sharing=False)
    gone = _resource("aws", "arn:aws:s3:::gone-bucket", "123456789012", "aws.s3.bucket", "gone-bucket")
    found = aws_access_logging(cfg, [gone])[gone.uid]
    assert found.status == "unknown" and "NoSuchBucket" in found.detail
