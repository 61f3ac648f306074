"""Output formats by name: one line each. A new format is one module and one line here."""

from __future__ import annotations

from collections.abc import Callable

from cloudwatchdog.render.json import render_json
from cloudwatchdog.scan import ScanResult

Renderer = Callable[[ScanResult], str]

FORMATS: dict[str, tuple[Renderer, str]] = {
    "json": (render_json, "json"),
}
