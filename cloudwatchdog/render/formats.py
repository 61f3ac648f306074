"""What an output format is: a name, a file extension, and a renderer for one scan and for a report from the state
store (the same findings feed both). Each format module ends with its ``FORMAT``; ``render/registry.py`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

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

    def write_scan(self, result: ScanResult, out: TextIO) -> None:
        """``render_scan`` written to ``out`` (a format may stream it: the whole text never held at once)."""

    def write_report(self, data: ReportData, out: TextIO) -> None:
        """``render_report`` written to ``out``."""


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    scan: Callable[[ScanResult], str]
    report: Callable[[ReportData], str]
    # Streaming writers (the same text, written piece by piece); None: the rendered string is written.
    scan_writer: Callable[[ScanResult, TextIO], None] | None = None
    report_writer: Callable[[ReportData, TextIO], None] | None = None

    def render_scan(self, result: ScanResult) -> str:
        return self.scan(result)

    def render_report(self, data: ReportData) -> str:
        return self.report(data)

    def write_scan(self, result: ScanResult, out: TextIO) -> None:
        if self.scan_writer is not None:
            self.scan_writer(result, out)
        else:
            out.write(self.scan(result))

    def write_report(self, data: ReportData, out: TextIO) -> None:
        if self.report_writer is not None:
            self.report_writer(data, out)
        else:
            out.write(self.report(data))
