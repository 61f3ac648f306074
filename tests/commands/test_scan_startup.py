"""What ``cloudwatchdog scan`` loads, run as a user runs it (issue 13: start-up with an empty account <= 1 s). The
AWS scan runs on botocore alone: boto3, and the s3transfer it imports (about 30 ms of every start-up, more on a
slow machine), are only the test and demo harness's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer


def _imported(stderr: str) -> set[str]:
    """The modules ``-X importtime`` reports (its lines end with ``| <indented module name>``)."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_scan_of_an_empty_account_loads_botocore_and_no_boto3(moto: MotoServer, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"state:\n  url: sqlite:///{tmp_path}/state.db\nproviders:\n  aws:\n"
                      f"    endpoint_url: {moto.endpoint}\n    credential: emulator\n  gcp:\n    enabled: false\n"
                      f"  azure:\n    enabled: false\nreports:\n  output_dir: {tmp_path}/out\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cloudwatchdog", "scan", "-c", str(config),
                           "--no-progress", "--format", "json"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: the empty account's own findings
    (report,) = (tmp_path / "out").glob("cloudwatchdog-scan-*.json")
    coverage = json.loads(report.read_text(encoding="utf-8"))["scan"]["coverage"]
    assert [(c["account"], c["status"]) for c in coverage] == [(DEFAULT_ACCOUNT, "ok")], coverage
    imported = _imported(done.stderr)
    assert {"botocore.session", "botocore.client"} <= imported, "the scan reached the account through botocore"
    assert sorted(m for m in imported if m.split(".")[0] in ("boto3", "s3transfer")) == []
