"""Readers: a bounded byte prefix of one object -> what it holds, as structured as the format allows.

The caller reads at most ``max_bytes`` of an object (a ranged GET); gzip is recognised by its magic bytes and
inflated up to a fixed multiple of that, so memory stays bounded whatever the object's size. A prefix ends in the
middle of a record: when the object was cut, the last partial line is dropped.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

GZIP_MAGIC: Final = b"\x1f\x8b"
INFLATE_FACTOR: Final = 8  # a gzip prefix inflates to at most this many times the bytes read
# Media and binary containers: listed, never read (nothing a text classifier can judge).
BINARY_SUFFIXES: Final = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".svg", ".heic", ".mp4", ".mov",
    ".avi", ".mkv", ".webm", ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".zip", ".7z", ".rar", ".tar", ".bz2", ".xz",
    ".zst", ".exe", ".dll", ".so", ".bin", ".iso", ".dmg", ".woff", ".woff2", ".ttf", ".otf", ".pdf", ".psd",
    ".parquet", ".orc", ".avro",
})
CSV_SUFFIXES: Final = (".csv", ".tsv", ".psv")
JSON_SUFFIXES: Final = (".json", ".jsonl", ".ndjson", ".geojson")

csv.field_size_limit(1 << 24)


class Format:
    CSV = "csv"
    JSON = "json"
    TEXT = "text"
    BINARY = "binary"


@dataclass(frozen=True)
class Decoded:
    format: str
    text: str
    truncated: bool  # the prefix ends before the object does


def base_name(key: str) -> str:
    """The key without a compression suffix, lower-cased: ``logs/app.log.gz`` -> ``logs/app.log``."""
    lower = key.lower()
    return lower[:-3] if lower.endswith(".gz") else lower


def listed_only(key: str) -> bool:
    """Media and binary formats by name: not worth a read."""
    name = base_name(key)
    dot = name.rfind(".")
    return dot > name.rfind("/") and name[dot:] in BINARY_SUFFIXES


def inflate(data: bytes, limit: int) -> tuple[bytes, bool]:
    """A gzip prefix, inflated to at most ``limit`` bytes; (bytes, cut short). A corrupt or cut stream yields what
    inflated before the damage."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        return b"", True
    return out, bool(inflater.unconsumed_tail) or not inflater.eof


def decode(key: str, data: bytes, truncated: bool, max_text: int) -> Decoded:
    """Bytes read from the start of an object -> its text and format (by name, then by content)."""
    if data[:2] == GZIP_MAGIC:
        data, cut = inflate(data, max_text)
        truncated = truncated or cut
    head = data[:8192]
    if b"\x00" in head:
        return Decoded(Format.BINARY, "", truncated)
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if truncated:
        text = text[:text.rfind("\n") + 1] if "\n" in text else ""
    name = base_name(key)
    stripped = text.lstrip()
    if name.endswith(CSV_SUFFIXES):
        return Decoded(Format.CSV, text, truncated)
    if name.endswith(JSON_SUFFIXES) or stripped[:1] in ("{", "["):
        return Decoded(Format.JSON, text, truncated)
    return Decoded(Format.TEXT, text, truncated)


def csv_rows(text: str, key: str) -> Iterator[list[str]]:
    """Rows of CSV/TSV text; the delimiter from the name (.tsv) or sniffed from the first lines."""
    sample = "\n".join(text[:65536].split("\n")[:50])
    if base_name(key).endswith(".tsv"):
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        return  # a malformed tail: what parsed before it counts


MAX_DEPTH: Final = 32  # JSON nesting followed; deeper values are not read


def flatten(value: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(key path, scalar as text) of a JSON value: ``{"user": {"email": ..}}`` -> ``("user.email", ..)``."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from flatten(v, prefix + "[]", depth + 1)
    elif value is not None and not isinstance(value, bool):
        yield prefix, str(value)


def json_records(text: str) -> Iterator[list[tuple[str, str]]] | None:
    """Records of a JSON document (a list: one per item) or JSON Lines (one per line); None when it is neither
    (the caller reads it as text)."""
    stripped = text.strip()
    if not stripped:
        return iter(())
    try:
        doc = json.loads(stripped)
    except (ValueError, RecursionError):  # not one document (or nested beyond the parser): JSON Lines or text
        doc = None
    else:
        items = doc if isinstance(doc, list) else [doc]
        return (list(flatten(item)) for item in items)
    lines = [line for line in stripped.split("\n") if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except (ValueError, RecursionError):
            continue
    if not parsed or len(parsed) < len(lines) * 0.8:
        return None
    return (list(flatten(item)) for item in parsed)
