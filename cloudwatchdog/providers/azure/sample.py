"""Data sampling on Azure: list a container's blobs, read a bounded prefix of a few (ranged downloads), classify
them. A public container is read anonymously, exactly as an outsider would (which also proves the exposure);
others with the configured credential, which needs the Storage Blob Data Reader role."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from cloudwatchdog.data.sampling import Budget, ObjectInfo, ReadFailure, sample_resource
from cloudwatchdog.model import DataSample, DataStatus, Level, Resource
from cloudwatchdog.providers.azure.model import ACCOUNT_TYPE, CONTAINER_TYPE
from cloudwatchdog.providers.azure.session import CallCounter, client_kwargs, describe_exception, make_credential
from cloudwatchdog.providers.azure.settings import AzureProvider
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

log = logging.getLogger(__name__)


def _failure(exc: Exception) -> ReadFailure:
    code, message = describe_exception(exc)
    return ReadFailure(code, message)


def sample_container(container: Any, sampling: DataSamplingConfig, budget: Budget) -> DataSample:
    def list_objects(limit: int) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        try:
            for blob in container.list_blobs():
                modified = blob.last_modified
                found.append(ObjectInfo(str(blob.name), int(blob.size or 0),
                                        modified.isoformat() if modified is not None else "", str(blob.etag or "")))
                if len(found) >= limit:
                    break
        except Exception as exc:  # any SDK or transport error: the listing is unknown, with its reason
            raise _failure(exc) from None
        return found

    def read(obj: ObjectInfo, length: int) -> bytes:
        try:
            data: bytes = container.download_blob(obj.key, offset=0, length=length).readall()
        except Exception as exc:
            raise _failure(exc) from None
        return data[:length]

    return sample_resource(list_objects, read, max_objects=sampling.max_objects, max_bytes=sampling.max_bytes,
                           budget=budget, scope=f"azure:{getattr(container, 'url', '')}")


def _container_client(cfg: AzureProvider, endpoint: str, name: str, credential: Any) -> Any:
    from azure.storage.blob import ContainerClient

    kwargs = client_kwargs(cfg, CallCounter(loopback_only=cfg.credential == "emulator"))
    for key in ("retry_total", "retry_backoff_factor", "retry_backoff_max"):
        kwargs.pop(key)
    return ContainerClient(endpoint, name, credential=credential, **kwargs)


def sample_azure(cfg: AzureProvider, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
                 scanned: Sequence[Resource]) -> dict[str, DataSample]:
    out: dict[str, DataSample] = {}
    endpoints = {r.uid: r.properties.get("blob_endpoint") for r in scanned if r.type == ACCOUNT_TYPE}
    credential: Any = None
    for r in resources:
        if r.type != CONTAINER_TYPE:
            out[r.uid] = DataSample(DataStatus.NOT_SAMPLED, f"{r.type} holds no objects to sample")
            continue
        endpoint = endpoints.get(str(r.properties.get("storage_account_id")))
        if not isinstance(endpoint, str) or not endpoint:
            out[r.uid] = DataSample(DataStatus.UNKNOWN, "objects could not be read: the blob endpoint is not known")
            continue
        public = r.exposure.level is Level.PUBLIC and r.exposure.read and r.exposure.list
        try:
            if not public and credential is None:
                credential = make_credential(cfg)
            container = _container_client(cfg, endpoint, str(r.properties.get("container")),
                                          None if public else credential)
            out[r.uid] = sample_container(container, sampling, budget)
        except Exception as exc:  # a bug must not lose the scan: this resource is unknown, with the reason
            code, message = describe_exception(exc)
            log.exception("azure data sampling of %s failed", r.uid)
            out[r.uid] = DataSample(DataStatus.UNKNOWN, f"sampling failed: {code}: {message}")
    return out
