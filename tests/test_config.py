"""Config loading: valid files parse; every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.yamlsource import SourceErrors


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def _errors(path: Path) -> list[str]:
    with pytest.raises(SourceErrors) as exc:
        load_config(path)
    return [str(e) for e in exc.value.errors]


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    # The example's secrets are ${ENV} references: set them, as a deployment would.
    for name in ("SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "SIEM_WEBHOOK_URL"):
        monkeypatch.setenv(name, f"https://hooks.example.com/{name.lower()}")
    for name in ("SMTP_PASSWORD", "PAGERDUTY_ROUTING_KEY", "HOOK_SECRET"):
        monkeypatch.setenv(name, f"secret-{name.lower()}")
    cfg = load_config(Path(__file__).parents[1] / "config.example.yaml")
    assert cfg.providers.aws is not None
    assert cfg.providers.aws.accounts, "the example documents explicit accounts"
    assert cfg.providers.gcp is not None and cfg.providers.gcp.projects
    assert cfg.providers.azure is not None and cfg.providers.azure.subscriptions
    assert {t.type for t in cfg.notifications} == {"slack", "teams", "email", "pagerduty", "webhook"}
    assert len(cfg.suppressions) == 2


def test_full_config(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, """
providers:
  aws:
    endpoint_url: http://127.0.0.1:5000
    regions: [us-east-1, eu-west-1]
    accounts:
      - {id: "123456789012", name: prod}
      - {id: "210987654321", role_arn: "arn:aws:iam::210987654321:role/Audit", external_id: x}
    organization: {role_name: Audit}
rules: {paths: [my-rules], disable: [aws-s3-bucket-latent-public]}
"""))
    aws = cfg.providers.aws
    assert aws is not None and aws.regions == ["us-east-1", "eu-west-1"]
    assert [a.id for a in aws.accounts] == ["123456789012", "210987654321"]
    assert aws.organization is not None and aws.organization.role_name == "Audit"
    assert cfg.resolve("my-rules") == tmp_path / "my-rules"


def test_unknown_key_names_file_line_and_path(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws:\n    regions: [us-east-1]\n    acounts: []\n")
    assert _errors(p) == [f"{p}:4: providers.aws.acounts: unknown key"]


def test_wrong_type_in_list_item(tmp_path: Path) -> None:
    p = _write(tmp_path, 'providers:\n  aws:\n    accounts:\n      - id: "123"\n        name: x\n')
    errs = _errors(p)
    assert len(errs) == 1
    assert errs[0].startswith(f"{p}:4: providers.aws.accounts[0].id: ")
    assert "pattern" in errs[0]


def test_missing_required_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws:\n    accounts:\n      - name: prod\n")
    assert _errors(p) == [f"{p}:4: providers.aws.accounts[0].id: required key is missing"]


def test_several_errors_reported_together(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws:\n    max_workers: 0\n    endpoint_url: ftp://x\nreport: {}\n")
    errs = _errors(p)
    assert len(errs) == 3
    assert any(e.startswith(f"{p}:3: providers.aws.max_workers:") for e in errs)
    assert any(e.startswith(f"{p}:4: providers.aws.endpoint_url:") for e in errs)
    assert f"{p}:5: report: unknown key" in errs


def test_duplicate_key_rejected(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws:\n    regions: [a]\n    regions: [b]\n")
    assert _errors(p) == [f"{p}:4: providers.aws.regions: duplicate key (first defined on line 3)"]


def test_invalid_yaml(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws: [unclosed\n")
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:") and "invalid YAML" in errs[0]


def test_env_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWD_TEST_ENDPOINT", "http://127.0.0.1:9")
    cfg = load_config(_write(tmp_path, "providers:\n  aws:\n    endpoint_url: ${CWD_TEST_ENDPOINT}\n"))
    assert cfg.providers.aws is not None and cfg.providers.aws.endpoint_url == "http://127.0.0.1:9"


def test_missing_env_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CWD_TEST_MISSING", raising=False)
    p = _write(tmp_path, "providers:\n  aws:\n    endpoint_url: ${CWD_TEST_MISSING}\n")
    assert _errors(p) == [f"{p}:3: providers.aws.endpoint_url: environment variable CWD_TEST_MISSING is not set"]


def test_missing_file(tmp_path: Path) -> None:
    errs = _errors(tmp_path / "nope.yaml")
    assert len(errs) == 1 and "cannot read file" in errs[0]


def test_not_a_mapping(tmp_path: Path) -> None:
    p = _write(tmp_path, "- a\n- b\n")
    assert _errors(p) == [f"{p}:1: the config must be a mapping of keys"]


def test_profile_and_role_arn_conflict(tmp_path: Path) -> None:
    p = _write(tmp_path, 'providers:\n  aws:\n    accounts:\n      - id: "123456789012"\n'
                         '        profile: p\n        role_arn: "arn:aws:iam::123456789012:role/r"\n')
    errs = _errors(p)
    assert len(errs) == 1 and errs[0].startswith(f"{p}:4: providers.aws.accounts[0]: ") and "not both" in errs[0]


def test_validator_messages_read_without_pydantic_prefix(tmp_path: Path) -> None:
    errors = _errors(_write(tmp_path, "providers:\n  azure: {credential: emulator, arm_endpoint: 'https://10.0.0.1'}\n"))
    assert len(errors) == 1 and "providers.azure.credential: credential: emulator" in errors[0]
    assert "Value error" not in errors[0]


def test_aws_emulator_credential_needs_a_loopback_endpoint(tmp_path: Path) -> None:
    ok = load_config(_write(tmp_path, "providers:\n  aws: {credential: emulator, endpoint_url: 'http://127.0.0.1:5000'}\n"))
    assert ok.providers.aws is not None and ok.providers.aws.credential == "emulator"
    for endpoint, shown in (("", "not set"), ("endpoint_url: 'https://s3.amazonaws.com', ", "https://s3.amazonaws.com"),
                            ("endpoint_url: 'http://10.0.0.5:5000', ", "http://10.0.0.5:5000")):
        p = _write(tmp_path, f"providers:\n  aws:\n    {{{endpoint}credential: emulator}}\n")
        errors = _errors(p)
        assert len(errors) == 1 and errors[0].startswith(f"{p}:3: providers.aws.credential: credential: emulator")
        assert "loopback" in errors[0] and shown in errors[0]


def test_aws_emulator_credential_reads_no_profile(tmp_path: Path) -> None:
    p = _write(tmp_path, "providers:\n  aws:\n    endpoint_url: http://127.0.0.1:5000\n    credential: emulator\n"
                         '    accounts:\n      - {id: "123456789012"}\n      - {id: "210987654321", profile: dev}\n'
                         "    organization: {profile: mgmt}\n")
    errors = _errors(p)
    assert errors == [
        f"{p}:5: providers.aws.accounts: accounts[1].profile is 'dev', but credential: emulator uses fixed test keys "
        "and reads no profile (remove the profile, or use credential: default)",
        f"{p}:8: providers.aws.organization: organization.profile is 'mgmt', but credential: emulator uses fixed test "
        "keys and reads no profile (remove the profile, or use credential: default)",
    ]
