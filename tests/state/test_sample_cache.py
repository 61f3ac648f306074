"""Data sampling's results per object version in the store: kept and found again, and only a cache: a store that
cannot be read or written costs a re-read, never the scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cloudwatchdog.state.sample_cache import StoreResultCache
from cloudwatchdog.state.store import Store


def test_results_are_kept_and_found_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store.open(url) as store:
        cache = StoreResultCache(store)
        cache.put("k1", {"key": "a.csv", "read": True, "counts": {"email": 3}, "examples": {"email": ["a***@b***"]}})
        assert cache.flush() == 1 and cache.flush() == 0
    with Store.open(url) as store:
        assert StoreResultCache(store).get("k1") == {"key": "a.csv", "read": True, "counts": {"email": 3},
                                                     "examples": {"email": ["a***@b***"]}}
        assert StoreResultCache(store).get("other") is None


def test_an_unusable_store_only_costs_a_re_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        with store.engine.begin() as conn:
            conn.execute(text("DROP TABLE object_samples"))
        cache = StoreResultCache(store)
        with caplog.at_level("WARNING", logger="cloudwatchdog.state.sample_cache"):
            assert cache.get("k1") is None
            cache.put("k1", {"key": "a.csv", "read": False, "counts": {}, "examples": {}})
            assert cache.flush() == 0
        assert "read again" in caplog.text and "were not kept" in caplog.text
