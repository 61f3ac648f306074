"""providers.ordered.ordered_map: results in the items' order, a bounded window of work ahead, early close cancels
what has not started. A real thread pool; no cloud involved."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cloudwatchdog.providers.ordered import ordered_map


def test_results_come_in_order_whatever_finishes_first() -> None:
    def slow_first(n: int) -> int:
        time.sleep(0.05 if n == 0 else 0)
        return n * n

    with ThreadPoolExecutor(4) as pool:
        assert list(ordered_map(pool, slow_first, range(10), ahead=4)) == [n * n for n in range(10)]


def test_no_more_than_the_window_is_submitted_ahead_of_the_consumer() -> None:
    lock = threading.Lock()
    started: list[int] = []

    def work(n: int) -> int:
        with lock:
            started.append(n)
        return n

    pulled = 0

    def items() -> object:
        nonlocal pulled
        for n in range(100):
            pulled += 1
            yield n

    with ThreadPoolExecutor(2) as pool:
        results = ordered_map(pool, work, items(), ahead=3)  # type: ignore[arg-type]
        assert next(results) == 0
        time.sleep(0.05)
        assert pulled <= 4 and len(started) <= 4  # the one handed out, and at most 3 ahead
        assert next(results) == 1 and pulled <= 5


def test_an_error_is_raised_where_its_result_would_be_and_closing_cancels_the_rest() -> None:
    gate = threading.Event()
    ran: list[int] = []

    def work(n: int) -> int:
        if n == 1:
            raise ValueError("item 1")
        gate.wait(5)
        ran.append(n)
        return n

    with ThreadPoolExecutor(1) as pool:
        results = ordered_map(pool, work, range(50), ahead=5)
        gate.set()
        assert next(results) == 0
        with pytest.raises(ValueError, match="item 1"):
            next(results)
        results.close()
    assert len(ran) <= 6  # item 0 and what was already submitted; the other 40-odd never ran
