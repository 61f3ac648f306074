"""Wildcard matching in linear time: ``*`` matches any run of characters (``/`` and newlines included), ``?`` any
one character, and every other character, ``[`` included, only itself.

Every glob in the product goes through here: AWS policy actions and resources, suppression rule and resource globs,
alert routing's account and rule globs. A matcher built on a regular expression (``fnmatch``, a pattern turned
into ``.*``) backtracks: ``a*a*a*...b`` against ``aaa...a`` takes exponential time, and such a pattern can come
from anyone who can set one bucket policy.

The pattern is cut at each ``*``. The first piece must match at the start of the text, the last at its end, and
each piece in between is placed at its leftmost match after the one before: leftmost is always best, since it
leaves the most text to the pieces after it, so there is never a reason to go back. A piece without ``?`` is
found with ``str.find``; a piece with ``?`` by one bit-parallel pass over the text (Shift-And), which looks at
each character once. Every character of the text is thus scanned a bounded number of times.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["Glob", "compile_glob", "glob_match", "has_wildcard"]


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def glob_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Does ``text`` match ``pattern`` as a whole? ``ignore_case`` compares the ``str.lower()`` forms."""
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    return compile_glob(pattern).match(text)


def compile_glob(pattern: str) -> Glob:
    """The pattern, ready to match many texts (case-sensitive: lower both sides first to fold case)."""
    return _compile(pattern) if len(pattern) <= _CACHED_LENGTH else Glob.of(pattern)


_CACHED_LENGTH = 256  # short patterns recur (actions, rule ids); long ones are compiled each time, not kept


@dataclass(frozen=True)
class _Piece:
    """A run of the pattern between two ``*``: its literal chunks at their offsets, and for a piece with ``?``
    the Shift-And table (bit i of ``masks[c]`` is set when position i accepts c; ``wild`` for other chars)."""

    text: str
    chunks: tuple[tuple[int, str], ...]
    masks: dict[str, int] | None
    wild: int

    @classmethod
    def of(cls, text: str) -> _Piece:
        if "?" not in text:
            return cls(text, ((0, text),) if text else (), None, 0)
        chunks: list[tuple[int, str]] = []
        offset = 0
        for chunk in text.split("?"):
            if chunk:
                chunks.append((offset, chunk))
            offset += len(chunk) + 1
        wild = sum(1 << i for i, c in enumerate(text) if c == "?")
        masks: dict[str, int] = {}
        for i, c in enumerate(text):
            if c != "?":
                masks[c] = masks.get(c, wild) | (1 << i)
        return cls(text, tuple(chunks), masks, wild)

    def at(self, text: str, start: int) -> bool:
        """Does the piece match ``text`` at ``start`` (the caller checked that it fits)?"""
        for offset, chunk in self.chunks:  # noqa: SIM110 (a loop: all() and its generator cost 2x on this hot path)
            if not text.startswith(chunk, start + offset):
                return False
        return True

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost index >= ``start`` where the piece matches inside ``text[:end]``, or -1."""
        if self.masks is None:
            return text.find(self.text, start, end)
        masks, wild = self.masks, self.wild
        last = 1 << (len(self.text) - 1)
        state = 0
        for i in range(start, end):
            state = ((state << 1) | 1) & masks.get(text[i], wild)
            if state & last:
                return i - len(self.text) + 1
        return -1


@dataclass(frozen=True)
class Glob:
    """A compiled pattern: its pieces between ``*``, the ones in between without the empty ones ("**")."""

    head: _Piece
    middle: tuple[_Piece, ...]
    tail: _Piece | None  # None: the pattern has no "*"

    @classmethod
    def of(cls, pattern: str) -> Glob:
        pieces = [_Piece.of(piece) for piece in pattern.split("*")]
        if len(pieces) == 1:
            return cls(pieces[0], (), None)
        return cls(pieces[0], tuple(p for p in pieces[1:-1] if p.text), pieces[-1])

    def match(self, text: str) -> bool:
        head, tail = self.head, self.tail
        if tail is None:
            return len(text) == len(head.text) and head.at(text, 0)
        end = len(text) - len(tail.text)
        if end < len(head.text) or not head.at(text, 0) or not tail.at(text, end):
            return False
        position = len(head.text)
        for piece in self.middle:
            found = piece.find(text, position, end)
            if found < 0:
                return False
            position = found + len(piece.text)
        return True


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> Glob:
    return Glob.of(pattern)
