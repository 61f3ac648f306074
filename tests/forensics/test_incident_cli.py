"""`cloudwatchdog incident` refuses a finding id it cannot resolve with one clear line and exit 2 (the README's
contract): a prefix two findings share, an id no finding has, text that is not an id."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from state.helpers import bucket, public_finding, scan

from cloudwatchdog.cli import main
from cloudwatchdog.exitcodes import EXIT_USAGE
from cloudwatchdog.state.store import Store


def _two_sharing_a_prefix() -> tuple[str, str, str]:
    """Two bucket names whose findings' ids share their first four hex digits, and that prefix."""
    seen: dict[str, str] = {}
    for i in itertools.count():
        name = f"b{i}"
        prefix = public_finding(bucket(name, account="123456789012")).id[:4]
        if prefix in seen:
            return seen[prefix], name, prefix
        seen[prefix] = name
    raise AssertionError("unreachable")


def test_an_ambiguous_prefix_an_unknown_id_and_garbage_are_usage_errors(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    first, second, prefix = _two_sharing_a_prefix()
    state = f"sqlite:///{tmp_path / 'state.db'}"
    when = datetime.now(UTC) - timedelta(days=1)
    resources = [bucket(n, account="123456789012") for n in (first, second)]
    with Store.open(state) as store:
        store.record_scan(scan(resources, [public_finding(r) for r in resources], when=when,
                               accounts=["123456789012"]), now=when)
    config = tmp_path / "config.yaml"
    config.write_text(f'state: {{url: "{state}"}}\n')
    for given, said in ((prefix, f"fingerprint prefix {prefix} is ambiguous"),
                        ("ffff0000ffff", "no finding with fingerprint ffff0000ffff"),
                        ("../etc/passwd", "is not a finding fingerprint")):
        assert main(["incident", given, "-c", str(config), "--format", "json", "--output", "-"]) == EXIT_USAGE
        captured = capsys.readouterr()
        assert said in captured.err and captured.out == "" and "Traceback" not in captured.err
