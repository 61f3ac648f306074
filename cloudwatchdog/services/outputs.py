"""Writing scans and reports in the requested formats (``render.registry.FORMATS``), to files or stdout."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cloudwatchdog.errors import UsageError
from cloudwatchdog.model import ScanResult
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.report_model import ReportData

SCAN_PREFIX = "cloudwatchdog-scan-"
REPORT_PREFIX = "cloudwatchdog-report-"


def parse_formats(value: str, what: str = "format", available: Sequence[str] | None = None) -> list[str]:
    """``--format a,b``: known names (``available``, else the registered output formats), each once, in order."""
    known = list(available) if available is not None else list(FORMATS.names())
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in known]
    if unknown or not formats:
        raise UsageError(f"--format: unknown {what} {', '.join(unknown) or '(none)'}; available: {', '.join(known)}")
    return list(dict.fromkeys(formats))


def output_path(directory: Path, stem: str, ext: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{stem}.{ext}"


def check_output_dir(output: str) -> None:
    """Fail before the work, not after it, when the output directory cannot be made."""
    if output == "-":
        return
    try:
        Path(output).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot create the directory: {exc.strerror or exc}") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise UsageError(f"--output {output}: the directory is not writable")


def _write(formats: Sequence[str], output: str, stem: str, write: Callable[[str, TextIO], None]) -> list[Path]:
    """Each format written as it is produced (a format that streams never holds its whole text)."""
    if output == "-":
        write(formats[0], sys.stdout)
        sys.stdout.flush()
        return []
    written = []
    for name in formats:
        try:
            path = output_path(Path(output), stem, FORMATS.get(name).extension)
            with path.open("w", encoding="utf-8") as out:
                write(name, out)
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        written.append(path)
    return written


def write_scan(result: ScanResult, formats: Sequence[str], output: str) -> list[Path]:
    """The scan in each format, into ``output`` (``-``: the first format to stdout)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return _write(formats, output, f"{SCAN_PREFIX}{stamp}",
                  lambda name, out: FORMATS.get(name).write_scan(result, out))


def write_report(data: ReportData, formats: Sequence[str], output: str, stem: str) -> list[Path]:
    """The report in each format, into ``output`` as ``<stem>.<ext>`` (``-``: the first format to stdout)."""
    return _write(formats, output, stem, lambda name, out: FORMATS.get(name).write_report(data, out))


def write_atomically(path: Path, text: str | Callable[[TextIO], None]) -> None:
    """Replace ``path`` in one step, so a reader never sees a half-written file. ``text``: the text, or what writes
    it to a file as it is produced (a format that streams never holds its whole text)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            if isinstance(text, str):
                out.write(text)
            else:
                text(out)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
