"""Text from a cloud, made safe for where it goes. Everything a cloud returns (names, tags, object keys, error
messages) is untrusted: anyone who can name one bucket in one scanned account writes part of our output.

- ``visible``: for a terminal (and plain-text logs): control characters (a screen clear, a window title, a
  hyperlink are all ESC sequences), bidirectional overrides and other invisible formatting characters become
  visible escapes such as ``\\x1b`` or ``\\u202e``, so what is printed is exactly what is there.
- ``scrub`` / ``scrub_value``: lone surrogates (JSON may carry ``"\\ud800"``, which no UTF-8 file or database
  can store) become U+FFFD, so one bad name cannot crash the report or the store.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but none kept (tab and newline too: a single-line field must stay on its line), DEL and C1, zero-width
# and direction marks, bidirectional embeddings/overrides/isolates, the BOM.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control and invisible formatting character shown as an escape."""
    return _INVISIBLE.sub(_escape, text) if not text.isprintable() or _INVISIBLE.search(text) else text


def scrub(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (everything else unchanged)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def scrub_value(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string scrubbed, keys included. What needs
    no change is returned as it is (the same object), so clean data is not copied."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        items = [(scrub(k) if isinstance(k, str) else k, scrub_value(v)) for k, v in value.items()]
        if all(k2 is k and v2 is v for (k2, v2), (k, v) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        out = [scrub_value(v) for v in value]
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out
    return value
