"""Data sampling on Google Cloud: list a bucket's objects, read a bounded prefix of a few (ranged downloads),
classify them. Needs storage.objects.list and storage.objects.get (roles/storage.objectViewer)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from cloudwatchdog.data.sampling import Budget, ObjectInfo, ReadFailure, sample_resource
from cloudwatchdog.model import DataSample, DataStatus, Resource
from cloudwatchdog.providers.gcp.inventory import BUCKET_TYPE
from cloudwatchdog.providers.gcp.session import (
    CallCounter,
    CredentialsError,
    authorized_session,
    describe_exception,
    load_credentials,
    storage_client,
)
from cloudwatchdog.providers.gcp.settings import GcpProvider
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

log = logging.getLogger(__name__)


def _failure(exc: Exception) -> ReadFailure:
    code, message = describe_exception(exc)
    return ReadFailure(code, message)


def sample_gcs(client: Any, bucket_name: str, sampling: DataSamplingConfig, budget: Budget,
               timeout: float = 60) -> DataSample:
    bucket = client.bucket(bucket_name)

    def list_objects(limit: int) -> list[ObjectInfo]:
        try:
            return [ObjectInfo(str(b.name), int(b.size or 0), b.updated.isoformat() if b.updated else "",
                               str(b.generation or b.etag or ""))
                    for b in client.list_blobs(bucket_name, max_results=limit, timeout=timeout)]
        except Exception as exc:  # any SDK, auth or transport error: the listing is unknown, with its reason
            raise _failure(exc) from None

    def read(obj: ObjectInfo, length: int) -> bytes:
        try:
            data: bytes = bucket.blob(obj.key).download_as_bytes(start=0, end=length - 1, timeout=timeout)
        except Exception as exc:
            raise _failure(exc) from None
        return data[:length]

    return sample_resource(list_objects, read, max_objects=sampling.max_objects, max_bytes=sampling.max_bytes,
                           budget=budget, scope=f"gcp:{bucket_name}")


def _endpoint(cfg: GcpProvider, project: str) -> str | None:
    for p in cfg.projects:
        if p.id == project and p.endpoint_url:
            return p.endpoint_url
    return cfg.effective_endpoint()


def sample_gcp(cfg: GcpProvider, resources: Sequence[Resource], sampling: DataSamplingConfig,
               budget: Budget) -> dict[str, DataSample]:
    out: dict[str, DataSample] = {}
    buckets = [r for r in resources if r.type == BUCKET_TYPE]
    for r in resources:
        if r.type != BUCKET_TYPE:
            out[r.uid] = DataSample(DataStatus.NOT_SAMPLED, f"{r.type} holds no objects to sample")
    if not buckets:
        return out
    try:
        credentials, _ = load_credentials(cfg)
    except CredentialsError as exc:
        return out | {r.uid: DataSample(DataStatus.UNKNOWN, f"objects could not be read: {exc}") for r in buckets}
    session = authorized_session(credentials, CallCounter(), 4)
    for r in buckets:
        try:
            client = storage_client(credentials, r.account, _endpoint(cfg, r.account), session)
            out[r.uid] = sample_gcs(client, r.name, sampling, budget, timeout=cfg.timeout)
        except Exception as exc:  # a bug must not lose the scan: this resource is unknown, with the reason
            code, message = describe_exception(exc)
            log.exception("gcp data sampling of %s failed", r.uid)
            out[r.uid] = DataSample(DataStatus.UNKNOWN, f"sampling failed: {code}: {message}")
    return out
