"""Opening the state store the way every command and the daemon do."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config

if TYPE_CHECKING:
    from cloudwatchdog.state.store import Store


def open_store(cfg: Config, url: str | None, *, create: bool = True) -> Store:
    """The state store: ``url`` (from the command line, a relative SQLite path taken from the current directory)
    or ``state.url`` (relative to the config file). Raises StateError (exit 2) naming ``state.url``."""
    from cloudwatchdog.state.store import Store

    if url is not None:
        return Store.open(url, base_dir=Path.cwd(), create=create)
    return Store.open(cfg.state.url, base_dir=cfg.source_dir, create=create)
