"""Pure: what the account-wide listings (and the account-level settings) of a raw snapshot already answer per
bucket, so that the collector does not ask again and the normalizer reads the same answer back.

- A bucket's region: the ``BucketRegion`` field of a ``ListBuckets`` entry (AWS sends it on a paginated listing),
  else a ``ListBuckets(BucketRegion=<region>)`` listing that names the bucket (``bucket_region_listings``). Never
  guessed: a bucket neither names is read with GetBucketLocation.
- A bucket's tags: the Resource Groups Tagging API (``GetResources`` for ``s3``, ``tag_listings`` per region).
  It names every bucket that has tags; a bucket it does not name has none, but only where the listing of the
  bucket's own region was read whole (the API is regional). Anything else is read with GetBucketTagging.
- A bucket's Block Public Access: not read when all four account-level flags are on (they decide every route the
  bucket level could block), or when the bucket has nothing for it to block (``moot``); recorded as
  ``{"skipped": why}`` and normalized to ``NotRead``, never to a value.

Imports no SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.model import NotRead, PublicAccessBlock

BucketPab = PublicAccessBlock | ReadError | NotRead | None


def bucket_of_arn(arn: Any) -> str | None:
    """The bucket name of an S3 bucket ARN (any partition); None for anything else (an object, an access point)."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "s3" or parts[3] or parts[4]:
        return None
    name = parts[5]
    return name if name and "/" not in name else None


def _ok_list(result: Any, key: str) -> list[Mapping[str, Any]] | None:
    """The entries of a successful listing; None when the call failed or answered in another shape."""
    payload = result.get("ok") if isinstance(result, Mapping) else None
    entries = payload.get(key) if isinstance(payload, Mapping) else None
    if not isinstance(entries, list):
        return None
    return [e for e in entries if isinstance(e, Mapping)]


def listed_regions(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """Bucket name -> region, as far as the listings say."""
    regions: dict[str, str] = {}
    calls = snapshot.get("calls")
    listing = calls.get("ListBuckets") if isinstance(calls, Mapping) else None
    for entry in _ok_list(listing, "Buckets") or ():
        name, region = entry.get("Name"), entry.get("BucketRegion")
        if isinstance(name, str) and isinstance(region, str) and region:
            regions[name] = region
    # The listings filtered by region place a bucket only when they agree: a bucket named by two of them, or whose
    # entry says another region (a server that ignores the filter), is placed by GetBucketLocation instead.
    placed: dict[str, str] = {}
    doubtful: set[str] = set()
    by_region = snapshot.get("bucket_region_listings")
    for region, result in sorted(by_region.items()) if isinstance(by_region, Mapping) else ():
        for entry in _ok_list(result, "Buckets") or ():
            name, own = entry.get("Name"), entry.get("BucketRegion")
            if not isinstance(name, str) or not isinstance(region, str):
                continue
            if placed.setdefault(name, region) != region or (isinstance(own, str) and own and own != region):
                doubtful.add(name)
    for name, region in placed.items():
        if name not in doubtful:
            regions.setdefault(name, region)
    return regions


class TagListings:
    """What the tagging API answered: tags per bucket, and the regions whose listing was read whole."""

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.tags: dict[str, Any] = {}  # bucket name -> its raw Tags list, as the API gave it
        self.complete: set[str] = set()
        listings = snapshot.get("tag_listings")
        for region, result in sorted(listings.items()) if isinstance(listings, Mapping) else ():
            entries = _ok_list(result, "ResourceTagMappingList")
            if entries is None:
                continue
            self.complete.add(str(region))
            for entry in entries:
                name = bucket_of_arn(entry.get("ResourceARN"))
                if name is not None:
                    self.tags.setdefault(name, entry.get("Tags"))

    def answers(self, bucket: str, region: str | None) -> bool:
        """Whether the listings tell this bucket's tags (named, or absent from its own region's listing)."""
        return bucket in self.tags or (region is not None and region in self.complete)

    def tagging_result(self, bucket: str) -> dict[str, Any]:
        """The bucket's tags in GetBucketTagging's shape (only when ``answers``)."""
        if bucket in self.tags:
            return {"ok": {"TagSet": self.tags[bucket]}}  # parse_tags judges the shape
        return {"absent": "NoSuchTagSet"}


def skipped_bucket_pab(
    result: Any, account_pab: PublicAccessBlock | ReadError | None, note: Callable[[ReadError], None],
    *, nothing_to_block: Callable[[], bool] = lambda: False,
) -> NotRead | ReadError | None:
    """A bucket's GetPublicAccessBlock the collector did not ask (``{"skipped": why}``) because all four
    account-level flags are on, or because the bucket has nothing for them to block (``moot``): NotRead. Trusted
    only when the snapshot says so too (its account level, or ``nothing_to_block()`` over its answers); otherwise
    the setting is unknown (a ReadError). None: the call was made (or not recorded), read it as usual."""
    if not isinstance(result, Mapping) or "skipped" not in result:
        return None
    if (isinstance(account_pab, PublicAccessBlock) and account_pab.fully_on) or nothing_to_block():
        return NotRead(str(result["skipped"]))
    error = ReadError("GetPublicAccessBlock", "NotCollected",
                      "not read, yet neither all four account-level flags are on nor is there nothing to block")
    note(error)
    return error


__all__ = ["BucketPab", "TagListings", "bucket_of_arn", "listed_regions", "skipped_bucket_pab"]
