"""Reading a log object as a stream of lines, in bounded memory: gzip is recognised by its magic bytes and
decompressed on the fly; a line longer than ``MAX_LINE`` is cut there and the rest of it up to the next line end is
dropped (never loaded whole, never read as a line of its own). A gzip stream that ends before its end (a truncated
object) raises ``TruncatedLog`` after what it held was read: the reader marks its day unreadable."""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterator
from typing import Protocol

CHUNK = 1 << 20
MAX_LINE = 1 << 20


class TruncatedLog(ValueError):
    """A gzip log object that ends in the middle of its compressed stream."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _gunzip(first: bytes, fp: Readable) -> Iterator[bytes]:
    """Decompress a gzip stream (several members, as concatenated gzip files are, included) chunk by chunk."""
    inflate = zlib.decompressobj(wbits=31)
    pending = False  # a member has begun and not ended
    block = first
    while block:
        while block:
            pending = True
            out = inflate.decompress(block, CHUNK)
            if out:
                yield out
            if inflate.eof:  # next member, if any
                block = inflate.unused_data
                inflate = zlib.decompressobj(wbits=31)
                pending = False
                continue
            block = inflate.unconsumed_tail
        block = fp.read(CHUNK)
    if pending:
        if tail := inflate.flush():
            yield tail
        raise TruncatedLog("the gzip log object is truncated (it ends inside its compressed stream)")


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
    dropping = False  # the rest of an overlong line, up to its line end
    for block in chunks(fp):
        if dropping:
            end = block.find(b"\n")
            if end < 0:
                continue
            block, dropping = block[end + 1:], False
        block = carry + block
        parts = block.split(b"\n")
        carry = parts.pop()
        yield from parts
        if len(carry) > MAX_LINE:
            yield carry[:MAX_LINE]
            carry, dropping = b"", True
    if carry:
        yield carry


def csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str] | None]:
    """A csv reader's rows, None for a row the csv module refuses (a field over its size limit, an unterminated
    quote): the caller counts it as a malformed line and goes on, the reader resumes at the next line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None
            continue
        yield row


class _Decoded:
    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:  # a probe of the type (ijson makes one)
            return b""
        return next(self._blocks, b"")


def decoded(fp: Readable) -> Readable:
    """The stream as a file of its bytes, gunzipped when they are gzip (for a streaming parser such as ijson): each
    read returns the next chunk, b"" at the end."""
    return _Decoded(chunks(fp))
