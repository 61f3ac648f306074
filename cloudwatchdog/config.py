"""Typed, validated configuration. Every problem is reported with the file, line and key path."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from cloudwatchdog.settings.alerts import AlertsConfig
from cloudwatchdog.settings.azure import AzureProvider
from cloudwatchdog.settings.base import StrictModel, check_http_url
from cloudwatchdog.settings.daemon import DaemonConfig
from cloudwatchdog.settings.gcp import GcpProvider
from cloudwatchdog.settings.notifications import NotificationTargets
from cloudwatchdog.settings.schedules import Schedules
from cloudwatchdog.settings.state import StateConfig, SuppressionConfig
from cloudwatchdog.yamlsource import (
    SourceError,
    SourceErrors,
    YamlDocument,
    load_yaml_file,
    validation_errors,
)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


_Strict = StrictModel


class AwsAccount(_Strict):
    id: Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit AWS account id")]
    name: str | None = None
    profile: str | None = None
    role_arn: Annotated[str | None, Field(pattern=r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+$")] = None
    external_id: str | None = None

    @model_validator(mode="after")
    def _one_credential_source(self) -> AwsAccount:
        if self.profile and self.role_arn:
            raise ValueError("give either profile or role_arn, not both (role_arn is assumed from the default chain)")
        return self


class AwsOrganization(_Strict):
    role_name: str = "CloudWatchdogAudit"
    external_id: str | None = None
    profile: str | None = None  # credentials of the management (or delegated administrator) account
    exclude: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = []


class AwsProvider(_Strict):
    enabled: bool = True
    endpoint_url: str | None = None
    regions: list[str] | Literal["all"] = ["us-east-1"]
    accounts: list[AwsAccount] = []
    organization: AwsOrganization | None = None
    # Organizations whose members are not "external": a policy limited to aws:PrincipalOrgID of one of these is
    # private. The organization discovered through `organization:` is trusted automatically.
    trusted_organizations: list[Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$")]] = []
    max_workers: Annotated[int, Field(ge=1, le=64)] = 8
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    object_acl_sample: Annotated[int, Field(ge=0, le=1000)] = 10
    # Also read how EBS snapshots, AMIs and RDS (cluster) snapshots are shared, in every region of `regions`.
    sharing: bool = True

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_http_url(v)

    def effective_endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None


class Providers(_Strict):
    aws: AwsProvider | None = None
    gcp: GcpProvider | None = None
    azure: AzureProvider | None = None


class RulesConfig(_Strict):
    paths: list[str] = []
    disable: list[str] = []


class ReportsConfig(_Strict):
    output_dir: str = "./out"


class Config(_Strict):
    state: StateConfig = StateConfig()
    providers: Providers = Providers()
    rules: RulesConfig = RulesConfig()
    reports: ReportsConfig = ReportsConfig()
    suppressions: list[SuppressionConfig] = []
    notifications: NotificationTargets = []
    schedules: Schedules = Schedules()
    daemon: DaemonConfig = DaemonConfig()
    alerts: AlertsConfig = AlertsConfig()

    # Where the config came from, to resolve relative paths; not a key in the file.
    source_dir: Path = Field(default=Path("."), exclude=True)
    _document: YamlDocument | None = PrivateAttr(default=None)

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.source_dir / p

    def error(self, path: tuple[str | int, ...], message: str) -> SourceError:
        """A problem found after loading (e.g. an unknown rule id), located in the file when there is one."""
        if self._document is not None:
            return self._document.error(path, message)
        return SourceError("<config>", None, ".".join(str(p) for p in path), message)


def _expand_env(value: Any, path: tuple[str | int, ...], doc: YamlDocument, errors: list[SourceError]) -> Any:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                errors.append(doc.error(path, f"environment variable {name} is not set"))
                return ""
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, (*path, k), doc, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*path, i), doc, errors) for i, v in enumerate(value)]
    return value


def parse_config(doc: YamlDocument, source_dir: Path) -> Config:
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise SourceErrors([doc.error((), "the config must be a mapping of keys")])
    errors: list[SourceError] = []
    data = _expand_env(data, (), doc, errors)
    if errors:
        raise SourceErrors(errors)
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise SourceErrors(validation_errors(exc, doc)) from None
    cfg = cfg.model_copy(update={"source_dir": source_dir})
    cfg._document = doc
    return cfg


def load_config(path: str | Path | None) -> Config:
    """Load ``path``; ``None`` means the defaults (AWS default credential chain, us-east-1)."""
    if path is None:
        return Config(providers=Providers(aws=AwsProvider()))
    doc = load_yaml_file(path)
    return parse_config(doc, Path(path).resolve().parent)
