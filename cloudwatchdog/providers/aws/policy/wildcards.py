"""IAM wildcards in actions and resource ARNs: ``*`` any run of characters (including ``/``), ``?`` one character;
nothing else is special.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Does ``text`` match the IAM wildcard ``pattern``?"""
    return _glob(pattern, ignore_case=ignore_case).match(text) is not None


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text
