"""Errors every layer may raise for the user to read: one line, exit code 2 (``exitcodes.EXIT_USAGE``)."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake in how a command was called (an option, a path, an output that cannot be written)."""
