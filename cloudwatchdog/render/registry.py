"""Output formats by name (``scan --format``, ``report --format``): one line each. A new format is one module
ending with its ``FORMAT`` (``render.formats.Format``) and one line here."""

from __future__ import annotations

from cloudwatchdog.registry import Registry
from cloudwatchdog.render.formats import OutputFormat

FORMATS: Registry[OutputFormat] = Registry("output format", OutputFormat, {
    "json": "cloudwatchdog.render.json:FORMAT",
    "html": "cloudwatchdog.render.html:FORMAT",
    "csv": "cloudwatchdog.render.csv:FORMAT",
    "sarif": "cloudwatchdog.render.sarif:FORMAT",
    "ocsf": "cloudwatchdog.render.ocsf:FORMAT",
})
