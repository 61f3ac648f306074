"""Raw snapshot files: ``scan --save-raw`` writes the provider answers behind a scan, ``scan --from-raw`` replays
them offline."""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

from cloudwatchdog.errors import UsageError
from cloudwatchdog.model import ScanResult, Snapshot

RAW_FORMAT = "cloudwatchdog-raw-snapshots"


def check_raw_target(path: str) -> None:
    """Fail before the scan, not after it, when --save-raw cannot be written."""
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir() or not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--save-raw {path}: cannot write a file there")


def load_raw(path: str) -> list[Snapshot]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise UsageError(f"--from-raw {path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not JSON: line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise UsageError(f"--from-raw {path}: nested too deeply to be a file written by --save-raw") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise UsageError(f"--from-raw {path}: not a file written by --save-raw: {str(exc)[:200]}") from None
    if not (isinstance(doc, dict) and doc.get("format") == RAW_FORMAT and isinstance(doc.get("snapshots"), list)
            and all(isinstance(s, dict) for s in doc["snapshots"])):
        raise UsageError(f"--from-raw {path}: not a file written by `cloudwatchdog scan --save-raw`")
    snapshots: list[Snapshot] = doc["snapshots"]
    if any(too_deep(s) for s in snapshots):
        raise UsageError(f"--from-raw {path}: nested too deeply to be a file written by --save-raw")
    return snapshots


MAX_DEPTH = 100  # levels of nesting in one snapshot; the clouds' answers stay far below


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep (without recursing itself). A
    file may nest as deep as the JSON decoder allows; what a scan does with a snapshot (scrubbing its text,
    writing it out again) recurses and would fail with no clear message beyond some hundreds of levels."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class RawFile:
    """``--save-raw`` written as the scan goes: each account's snapshot is written when it is analysed (``write``),
    so the raw answers are not held for the file; ``finish`` adds the scan's id and start and puts the file in
    place. Written to a hidden file beside ``path`` first: a scan that fails, or a disk that fills, leaves no
    half-written file under that name (nor an earlier one overwritten). A write that fails does not stop the scan:
    the rest is not written and ``finish`` gives the error (the command fails after writing the outputs)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._error: UsageError | None = None
        self._out: TextIO | None = None
        self._tmp: str | None = None
        self._first = True
        try:
            target = Path(path)
            tmp = str(target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
            # Made here, by no one else (O_EXCL), with the mode any file the command writes has (the umask's).
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            self._tmp = tmp
            try:
                self._out = os.fdopen(fd, "w", encoding="utf-8")
            except BaseException:
                os.close(fd)
                raise
            # format first (readers check it before any snapshot), then the snapshots; the scan's id and start at
            # the end, when known. Any order of members reads back the same (load_raw, stream_raw).
            self._out.write(f'{{\n "format": {json.dumps(RAW_FORMAT)},\n "snapshots": [')
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self._error = UsageError(f"--save-raw {self.path}: cannot write: {exc.strerror or exc}")
        self.discard()

    def write(self, snapshot: Snapshot) -> None:
        if self._out is None:
            return
        try:
            self._out.write("\n" if self._first else ",\n")
            json.dump(snapshot, self._out, indent=1)  # streamed: never one string
            self._first = False
        except OSError as exc:
            self._fail(exc)

    def finish(self, scan_id: str, started_at: str) -> UsageError | None:
        """The file put in place under its name, or why it could not be (nothing is left under it then)."""
        if self._out is not None and self._tmp is not None:
            try:
                self._out.write(f'\n ],\n "scan_id": {json.dumps(scan_id)},\n "started_at": {json.dumps(started_at)}'
                                "\n}\n")
                self._out.close()
                self._out = None
                os.replace(self._tmp, self.path)
                self._tmp = None
            except OSError as exc:
                self._fail(exc)
        return self._error

    def discard(self) -> None:
        """Stop writing and remove what was written (a scan that failed)."""
        out, tmp, self._out, self._tmp = self._out, self._tmp, None, None
        if out is not None:
            with contextlib.suppress(OSError):
                out.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def save_raw(result: ScanResult, path: str) -> None:
    """A finished scan's kept raw snapshots (``keep_raw``) as a raw file."""
    raw = RawFile(path)
    for snapshot in result.raw:
        raw.write(snapshot)
    error = raw.finish(result.id, result.started_at)
    if error is not None:
        raise error


# --- Reading a raw file one account at a time ------------------------------------------------------------------------
# The file's top level is read here; each value in it (a snapshot, the scan id, ...) is decoded by the json module
# itself, so a snapshot read this way is the one json.load gives (numbers, escapes, lone surrogates, limits).

_CHUNK = 4 << 20  # bytes read at a time; a value longer than the buffer doubles what the next read asks for
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_LIST = object()  # stands for the snapshots' list, read item by item


class _NotRaw(Exception):
    """The file is JSON (so far) but not of the shape --save-raw writes."""


class _Text:
    """A UTF-8 file read a buffer at a time, as text; ``pos`` is where reading goes on in ``buf``."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.bytes = 0
        self.lines = 0  # newlines in the text already let go of
        self.last = 0  # characters of the last value decoded

    def more(self, size: int) -> None:
        data = self.fh.read(size)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError(exc.encoding, exc.object, self.bytes + exc.start, self.bytes + exc.end,
                                     exc.reason) from None
        self.bytes += len(data)
        self.eof = not data
        self.lines += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos:] + text
        self.pos = 0

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]  # matches empty
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self.more(_CHUNK)

    def expect(self, chars: str, what: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            self.fail(f"Expecting {what}")
        self.pos += 1
        return char

    def fail(self, msg: str) -> NoReturn:
        raise json.JSONDecodeError(msg, self.buf, self.pos)

    def value(self) -> Any:
        """The next JSON value, decoded by the json module; reads on while the buffer ends inside it. The buffer
        first holds a little more than the previous value took (accounts of an estate are alike in size), so a
        value is seldom decoded twice."""
        size = _CHUNK
        self.peek()
        ahead = self.last + self.last // 4 - (len(self.buf) - self.pos)
        if ahead > 0 and not self.eof:
            self.more(ahead)
        while True:
            self.peek()
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:  # a number at the buffer's end may go on in the next read
                    self.last = end - self.pos
                    self.pos = end
                    return obj
            except ValueError:  # JSON that ends early, or a number cut short by the buffer (too many digits)
                if self.eof:
                    raise
            self.more(size)
            size *= 2

    def lineno(self, exc: json.JSONDecodeError) -> int:
        return self.lines + exc.lineno


def _header(text: _Text) -> dict[str, Any]:
    """The top level up to the snapshots' list (the reader stands on its first item), or to the end of the file
    when it has none; the other members, for checking."""
    if text.peek() == "\ufeff":
        text.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)")
    if text.peek() != "{":  # JSON, perhaps, but not ours
        text.value()
        if text.peek():
            text.fail("Extra data")
        raise _NotRaw
    text.pos += 1
    members: dict[str, Any] = {}
    if text.peek() == "}":
        text.pos += 1
        return members
    while True:
        if text.peek() != '"':
            text.fail("Expecting property name enclosed in double quotes")
        key = text.value()
        text.expect(":", "':' delimiter")
        if key == "snapshots" and text.peek() == "[":
            if members.get("format", RAW_FORMAT) != RAW_FORMAT:  # not one of ours: no snapshot read from it
                raise _NotRaw
            text.pos += 1
            members[key] = _LIST
            return members
        members[key] = text.value()
        if text.expect(",}", "',' delimiter") == "}":
            return members


def _check(members: dict[str, Any]) -> None:
    if members.get("format") != RAW_FORMAT or members.get("snapshots") is not _LIST:
        raise _NotRaw


def _items(text: _Text, members: dict[str, Any]) -> Iterator[Snapshot]:
    """The snapshots one at a time, then the rest of the top level, checked as json.load would."""
    if text.peek() == "]":
        text.pos += 1
    else:
        while True:
            item = text.value()
            if not isinstance(item, dict):
                raise _NotRaw
            if too_deep(item):
                raise RecursionError  # said as for a file the decoder itself finds too deep
            yield item
            if text.expect(",]", "',' delimiter") == "]":
                break
    while text.expect(",}", "',' delimiter") == ",":
        if text.peek() != '"':
            text.fail("Expecting property name enclosed in double quotes")
        key = text.value()
        text.expect(":", "':' delimiter")
        members[key] = text.value()
    if text.peek():
        text.fail("Extra data")
    _check(members)


def _usage_error(path: str, exc: BaseException, text: _Text) -> UsageError:
    """What json.load's errors say in load_raw, for the same file."""
    if isinstance(exc, OSError):
        return UsageError(f"--from-raw {path}: cannot read: {exc.strerror or exc}")
    if isinstance(exc, json.JSONDecodeError):
        return UsageError(f"--from-raw {path}: not JSON: line {text.lineno(exc)}: {exc.msg}")
    if isinstance(exc, UnicodeDecodeError):
        return UsageError(f"--from-raw {path}: not UTF-8 text (byte {exc.start})")
    if isinstance(exc, RecursionError):
        return UsageError(f"--from-raw {path}: nested too deeply to be a file written by --save-raw")
    if isinstance(exc, _NotRaw):
        return UsageError(f"--from-raw {path}: not a file written by `cloudwatchdog scan --save-raw`")
    return UsageError(f"--from-raw {path}: not a file written by --save-raw: {str(exc)[:200]}")


_ERRORS = (OSError, ValueError, RecursionError, _NotRaw)  # ValueError covers JSON and UTF-8 errors


def stream_raw(path: str) -> Iterator[Snapshot]:
    """``load_raw``'s snapshots one account at a time, holding one snapshot (and a buffer of the file) at a time.
    The top of the file is read now, so a file that is not JSON, not UTF-8 or not a raw file fails here, before
    the scan; a fault further on (a truncated file, an item that is not a snapshot) raises the same UsageError when
    the reading reaches it, before the scan is recorded or written."""
    try:
        fh = open(path, "rb")  # noqa: SIM115  # closed by the generator
    except OSError as exc:
        raise UsageError(f"--from-raw {path}: cannot read: {exc.strerror or exc}") from None
    text = _Text(fh)
    try:
        members = _header(text)
        if members.get("snapshots") is not _LIST:  # no list of snapshots: the whole file is read
            if text.peek():
                text.fail("Extra data")
            _check(members)
    except _ERRORS as exc:
        fh.close()
        raise _usage_error(path, exc, text) from None
    return _snapshots(path, fh, text, members)


def _snapshots(path: str, fh: BinaryIO, text: _Text, members: dict[str, Any]) -> Iterator[Snapshot]:
    with fh:
        try:
            yield from _items(text, members)
        except _ERRORS as exc:
            raise _usage_error(path, exc, text) from None
