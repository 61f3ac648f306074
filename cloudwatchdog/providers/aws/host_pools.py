"""One connection per bucket, not one per request: enough connection pools for S3's one host per bucket.

Against AWS, botocore addresses a bucket at its own host name (``<bucket>.s3.<region>.amazonaws.com``), and urllib3
keeps one pool of connections per host, at most 10 pools per client, the least recently used let go first. A scan
works on as many buckets at once as it has workers (32 by default), so a bucket's pool is usually let go between
two of its own requests, and most requests open a new TLS connection: an extra round trip or two to AWS and a
handshake's CPU each. Measured against a local keep-alive server (``bench/connections.py``): 2.0 connections per
bucket for 4 requests with 10 pools, 1.0 with pools for twice the workers.

It replaces one attribute of a botocore client's HTTP session (urllib3's pool container) before the client's first
request; a botocore or urllib3 release without it leaves the client as it is. Through a proxy (``HTTPS_PROXY``)
botocore makes a pool container of its own at the first request, which keeps urllib3's 10: there,
``s3_addressing_style: path`` is the way to one connection for many buckets.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("cloudwatchdog.providers.aws.collect")


def size_host_pools(client: Any, pools: int) -> bool:
    """Let ``client`` keep connections to ``pools`` hosts (urllib3's default is 10). Returns whether it was done:
    False for a client without that container, or one that has sent requests already (its pools are kept)."""
    manager = getattr(getattr(getattr(client, "_endpoint", None), "http_session", None), "_manager", None)
    container = getattr(manager, "pools", None)
    if manager is None or container is None or not hasattr(container, "__len__") or len(container):
        log.debug("botocore client without an empty urllib3 pool container: its host pools keep urllib3's size")
        return False
    try:
        manager.pools = type(container)(pools)
    except TypeError:  # a container class that is not built from its size
        return False
    return True


__all__ = ["size_host_pools"]
