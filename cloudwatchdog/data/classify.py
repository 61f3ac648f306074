"""One object's bytes -> counts per class and masked examples (``ObjectFindings``); many objects -> a
resource's ``DataSample``. Pure: the providers read the bytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cloudwatchdog.data import readers
from cloudwatchdog.data.columns import Column, ColumnKind, classify_column
from cloudwatchdog.data.detectors import find_in_text
from cloudwatchdog.data.masking import mask
from cloudwatchdog.model import DataClass, DataClassCount, DataSample, DataStatus

PROFILE_ROWS = 300  # rows (or JSON records) a column is classified from
CHECKS_PER_BLOCK = 25  # values of a classified column re-validated per block to estimate the valid share
BLOCK_ROWS = 5000
TEXT_BLOCK_LINES = 2000
SATURATION = 300  # a class found this often in a text object is no longer searched; its count is extrapolated
EXAMPLES = 3  # masked examples kept per class and object
MAX_KEYS = 10  # object keys listed per class

__all__ = ["DataClassCount", "DataSample", "ObjectFindings", "classify_object", "summarise"]


@dataclass(frozen=True)
class ObjectFindings:
    """What one object's prefix holds; ``read`` False when it was listed only (binary, media)."""

    key: str
    read: bool
    counts: dict[DataClass, int] = field(default_factory=dict)
    examples: dict[DataClass, tuple[str, ...]] = field(default_factory=dict)


class _Tally:
    def __init__(self) -> None:
        self.counts: Counter[DataClass] = Counter()
        self.examples: dict[DataClass, list[str]] = {}

    def add(self, cls: DataClass, n: int, values: Sequence[str] = ()) -> None:
        if n <= 0:
            return
        self.counts[cls] += n
        kept = self.examples.setdefault(cls, [])
        for value in values:
            if len(kept) >= EXAMPLES:
                break
            masked = mask(cls, value)
            if masked not in kept:
                kept.append(masked)

    def text(self, text: str, skip: frozenset[DataClass] = frozenset()) -> None:
        for cls, value in find_in_text(text, skip):
            self.add(cls, 1, (value,))

    def findings(self, key: str) -> ObjectFindings:
        return ObjectFindings(key, True, dict(self.counts), {c: tuple(v) for c, v in self.examples.items()})


def classify_object(key: str, data: bytes, *, truncated: bool, max_text: int | None = None) -> ObjectFindings:
    """Classify the first bytes of an object (``truncated``: the object is longer than ``data``); a gzip object
    is inflated up to ``max_text`` bytes (default: 8 times the bytes read, at least 8 MiB)."""
    if readers.listed_only(key):
        return ObjectFindings(key, False)
    limit = max_text or max(len(data), 1 << 20) * readers.INFLATE_FACTOR
    decoded = readers.decode(key, data, truncated, limit)
    if decoded.format == readers.Format.BINARY:
        return ObjectFindings(key, False)
    tally = _Tally()
    if decoded.format == readers.Format.CSV:
        _table(readers.csv_rows(decoded.text, key), tally)
    elif decoded.format == readers.Format.JSON and (records := readers.json_records(decoded.text)) is not None:
        _records(records, tally)
    else:
        _lines(decoded.text, tally)
    return tally.findings(key)


def _lines(text: str, tally: _Tally) -> None:
    """Text and logs in blocks of lines. A class found ``SATURATION`` times is not searched in later blocks: its
    count is extrapolated from the lines searched (a log of 10,000 lines with an IP address on each says so
    without validating the last 9,000)."""
    lines = text.split("\n")
    saturated_at: dict[DataClass, int] = {}  # class -> lines searched when it saturated
    for start in range(0, len(lines), TEXT_BLOCK_LINES):
        tally.text("\n".join(lines[start:start + TEXT_BLOCK_LINES]), frozenset(saturated_at))
        searched = min(len(lines), start + TEXT_BLOCK_LINES)
        for cls, n in tally.counts.items():
            if n >= SATURATION and cls is not DataClass.CREDENTIAL and cls not in saturated_at:
                saturated_at[cls] = searched
    for cls, searched in saturated_at.items():
        if searched < len(lines):
            tally.counts[cls] = round(tally.counts[cls] * len(lines) / searched)


def _count_column(column: Column, values: Sequence[str], tally: _Tally) -> None:
    """Classified: non-empty values, scaled by the share of a systematic sample that validates; text: every value
    searched."""
    if column.kind == ColumnKind.CLASSIFIED and column.data_class is not None and column.check is not None:
        present = [v for v in values if v]
        if not present:
            return
        step = max(1, len(present) // CHECKS_PER_BLOCK)
        sample = present[::step]
        valid = [v for v in sample if column.check(v)]
        tally.add(column.data_class, round(len(present) * len(valid) / len(sample)), valid[:EXAMPLES])
    elif column.kind == ColumnKind.TEXT:
        tally.text("\n".join(values))


def _table(rows: Iterable[list[str]], tally: _Tally) -> None:
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return
    width = len(header)

    def columns(block: list[list[str]]) -> list[tuple[str, ...]]:
        return list(zip(*[[c.strip() for c in (r + [""] * (width - len(r)))[:width]] for r in block], strict=True))

    profile = [r for _, r in zip(range(PROFILE_ROWS), iterator, strict=False)]
    cols = columns(profile) if profile else [()] * width
    kinds = [classify_column(h, list(c)) for h, c in zip(header, cols, strict=True)]
    if not profile and any(v.strip() for v in header):
        tally.text("\t".join(header))  # a one-line file: no header to trust, just text
        return
    block = profile
    while block:
        for column, values in zip(kinds, columns(block), strict=True):
            _count_column(column, values, tally)
        block = [r for _, r in zip(range(BLOCK_ROWS), iterator, strict=False)]


def _records(records: Iterable[list[tuple[str, str]]], tally: _Tally) -> None:
    """JSON: key paths act as columns; the last path component is the header evidence."""
    iterator = iter(records)
    profile = [r for _, r in zip(range(PROFILE_ROWS), iterator, strict=False)]
    by_path: dict[str, list[str]] = {}
    for record in profile:
        for path, value in record:
            by_path.setdefault(path, []).append(value.strip())
    kinds = {p: classify_column(p.replace("[]", "").rsplit(".", 1)[-1], vs) for p, vs in by_path.items()}
    text_column = Column(ColumnKind.TEXT)
    for path, values in by_path.items():
        _count_column(kinds[path], values, tally)
    rest: dict[str, list[str]] = {}
    for record in iterator:
        for path, value in record:
            rest.setdefault(path, []).append(value.strip())
    for path, values in rest.items():
        _count_column(kinds.get(path, text_column), values, tally)


def summarise(findings: Sequence[ObjectFindings], *, listed: int, bytes_read: int, errors: Sequence[str] = (),
              attempted: int = 0) -> DataSample:
    """A resource's sample: counts per class over its objects, the keys holding each class (most first), masked
    examples. Unknown when objects it tried could not be read and nothing was found in the rest: a failed read
    never says "no personal data"."""
    sampled = [f for f in findings if f.read]
    totals: Counter[DataClass] = Counter()
    holders: dict[DataClass, list[tuple[int, str]]] = {}
    examples: dict[DataClass, list[str]] = {}
    for f in sampled:
        for cls, n in f.counts.items():
            totals[cls] += n
            holders.setdefault(cls, []).append((n, f.key))
            kept = examples.setdefault(cls, [])
            kept.extend(e for e in f.examples.get(cls, ()) if e not in kept and len(kept) < EXAMPLES)
    order = [c for c in DataClass if totals[c] > 0]
    classes = tuple(
        DataClassCount(c, totals[c], len(holders[c]),
                       tuple(k for _, k in sorted(holders[c], key=lambda h: -h[0])[:MAX_KEYS]), tuple(examples[c]))
        for c in order)
    reason = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    if errors and not classes:
        unreadable = f"{len(errors)} of {attempted or len(errors)} objects could not be read"
        return DataSample(DataStatus.UNKNOWN, f"{unreadable}: {reason}", listed, len(sampled), bytes_read)
    if not sampled and not errors:
        why = "no objects" if listed == 0 else "only binary or media objects (listed, not read)"
        return DataSample(DataStatus.SAMPLED, why, listed, 0, bytes_read)
    note = f"{len(errors)} objects could not be read: {reason}" if errors else ""
    return DataSample(DataStatus.SAMPLED, note, listed, len(sampled), bytes_read, classes)
