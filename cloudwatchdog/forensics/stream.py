"""Reading a log object as a stream of lines, in bounded memory: gzip is recognised by its magic bytes and
decompressed on the fly; a line longer than ``MAX_LINE`` is cut there (and will not parse: it is counted as
malformed by the parser, never loaded whole)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

CHUNK = 1 << 20
MAX_LINE = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _gunzip(first: bytes, fp: Readable) -> Iterator[bytes]:
    """Decompress a gzip stream (several members, as concatenated gzip files are, included) chunk by chunk."""
    inflate = zlib.decompressobj(wbits=31)
    block = first
    while block:
        while block:
            out = inflate.decompress(block, CHUNK)
            if out:
                yield out
            if inflate.eof:  # next member, if any
                block = inflate.unused_data
                inflate = zlib.decompressobj(wbits=31)
                continue
            block = inflate.unconsumed_tail
        block = fp.read(CHUNK)
    if tail := inflate.flush():
        yield tail


def chunks(fp: Readable) -> Iterator[bytes]:
    """The stream's bytes in chunks of up to ``CHUNK`` (decompressed: a little more), gunzipped when they are
    gzip."""
    first = fp.read(CHUNK)
    if first[:2] == b"\x1f\x8b":
        yield from _gunzip(first, fp)
        return
    if first:
        yield first
    while block := fp.read(CHUNK):
        yield block


def lines(fp: Readable) -> Iterator[bytes]:
    """The stream's lines (without line ends); see the module doc for gzip and overlong lines."""
    carry = b""
    for block in chunks(fp):
        block = carry + block
        parts = block.split(b"\n")
        carry = parts.pop()
        yield from parts
        if len(carry) > MAX_LINE:
            yield carry[:MAX_LINE]
            carry = b""
    if carry:
        yield carry
