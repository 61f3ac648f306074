"""Bounded-memory counting: a distinct counter that is exact up to a cap and a HyperLogLog estimate beyond it, and a
top-N tally that drops its rarest entries when it grows past a cap."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)


class Distinct:
    """Distinct strings: an exact set up to ``cap`` members, then a HyperLogLog (2**14 registers, ~1% error)."""

    _P = 14

    def __init__(self, cap: int = 100_000) -> None:
        self._cap = cap
        self._exact: set[str] | None = set()
        self._registers = bytearray()

    @property
    def exact(self) -> bool:
        return self._exact is not None

    def add(self, value: str) -> None:
        if self._exact is not None:
            self._exact.add(value)
            if len(self._exact) > self._cap:
                self._registers = bytearray(1 << self._P)
                for v in self._exact:
                    self._hll_add(v)
                self._exact = None
            return
        self._hll_add(value)

    def _hll_add(self, value: str) -> None:
        h = int.from_bytes(hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        index = h >> (64 - self._P)
        rest = h & ((1 << (64 - self._P)) - 1)
        rank = (64 - self._P) - rest.bit_length() + 1
        if rank > self._registers[index]:
            self._registers[index] = rank

    def __len__(self) -> int:
        if self._exact is not None:
            return len(self._exact)
        m = 1 << self._P
        estimate = (0.7213 / (1 + 1.079 / m)) * m * m / sum(2.0 ** -r for r in self._registers)
        zeros = self._registers.count(0)
        if estimate <= 2.5 * m and zeros:
            estimate = m * math.log(m / zeros)
        return round(estimate)


class Tally(Generic[_K]):
    """Requests and bytes per key; past ``cap`` keys the rarer half is dropped (the top of the ranking stays right
    unless the distribution is very flat; ``exact`` says whether anything was dropped)."""

    def __init__(self, cap: int = 50_000) -> None:
        self._cap = cap
        self.counts: dict[_K, list[int]] = {}
        self.exact = True

    def add(self, key: _K, nbytes: int) -> None:
        entry = self.counts.get(key)
        if entry is None:
            if len(self.counts) >= self._cap:
                self._prune()
            self.counts[key] = [1, nbytes]
        else:
            entry[0] += 1
            entry[1] += nbytes

    def _prune(self) -> None:
        keep = sorted(self.counts.items(), key=lambda kv: -kv[1][0])[: self._cap // 2]
        self.counts = dict(keep)
        self.exact = False

    def top(self, n: int) -> list[tuple[_K, int, int]]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1], str(kv[0])))[:n]
        return [(k, v[0], v[1]) for k, v in ranked]
