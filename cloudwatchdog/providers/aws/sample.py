"""Data sampling on AWS: list a bucket's (or an access point's) objects, read a bounded prefix of a few with ranged
GETs, classify them. Needs s3:ListBucket and s3:GetObject (and kms:Decrypt for SSE-KMS objects)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import botocore.session

from cloudwatchdog.data.sampling import Budget, ObjectInfo, ReadFailure, sample_resource
from cloudwatchdog.model import DataSample, DataStatus, Resource
from cloudwatchdog.providers.aws.credentials import base_session, describe_exception
from cloudwatchdog.providers.aws.model import ACCESS_POINT_TYPE, BUCKET_TYPE
from cloudwatchdog.providers.aws.session import AccountTarget, Base, discover_accounts, make_client
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

log = logging.getLogger(__name__)
_PAGE = 1000


def _failure(exc: Exception) -> ReadFailure:
    code, message = describe_exception(exc)
    return ReadFailure(code, message)


def _bucket_param(resource: Resource) -> str:
    """Objects of an access point are reached through its ARN in the Bucket parameter."""
    return resource.uid if resource.type == ACCESS_POINT_TYPE else resource.name


def sample_s3(client: Any, bucket: str, sampling: DataSamplingConfig, budget: Budget) -> DataSample:
    def list_objects(limit: int) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        token: str | None = None
        try:
            while len(found) < limit:
                args: dict[str, Any] = {"Bucket": bucket, "MaxKeys": min(_PAGE, limit - len(found))}
                if token:
                    args["ContinuationToken"] = token
                page = client.list_objects_v2(**args)
                for o in page.get("Contents", []):
                    modified = o.get("LastModified")
                    found.append(ObjectInfo(str(o["Key"]), int(o.get("Size", 0)),
                                            modified.isoformat() if modified is not None else "",
                                            str(o.get("ETag", ""))))
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
        except Exception as exc:  # any SDK or transport error: the listing is unknown, with its reason
            raise _failure(exc) from None
        return found

    def read(obj: ObjectInfo, length: int) -> bytes:
        try:
            answer = client.get_object(Bucket=bucket, Key=obj.key, Range=f"bytes=0-{length - 1}")
            body = answer["Body"]
            try:
                data: bytes = body.read(length)  # never more than the range, whatever the server sends
            finally:
                body.close()
        except Exception as exc:
            raise _failure(exc) from None
        return data

    return sample_resource(list_objects, read, max_objects=sampling.max_objects, max_bytes=sampling.max_bytes,
                           budget=budget, scope=f"aws:{bucket}")


def sample_aws(cfg: AwsProvider, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
               *, session: botocore.session.Session | None = None) -> dict[str, DataSample]:
    """Every resource given -> its sample; accounts are entered as the collector enters them."""
    out: dict[str, DataSample] = {}
    wanted = {r.account for r in resources if r.type in (BUCKET_TYPE, ACCESS_POINT_TYPE)}
    targets: dict[str, AccountTarget] = {}
    if wanted:
        base: Base
        try:
            base = session if session is not None else base_session(cfg)
        except Exception as exc:  # a missing or broken profile: every account that needs it is unknown
            base = exc
        for target in discover_accounts(cfg, base):
            targets.setdefault(target.account, target)
    for r in resources:
        if r.type not in (BUCKET_TYPE, ACCESS_POINT_TYPE):
            out[r.uid] = DataSample(DataStatus.NOT_SAMPLED, f"{r.type} holds no objects to sample")
            continue
        entered = targets.get(r.account)
        if entered is None or entered.session is None:
            why = entered.error if entered is not None and entered.error else "no credentials for this account"
            out[r.uid] = DataSample(DataStatus.UNKNOWN, f"objects could not be read: {why}")
            continue
        try:
            client = make_client(entered.session, "s3", cfg, region=r.region)
            out[r.uid] = sample_s3(client, _bucket_param(r), sampling, budget)
        except Exception as exc:  # a bug must not lose the scan: this resource is unknown, with the reason
            code, message = describe_exception(exc)
            log.exception("aws data sampling of %s failed", r.uid)
            out[r.uid] = DataSample(DataStatus.UNKNOWN, f"sampling failed: {code}: {message}")
    return out
