"""Raw snapshot files: ``scan --save-raw`` writes the provider answers behind a scan, ``scan --from-raw`` replays
them offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cloudwatchdog.errors import UsageError
from cloudwatchdog.model import ScanResult, Snapshot

RAW_FORMAT = "cloudwatchdog-raw-snapshots"


def check_raw_target(path: str) -> None:
    """Fail before the scan, not after it, when --save-raw cannot be written."""
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir() or not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--save-raw {path}: cannot write a file there")


def load_raw(path: str) -> list[Snapshot]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise UsageError(f"--from-raw {path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not JSON: line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise UsageError(f"--from-raw {path}: nested too deeply to be a file written by --save-raw") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise UsageError(f"--from-raw {path}: not a file written by --save-raw: {str(exc)[:200]}") from None
    if not (isinstance(doc, dict) and doc.get("format") == RAW_FORMAT and isinstance(doc.get("snapshots"), list)
            and all(isinstance(s, dict) for s in doc["snapshots"])):
        raise UsageError(f"--from-raw {path}: not a file written by `cloudwatchdog scan --save-raw`")
    snapshots: list[Snapshot] = doc["snapshots"]
    return snapshots


def save_raw(result: ScanResult, path: str) -> None:
    doc = {"format": RAW_FORMAT, "scan_id": result.id, "started_at": result.started_at,
           "snapshots": list(result.raw)}
    try:
        with Path(path).open("w", encoding="utf-8") as out:  # streamed: never one string
            json.dump(doc, out, indent=1)
            out.write("\n")
    except OSError as exc:
        raise UsageError(f"--save-raw {path}: cannot write: {exc.strerror or exc}") from None
