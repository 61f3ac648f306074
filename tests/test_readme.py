"""The README's first two commands are a contract: the demo command and the test command, the latter run
verbatim by .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_starts_with_demo_then_test_command() -> None:
    demo, tests = _readme_commands()[:2]
    assert demo.startswith("python3 -m venv .venv") and demo.endswith("cloudwatchdog demo")
    assert tests.startswith("scripts/install-test-deps && python3 -m venv .venv") and "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    tests = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci, f".ci/run must contain the README's test command as a line: {tests}"
