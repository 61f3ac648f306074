"""Collectors' streaming: a function over many items on a thread pool, the results handed out in the items' order
while only a bounded number of items is in flight or finished and waiting, so that a collector can yield each
account's snapshot as soon as it (and every account before it) is read, and the caller can let it go once
analysed: memory follows the pool, not the estate."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(pool: Executor, fn: Callable[[T], R], items: Iterable[T], *, ahead: int) -> Generator[R, None, None]:
    """``fn(item)`` for each item on ``pool``, yielded in the items' order. At most ``ahead`` items (at least one)
    are submitted and not yet handed out; ``items`` is read only as far as that. An exception of ``fn`` is raised
    where its result would be yielded. Closing the iterator early cancels what has not started."""
    window = max(1, ahead)
    source = iter(items)
    pending: deque[Future[R]] = deque()

    def refill() -> None:
        for item in source:
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                return

    try:
        refill()
        while pending:
            future = pending.popleft()
            refill()
            yield future.result()
    finally:
        for future in pending:
            future.cancel()


__all__ = ["ordered_map"]
