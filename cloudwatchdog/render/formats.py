"""What an output format is: a name, a file extension, and a renderer for one scan and for a report from the state
store (the same findings feed both). Each format module ends with its ``FORMAT``; ``render/registry.py`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cloudwatchdog.model import ScanResult
from cloudwatchdog.report_model import ReportData


@runtime_checkable
class OutputFormat(Protocol):
    name: str  # as given to --format
    extension: str  # of the file written, without the dot

    def render_scan(self, result: ScanResult) -> str:
        """One scan (``scan --format``)."""

    def render_report(self, data: ReportData) -> str:
        """The report from the state store (``report --format``)."""


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    scan: Callable[[ScanResult], str]
    report: Callable[[ReportData], str]

    def render_scan(self, result: ScanResult) -> str:
        return self.scan(result)

    def render_report(self, data: ReportData) -> str:
        return self.report(data)
