"""The store's one error type (no database import here, so the CLI can catch it cheaply)."""

from __future__ import annotations


class StateError(Exception):
    """The state store cannot be opened or used; the message names ``state.url`` (password masked)."""
