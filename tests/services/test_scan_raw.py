"""Raw answers are kept only when asked for (``--save-raw``): otherwise they are let go once analysed, and the scan
is the same."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.config import Config
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.raw import RawFile, load_raw, save_raw, stream_raw
from cloudwatchdog.services.scan import run_scan

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from scale import write_raw  # the generated estate of bench/scale.py


def test_raw_answers_are_let_go_after_analysis_unless_kept(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    write_raw(path, 60)
    snapshots = load_raw(str(path))
    rules = load_rules()
    kept = run_scan(Config(), rules, replay=copy.deepcopy(snapshots))
    replay = copy.deepcopy(snapshots)
    dropped = run_scan(Config(), rules, replay=replay, keep_raw=False)

    assert kept.raw == tuple(snapshots) and dropped.raw == () and replay == []
    assert [r.to_dict() for r in dropped.resources] == [r.to_dict() for r in kept.resources]
    assert [f.to_dict() for f in dropped.findings] == [f.to_dict() for f in kept.findings]
    assert len(kept.findings) >= 3  # one bucket in 20 is public: something to compare


def test_saved_raw_file_is_the_same_document_written_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    write_raw(path, 5)
    result = run_scan(Config(), load_rules(), replay=load_raw(str(path)))
    save_raw(result, str(tmp_path / "saved.json"))
    text = (tmp_path / "saved.json").read_text()
    doc = {"format": "cloudwatchdog-raw-snapshots", "scan_id": result.id, "started_at": result.started_at,
           "snapshots": list(result.raw)}
    assert json.loads(text) == doc
    assert load_raw(str(tmp_path / "saved.json")) == list(stream_raw(str(tmp_path / "saved.json"))) == list(result.raw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.json", "saved.json"]  # no temporary file left
    mask = os.umask(0o027)
    try:
        save_raw(result, str(tmp_path / "masked.json"))
    finally:
        os.umask(mask)
    assert (tmp_path / "masked.json").stat().st_mode & 0o777 == 0o640  # as any file the command writes


def test_save_raw_writes_each_account_as_it_is_analysed_without_holding_the_raw(tmp_path: Path) -> None:
    """``--save-raw`` streams: an account's answers are in the file before the next account is read, the scan
    holds none of them (``ScanResult.raw`` is empty), and the file replays to the same scan."""
    snapshots = _accounts(tmp_path, 3)
    events: list[str] = []

    def source() -> Iterator[dict[str, Any]]:
        for s in copy.deepcopy(snapshots):
            events.append(f"read {s['account']}")
            yield s

    saved = tmp_path / "saved.json"
    raw = RawFile(str(saved))

    def sink(snapshot: dict[str, Any]) -> None:
        raw.write(snapshot)
        events.append(f"written {snapshot['account']}")

    result = run_scan(Config(), load_rules(), replay=source(), keep_raw=False, raw_sink=sink)
    assert not saved.exists()  # in place only when finished
    assert raw.finish(result.id, result.started_at) is None
    accounts = [s["account"] for s in snapshots]
    assert events == [e for a in accounts for e in (f"read {a}", f"written {a}")]
    assert result.raw == ()
    assert load_raw(str(saved)) == snapshots
    replayed = run_scan(Config(), load_rules(), replay=load_raw(str(saved)))
    assert [r.to_dict() for r in replayed.resources] == [r.to_dict() for r in result.resources]
    assert [f.to_dict() for f in replayed.findings] == [f.to_dict() for f in result.findings]


def _accounts(tmp_path: Path, n: int) -> list[dict[str, Any]]:
    """bench/scale.py's generated account, as ``n`` accounts of 60 buckets, saved as raw.json."""
    write_raw(tmp_path / "raw.json", 60)
    (one,) = load_raw(str(tmp_path / "raw.json"))
    snapshots = [dict(copy.deepcopy(one), account=str(int(one["account"]) + k)) for k in range(n)]
    (tmp_path / "raw.json").write_text(json.dumps({"format": "cloudwatchdog-raw-snapshots", "snapshots": snapshots}))
    return snapshots


_FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from cloudwatchdog.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_raw_file_that_cannot_be_written_to_the_end_leaves_nothing_half_written(tmp_path: Path) -> None:
    """A real write failure (the process may write no file larger than 20 kB: EFBIG, as a full disk gives ENOSPC)
    while --save-raw streams: the scan goes on and its JSON document (on stdout, a pipe) is complete; the command
    then fails with exit 2 naming --save-raw; no file is left under the name, an earlier one stays as it was."""
    _accounts(tmp_path, 4)
    path = tmp_path / "raw.json"
    saved = tmp_path / "saved.json"
    saved.write_text("an earlier file")
    done = subprocess.run([sys.executable, "-c", _FULL_DISK, "20000", "scan", "--from-raw", str(path), "--no-state",
                           "--format", "json", "--output", "-", "--save-raw", str(saved)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert path.stat().st_size > 20000  # the whole raw would not fit
    assert done.returncode == 2, done.stderr
    assert "--save-raw" in done.stderr and "cannot write" in done.stderr and "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert len(document["resources"]) == len(run_scan(Config(), load_rules(), replay=load_raw(str(path))).resources)
    assert saved.read_text() == "an earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.json", "saved.json"]


def test_a_scan_that_fails_closes_its_source(tmp_path: Path) -> None:
    """When the analysis (or the raw file) raises, the collectors' stream is closed at once: its pools stop and
    the reads queued ahead are cancelled, not left suspended with the exception."""
    snapshots = _accounts(tmp_path, 3)
    closed: list[bool] = []

    def source() -> Iterator[dict[str, Any]]:
        try:
            yield from copy.deepcopy(snapshots)
        finally:
            closed.append(True)

    def failing(snapshot: dict[str, Any]) -> None:
        raise OSError("the disk went away")

    with pytest.raises(OSError) as raised:
        run_scan(Config(), load_rules(), replay=source(), keep_raw=False, raw_sink=failing)
    # (``raised`` holds the traceback, and with it run_scan's frame: the stream is closed, not merely collected)
    assert raised.traceback and closed == [True]


def test_a_scan_terminated_while_it_writes_its_raw_file_leaves_no_part_of_it(tmp_path: Path) -> None:
    """SIGTERM (a timeout, a job deadline) during `scan --save-raw`: the scan stops as on Ctrl-C, the part of the
    raw file written so far is removed, the command says so in one line and exits 130."""
    _accounts(tmp_path, 400)  # some seconds of analysis: the signal comes in the middle of it
    saved = tmp_path / "saved.json"
    proc = subprocess.Popen([sys.executable, "-m", "cloudwatchdog", "scan", "--from-raw", str(tmp_path / "raw.json"),
                             "--no-state", "--format", "json", "--output", str(tmp_path / "out"), "--no-progress",
                             "--save-raw", str(saved)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".part") and p.stat().st_size > 10_000 for p in tmp_path.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, "the raw file was never being written"
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw.json"]  # neither the file nor a part of it
    assert list((tmp_path / "out").iterdir()) == []  # and no output of an unfinished scan


def test_plan_trust_names_what_a_single_process_would_scan() -> None:
    """A unit's planned trust: its projects (ids and numbers) and domains, not a project the settings exclude."""
    from cloudwatchdog.providers.gcp.units import plan_trust

    settings = {"projects": [{"id": "velora-prod", "number": "111"}, {"id": "velora-old", "number": "222"},
                             {"id": "velora-ml"}, "not a project"],
                "exclude_projects": ["velora-old"], "organization_domains": ["velora.example", 7]}
    assert plan_trust(settings) == {"domains": {"velora.example"}, "projects": {"velora-prod", "velora-ml"},
                                    "project_numbers": {"111"}}
