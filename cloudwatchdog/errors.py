"""Errors every layer may raise for the user to read: one line, exit code 2 (``exitcodes.EXIT_USAGE``)."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake in how a command was called (an option, a path, an output that cannot be written)."""


class Terminated(BaseException):
    """SIGTERM, where a command stops as on Ctrl-C (``scan --save-raw``): exit 130 (``exitcodes.EXIT_INTERRUPTED``).
    Not a KeyboardInterrupt: CPython ends a process by SIGINT when a KeyboardInterrupt ever passed through code it
    runs from a string (a dataclass being made, say), even one caught later, and the exit code would be lost."""
