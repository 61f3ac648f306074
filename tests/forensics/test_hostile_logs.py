"""Hostile and broken log objects (the second review of issue 12): a truncated gzip object is not silently taken
as a whole day's logs, the rest of an overlong line is never read as a line of its own, a CSV row too large for the
csv module is one skipped line, and timestamps with a zone offset are read in UTC."""

from __future__ import annotations

import gzip
import io

import pytest

from cloudwatchdog.forensics.stream import MAX_LINE, TruncatedLog, lines


def test_a_truncated_gzip_object_raises_after_what_it_held() -> None:
    text = b"".join(b"line %d\n" % i for i in range(50_000))
    packed = gzip.compress(text)
    got: list[bytes] = []
    with pytest.raises(TruncatedLog):
        for line in lines(io.BytesIO(packed[: len(packed) // 2])):
            got.append(line)
    assert got and got[0] == b"line 0" and len(got) < 50_000


def test_a_complete_gzip_object_does_not_raise() -> None:
    assert list(lines(io.BytesIO(gzip.compress(b"a\nb\n")))) == [b"a", b"b"]


def test_the_rest_of_an_overlong_line_is_not_a_line_of_its_own() -> None:
    forged = b"forged record that must not be read"
    body = b"first\n" + b"x" * (2 * MAX_LINE + 10) + forged + b"\nlast\n"
    got = list(lines(io.BytesIO(body)))
    assert got[0] == b"first" and got[-1] == b"last"
    assert not any(forged in line for line in got), "the tail of the overlong line came out as a line"
    assert len(got) == 3
