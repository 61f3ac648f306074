"""`providers.gcp` config: valid sections parse to what the collector uses; every mistake names file, line and key
and says how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.providers.gcp.settings import GcpProvider
from cloudwatchdog.yamlsource import SourceErrors


def _load(tmp_path: Path, section: str) -> GcpProvider:
    p = tmp_path / "config.yaml"
    p.write_text("providers:\n  gcp:\n" + section)
    gcp = load_config(p).providers.gcp
    assert gcp is not None
    return gcp


def _errors(tmp_path: Path, section: str) -> list[str]:
    p = tmp_path / "config.yaml"
    p.write_text("providers:\n  gcp:\n" + section)
    with pytest.raises(SourceErrors) as exc:
        load_config(p)
    return [str(e).removeprefix(f"{p}:") for e in exc.value.errors]


def test_full_section(tmp_path: Path) -> None:
    gcp = _load(tmp_path, """\
    credential: service_account_file
    key_file: ~/keys/scanner.json
    projects:
      - velora-prod-7421
      - {id: velora-analytics-3317, name: Analytics}
    organization: 123456789012
    folders: [folders/445566, "778899"]
    exclude_projects: [velora-sandbox-0001]
    organization_domains: [Velora.example, "@velora-group.example"]
    object_acl_sample: 0
    max_workers: 16
""")
    assert [p.id for p in gcp.projects] == ["velora-prod-7421", "velora-analytics-3317"]
    assert gcp.projects[1].name == "Analytics"
    assert gcp.organization == "organizations/123456789012"
    assert gcp.folders == ["folders/445566", "folders/778899"]
    assert gcp.organization_domains == ["velora.example", "velora-group.example"]
    assert gcp.discovers and gcp.project_iam and gcp.object_acl_sample == 0
    key = gcp.key_path()
    assert key is not None and key.is_absolute() and key.name == "scanner.json"


def test_defaults_discover_every_visible_project(tmp_path: Path) -> None:
    gcp = _load(tmp_path, "    enabled: true\n")
    assert gcp.credential == "default" and gcp.projects == [] and gcp.discovers


def test_explicit_projects_only_do_not_discover(tmp_path: Path) -> None:
    assert not _load(tmp_path, "    projects: [velora-prod-7421]\n").discovers


def test_anonymous_needs_an_emulator(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "    credential: anonymous\n    projects: [velora-prod-7421]\n    project_iam: false\n")
    assert len(errors) == 1
    assert errors[0].startswith("2: providers.gcp: ")
    assert "only works against an emulator: set endpoint_url" in errors[0] and "STORAGE_EMULATOR_HOST" in errors[0]
    assert "Value error" not in errors[0]


def test_anonymous_with_storage_emulator_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:9023")
    gcp = _load(tmp_path, "    credential: anonymous\n    projects: [velora-prod-7421]\n    project_iam: false\n")
    assert gcp.effective_endpoint() == "http://127.0.0.1:9023"


@pytest.mark.parametrize(("section", "words"), [
    ("    credential: anonymous\n    endpoint_url: http://127.0.0.1:9023\n    project_iam: false\n",
     "cannot discover projects"),
    ("    credential: anonymous\n    endpoint_url: http://127.0.0.1:9023\n    projects: [velora-prod-7421]\n",
     "set project_iam: false"),
    ("    credential: service_account_file\n", "needs key_file"),
    ("    key_file: key.json\n", "only used with credential: service_account_file"),
    ("    projects: [velora-prod-7421, velora-prod-7421]\n", "lists velora-prod-7421 more than once"),
])
def test_inconsistent_settings(tmp_path: Path, section: str, words: str) -> None:
    errors = _errors(tmp_path, section)
    assert len(errors) == 1 and words in errors[0], errors


@pytest.mark.parametrize(("section", "where", "words"), [
    ("    projects: [Velora Production]\n", "3: providers.gcp.projects[0]: 'Velora Production' is not a project id",
     "the id, not the display name"),
    ("    projects:\n      - {id: velora-prod-7421, region: eu}\n", "4: providers.gcp.projects[0].region",
     "unknown key"),
    ("    projects:\n      - {id: velora-prod-7421, number: 7e4}\n", "4: providers.gcp.projects[0].number",
     "not a project number"),
    ("    organization: acme.example\n", "3: providers.gcp.organization", "numeric organization id"),
    ("    folders: [engineering]\n", "3: providers.gcp.folders", "numeric folder id"),
    ("    organization_domains: [not a domain]\n", "3: providers.gcp.organization_domains", "not a domain name"),
    ("    credential: password\n", "3: providers.gcp.credential", "'default', 'service_account_file'"),
    ("    endpoint_url: localhost:9023\n", "3: providers.gcp.endpoint_url", "http(s) URL"),
    ("    max_workers: 0\n", "3: providers.gcp.max_workers", "greater than or equal to 1"),
    ("    projets: [velora-prod-7421]\n", "3: providers.gcp.projets", "unknown key"),
])
def test_bad_values_are_located(tmp_path: Path, section: str, where: str, words: str) -> None:
    errors = _errors(tmp_path, section)
    assert len(errors) == 1, errors
    assert errors[0].startswith(where) and words in errors[0], errors
    assert "Value error" not in errors[0]
