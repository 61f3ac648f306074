"""Raw answers are kept only when asked for (``--save-raw``): otherwise they are let go once analysed, and the scan
is the same."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from cloudwatchdog.config import Config
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.raw import load_raw, save_raw
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
    assert text == json.dumps(doc, indent=1) + "\n"
    assert load_raw(str(tmp_path / "saved.json")) == list(result.raw)
