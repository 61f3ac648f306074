"""Writing to a terminal: text from a cloud is shown as visible, escaped text (never markup, never control
sequences), counts read as English, severities and states have one style each."""

from __future__ import annotations

from rich.markup import escape

from cloudwatchdog.text import visible

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}
STATE_STYLE = {"new": "bold magenta", "reopened": "bold magenta", "open": "default", "suppressed": "dim",
               "resolved": "green"}


def safe(text: object) -> str:
    """``text`` for a rich markup string: control characters made visible, markup escaped."""
    return escape(visible(str(text)))


def plain(text: object) -> str:
    """``text`` for plain ``print``: control characters made visible."""
    return visible(str(text))


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 finding``, ``2 findings``, ``1 policy``, ``3 policies``."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"


def severity(value: str) -> str:
    return f"[{SEVERITY_STYLE.get(value, 'default')}]{value}[/]"


def state(value: str) -> str:
    return f"[{STATE_STYLE.get(value, 'default')}]{value}[/]"
