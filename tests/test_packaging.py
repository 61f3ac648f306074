"""The wheel carries what the package reads at run time besides its modules: the built-in rules, the report and
alert templates, and the demo estate (built with hatchling, the project's build backend)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).parents[1]


def _relative(directory: Path, pattern: str) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.glob(pattern) if p.is_file()}


def test_the_wheel_carries_rules_templates_and_the_demo_estate(tmp_path: Path) -> None:
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())

    estate = _relative(ROOT / "cloudwatchdog" / "demo" / "estate", "*.yaml")
    assert {"aws.yaml", "gcp.yaml", "azure.yaml", "history.yaml"} <= estate
    assert {f"cloudwatchdog/demo/estate/{name}" for name in estate} <= names
    rules = _relative(ROOT / "rules", "**/*.yaml")
    assert rules and {f"cloudwatchdog/_builtin_rules/{name}" for name in rules} <= names
    reports = _relative(ROOT / "reports", "**/*")
    assert reports and {f"cloudwatchdog/_reports/{name}" for name in reports} <= names
