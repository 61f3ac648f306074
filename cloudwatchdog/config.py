"""Typed, validated configuration. Every problem is reported with the file, line and key path."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr, ValidationError, create_model

from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.settings.alerts import AlertsConfig
from cloudwatchdog.settings.base import ProviderSettings, StrictModel
from cloudwatchdog.settings.daemon import DaemonConfig
from cloudwatchdog.settings.data_sampling import DataSamplingConfig
from cloudwatchdog.settings.fleet import FleetConfig
from cloudwatchdog.settings.notifications import NotificationTargets
from cloudwatchdog.settings.schedules import Schedules
from cloudwatchdog.settings.state import StateConfig, SuppressionConfig
from cloudwatchdog.settings.verify import VerifyConfig
from cloudwatchdog.yamlsource import (
    SourceError,
    SourceErrors,
    YamlDocument,
    load_yaml_file,
    validation_errors,
)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


_Strict = StrictModel


class ProvidersBase(_Strict):
    """`providers:` one optional section per registered provider, each validated by the provider's own settings
    model (``Providers`` is built from the provider registry)."""

    def section(self, name: str) -> ProviderSettings | None:
        value = getattr(self, name, None)
        return value if isinstance(value, ProviderSettings) else None

    def enabled(self) -> dict[str, ProviderSettings]:
        """The configured and enabled sections, in registry order."""
        return {name: s for name in type(self).model_fields
                if (s := self.section(name)) is not None and s.enabled}


def _providers_model() -> type[ProvidersBase]:
    fields: dict[str, Any] = {name: (provider.settings | None, None) for name, provider in PROVIDERS.items()}
    return create_model("Providers", __base__=ProvidersBase, __module__=__name__, **fields)


if TYPE_CHECKING:
    Providers = ProvidersBase
else:
    Providers = _providers_model()


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
    data_sampling: DataSamplingConfig = DataSamplingConfig()
    verify: VerifyConfig = VerifyConfig()
    fleet: FleetConfig = FleetConfig()

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
    errors = _unknown_provider_names(cfg)
    if errors:
        raise SourceErrors(errors)
    return cfg


def _unknown_provider_names(cfg: Config) -> list[SourceError]:
    """Provider names outside `providers:` (a target's `providers` filter, `schedules.scan_providers`) name a
    registered provider."""
    names = PROVIDERS.names()
    expected = "Input should be " + (", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r}"
                                     if len(names) > 1 else repr(names[0]))
    errors = [cfg.error(("notifications", i, "providers", j), expected)
              for i, target in enumerate(cfg.notifications) for j, name in enumerate(target.providers)
              if name not in names]
    errors += [cfg.error(("schedules", "scan_providers", name), expected)
               for name in cfg.schedules.scan_providers if name not in names]
    return errors


def load_config(path: str | Path | None) -> Config:
    """Load ``path``; ``None`` means the defaults (AWS default credential chain, us-east-1)."""
    if path is None:
        defaults = {name: s for name, p in PROVIDERS.items() if (s := p.default_settings()) is not None}
        return Config(providers=Providers(**defaults))
    doc = load_yaml_file(path)
    return parse_config(doc, Path(path).resolve().parent)
