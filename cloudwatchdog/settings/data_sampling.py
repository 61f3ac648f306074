"""`data_sampling:` reading a bounded sample of the objects in exposed storage to say what it holds.

Off by default: it needs read access to objects (s3:GetObject, storage.objects.get, Storage Blob Data Reader) and
it reads customer data. Only counts, object keys and masked examples are kept.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cloudwatchdog.settings.base import StrictModel

MIB = 1 << 20


class DataSamplingConfig(StrictModel):
    enabled: bool = False
    # The verdicts whose resources are sampled; `latent: true` adds resources one guardrail away from public.
    levels: list[Literal["public", "cross-account"]] = ["public", "cross-account"]
    latent: bool = False
    max_objects: Annotated[int, Field(ge=1, le=1000)] = 20  # objects read per resource
    max_bytes: Annotated[int, Field(ge=1024, le=64 * MIB)] = MIB  # bytes read from the start of each object
    scan_byte_budget: Annotated[int, Field(ge=1024)] = 256 * MIB  # bytes read per scan, all resources together
