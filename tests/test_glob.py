"""The one glob matcher (cloudwatchdog.glob): ``*`` and ``?`` only, case folding on request, linear time."""

from __future__ import annotations

import time
from datetime import timedelta
from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudwatchdog.glob import glob_match, has_wildcard


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("", "", True),
        ("", "a", False),
        ("*", "", True),
        ("*", "anything/at all\n", True),
        ("?", "", False),
        ("?", "é", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y.txt", True),
        ("arn:aws:s3:::b*", "arn:aws:s3:::b/x", True),  # * crosses "/" in IAM
        ("arn:aws:s3:::b/*", "arn:aws:s3:::bb/x", False),
        ("*a*b*c*", "xaxbxcx", True),
        ("*a*b*c*", "xcxbxax", False),
        ("a*a", "a", False),
        ("a**b", "ab", True),
        ("*?", "", False),
        ("?*?", "ab", True),
        ("[ab]", "a", False),  # no character classes: [ is itself
        ("[ab]", "[ab]", True),
        ("aws-s3-*", "aws-s3-bucket-public", True),
        ("1234567890??", "123456789012", True),
    ],
)
def test_semantics(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def test_case_folding_only_on_request() -> None:
    assert glob_match("s3:Get*", "s3:getobject", ignore_case=True)
    assert not glob_match("s3:Get*", "s3:getobject")
    assert glob_match("S3:GETOBJECT", "s3:GetObject", ignore_case=True)


def test_has_wildcard() -> None:
    assert has_wildcard("a*") and has_wildcard("a?") and not has_wildcard("a[b]")


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        # Exponential for a backtracking regex: every "*" can take any number of the a's.
        ("a*" * 2000 + "b", "a" * 60_000),
        ("*" + "a?" * 2000 + "b*", "a" * 60_000),
        ("*" + "a" * 5000 + "b*", "a" * 60_000),
        ("?*" * 3000 + "b", "a" * 60_000),
    ],
    ids=["stars", "question-marks", "long-piece", "mixed"],
)
def test_pathological_patterns_are_fast(pattern: str, text: str) -> None:
    started = time.perf_counter()
    assert glob_match(pattern, text) is False
    assert time.perf_counter() - started < 2.0


# Patterns and texts from a small alphabet, so that matches and near-misses are frequent.
_SMALL = st.text(alphabet="ab/*?.", max_size=12)
_ANY_PATTERN = st.text(max_size=20).filter(lambda p: "[" not in p)


@settings(max_examples=400, deadline=timedelta(milliseconds=500), database=None)
@given(pattern=_SMALL, text=st.text(alphabet="ab/.?*\n", max_size=16))
def test_agrees_with_fnmatchcase(pattern: str, text: str) -> None:
    if "[" not in pattern:
        assert glob_match(pattern, text) == fnmatchcase(text, pattern)


@settings(max_examples=200, deadline=timedelta(milliseconds=500), database=None)
@given(pattern=_ANY_PATTERN, text=st.text(max_size=30))
def test_agrees_with_fnmatchcase_on_any_characters(pattern: str, text: str) -> None:
    assert glob_match(pattern, text) == fnmatchcase(text, pattern)


@settings(max_examples=60, deadline=timedelta(milliseconds=1000), database=None)
@given(pattern=st.text(alphabet="a*?b", min_size=1, max_size=60), size=st.integers(1_000, 40_000))
def test_bounded_time_on_long_texts(pattern: str, size: int) -> None:
    # The deadline is the assertion: a backtracking matcher takes exponential time on a*a*a*...b here.
    glob_match(pattern, "a" * size)
    glob_match(pattern, "a" * size + "b")
