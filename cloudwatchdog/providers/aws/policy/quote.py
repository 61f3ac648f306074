"""How evidence quotes a policy, and how much of it there is. The policy's author may be hostile: a list shows
its first items and a count of the rest, an item its first characters, and an analysis writes a bounded number of
lines, so that neither one line nor the evidence as a whole grows with the policy's size (or its square).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cloudwatchdog.model import Evidence

_SHOWN_ITEMS = 10
_SHOWN_CHARS = 200


def clip(text: str, chars: int = _SHOWN_CHARS) -> str:
    return text if len(text) <= chars else text[:chars] + "..."


def show_list(items: Sequence[str], sep: str = ", ", chars: int = _SHOWN_CHARS) -> str:
    shown = sep.join(clip(item, chars) for item in items[:_SHOWN_ITEMS])
    return shown if len(items) <= _SHOWN_ITEMS else f"{shown} and {len(items) - _SHOWN_ITEMS} more"


def show_values(values: Sequence[str]) -> str:
    return clip(values[0]) if len(values) == 1 else "[" + show_list(values) + "]"


MAX_NOTES = 200


class Notes:
    """The evidence lines of one analysis: at most MAX_NOTES are written, the rest only counted (a policy of many
    principals and Deny statements would otherwise say something about every pair)."""

    def __init__(self, source: str, limit: int = MAX_NOTES) -> None:
        self.source = source
        self.limit = limit
        self.lines: list[Evidence] = []
        self.omitted = 0

    def add(self, detail: str | Callable[[], str]) -> None:
        """A line; give a callable to skip formatting it once the limit is reached."""
        if len(self.lines) < self.limit:
            self.lines.append(Evidence(self.source, detail if isinstance(detail, str) else detail()))
        else:
            self.omitted += 1

    def evidence(self) -> list[Evidence]:
        more = f"and {self.omitted} more notes on grant paths and Deny statements like the ones above"
        return self.lines + ([Evidence(self.source, more)] if self.omitted else [])
