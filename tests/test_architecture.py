"""The architecture, enforced: the import contracts in pyproject.toml (import-linter), every registry entry
resolves to an implementation of its protocol, modules stay short, the core names no cloud, and nothing is done
at import time."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cloudwatchdog.alerts.registry import NOTIFIERS
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.registry import Registry, UnknownPlugin
from cloudwatchdog.render.registry import FORMATS

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "cloudwatchdog"
REGISTRIES: list[Registry[object]] = [PROVIDERS, NOTIFIERS, FORMATS]  # type: ignore[list-item]
MAX_LINES = 500


def test_import_contracts_hold() -> None:
    proc = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BROKEN" not in proc.stdout and proc.stdout.count("KEPT") >= 4


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.kind)
def test_every_registry_entry_resolves_to_its_protocol(registry: Registry[object]) -> None:
    assert len(registry) > 0
    for name, plugin in registry.items():
        assert isinstance(plugin, registry.protocol), name
        # The name a plugin is registered under is the name it answers to.
        own = getattr(plugin, "name", getattr(plugin, "type", None))
        assert own == name, f"{registry.kind} {name} calls itself {own}"
    with pytest.raises(UnknownPlugin, match="available: "):
        registry.get("no-such-plugin")


def test_provider_settings_are_the_config_sections() -> None:
    from cloudwatchdog.config import Providers

    assert list(Providers.model_fields) == PROVIDERS.names()
    for name, provider in PROVIDERS.items():
        assert Providers.model_fields[name].annotation == (provider.settings | None)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_no_module_is_too_long_to_read_in_one_sitting() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


_CLOUD_WORDS = re.compile(r"\b(aws|gcp|azure|s3|gcs|boto3|botocore|google|moto)\b", re.IGNORECASE)
# A string that is a provider or resource type name, or an ARN or Google resource name.
_CLOUD_VALUE = re.compile(r"^(aws|gcp|azure)(\.[a-z_.]+)?$|^arn:aws|^//storage\.googleapis")
# Modules of the core that may name a cloud: none. (Providers, the demo and its emulators are the clouds' own.)
_CLOUD_PLACES = ("providers", "demo", "emulators")


def _code_names(path: Path) -> set[str]:
    """Identifiers, attribute names and imported module names in ``path`` (not strings, comments or
    docstrings: the core may say "an AWS account" to people, it may not branch on one)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _CLOUD_VALUE.match(node.value):
            names.add(node.value)  # `provider == "aws"`, `{"gcp": ...}`: branching on a cloud
    return names


def test_the_core_names_no_cloud() -> None:
    offenders = {}
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in _CLOUD_PLACES:
            continue
        hits = {n for n in _code_names(path) if _CLOUD_WORDS.search(n)}
        if hits:
            offenders[str(rel)] = sorted(hits)
    assert offenders == {}


def test_no_side_channels() -> None:
    """No code sets process environment variables, nor reaches for a ContextVar, nor configures logging outside
    logs.py."""
    problems = []
    for path in _modules():
        text = path.read_text()
        rel = str(path.relative_to(ROOT))
        if re.search(r"os\.environ\[[^]]+\]\s*=|os\.environ\.(setdefault|update|pop)\(|os\.putenv\(", text):
            problems.append(f"{rel}: sets the process environment")
        if "ContextVar" in text:
            problems.append(f"{rel}: ContextVar")
        if path.name != "logs.py" and re.search(r"logging\.basicConfig|\.addHandler\(", text):
            problems.append(f"{rel}: configures logging")
    assert problems == []


def test_importing_the_package_touches_no_cloud_sdk_and_creates_nothing() -> None:
    """Loading the CLI, the config and every registry entry imports no SDK, database or network library."""
    code = (
        "import sys\n"
        "from cloudwatchdog import cli, config\n"
        "from cloudwatchdog.providers.registry import PROVIDERS\n"
        "from cloudwatchdog.alerts.registry import NOTIFIERS\n"
        "from cloudwatchdog.render.registry import FORMATS\n"
        "cli._parser(); config.load_config(None)\n"
        "for r in (PROVIDERS, NOTIFIERS, FORMATS): list(r.items())\n"
        "heavy = ('boto3', 'botocore', 'google.cloud', 'azure', 'sqlalchemy', 'httpx', 'apscheduler')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
