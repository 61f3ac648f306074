"""One evaluation of S3's endpoint rules per kind of bucket name, not one per bucket.

botocore resolves every request's URL by evaluating S3's endpoint rule set (a tree of about 70 rules) with the
request's parameters, the bucket name among them, and keeps the last 100 answers. A scan sends its three or four
requests per bucket to a thousand different buckets, so nearly every bucket's first request of each kind evaluates
the whole tree again: about 0.2 ms of CPU a time, two or three times per bucket, a tenth of what a bucket costs.

The rules look at a bucket name only to tell kinds apart: an ARN (``arn:...``), a directory bucket
(``...--x-s3``), an access-point or Outposts alias (``...--xa-s3``, ``...--op-s3``), a name that can be a DNS label
(virtual-hosted addressing) or not (dots, capitals: path style). Every name of 3 to 63 lowercase letters, digits and
single hyphens, starting and ending with a letter or digit, is the same kind to every rule: no ``--``, no dot, no
colon. For such a name the endpoint is resolved with a fixed stand-in of that kind (so botocore's own cache answers
after the first time) and the name is put in its place in the URL. Any other name, or an answer that does not carry
the stand-in exactly once in its URL and nowhere else, is resolved as botocore would. ``tests`` compare both ways
over names of every kind, regions, partitions and addressing settings.

It wraps one private attribute of a botocore client (its endpoint provider); where a botocore release has no such
attribute, the client is left as it is and works as before, only without the saving.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("cloudwatchdog.providers.aws.collect")

# The stand-in: a plain name of the same kind (lowercase letters only), unlikely in any endpoint URL.
STAND_IN = "cloudwatchdogbucketstandin"
# A DNS label of 3 to 63 characters: lowercase letters, digits and single hyphens, a letter or digit at each end.
_PLAIN = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]")


def plain_name(bucket: object) -> bool:
    """Whether the endpoint rules treat ``bucket`` as they treat the stand-in."""
    return isinstance(bucket, str) and bucket != STAND_IN and _PLAIN.fullmatch(bucket) is not None


def _carries_stand_in_once(result: Any) -> bool:
    url = getattr(result, "url", None)
    if not isinstance(url, str) or url.count(STAND_IN) != 1:
        return False
    rest = (getattr(result, "properties", None), getattr(result, "headers", None))
    return STAND_IN not in repr(rest)


def share_bucket_endpoints(client: Any) -> bool:
    """Make an S3 client resolve endpoints once per kind of bucket name (see the module's text). Returns whether
    it was done (False: this botocore keeps its endpoint provider elsewhere; the client is unchanged)."""
    provider = getattr(getattr(client, "_ruleset_resolver", None), "_provider", None)
    resolve = getattr(provider, "resolve_endpoint", None)
    if provider is None or not callable(resolve):
        log.debug("botocore client without an endpoint provider: S3 endpoints are resolved per bucket")
        return False

    def resolve_endpoint(**params: Any) -> Any:
        bucket = params.get("Bucket")
        if plain_name(bucket) and STAND_IN not in str(params.get("Endpoint", "")):
            result = resolve(**{**params, "Bucket": STAND_IN})  # botocore's cache answers after the first time
            if _carries_stand_in_once(result):  # (a few microseconds)
                return result._replace(url=result.url.replace(STAND_IN, bucket))
        return resolve(**params)

    provider.resolve_endpoint = resolve_endpoint
    return True


__all__ = ["STAND_IN", "plain_name", "share_bucket_endpoints"]
