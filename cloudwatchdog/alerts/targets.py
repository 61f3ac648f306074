"""The configured notification targets, ready to use: file paths (`templates_dir`, `ca_file`) made absolute
against the config file's directory, lookup by name, and each target's templates."""

from __future__ import annotations

from pathlib import Path

from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.config import Config
from cloudwatchdog.settings.notifications import EmailTarget, TargetBase


class UnknownTarget(LookupError):
    """No notification target has that name (the CLI shows the message and exits 2)."""


def configured_targets(cfg: Config) -> list[TargetBase]:
    out: list[TargetBase] = []
    for target in cfg.notifications:
        t: TargetBase = target
        update: dict[str, str] = {}
        if t.templates_dir is not None:
            update["templates_dir"] = str(cfg.resolve(t.templates_dir))
        if isinstance(t, EmailTarget) and t.ca_file is not None:
            update["ca_file"] = str(cfg.resolve(t.ca_file))
        out.append(t.model_copy(update=update) if update else t)
    return out


def find_target(cfg: Config, name: str) -> TargetBase:
    targets = configured_targets(cfg)
    for t in targets:
        if t.label == name:
            return t
    names = ", ".join(t.label for t in targets) or "none configured"
    raise UnknownTarget(f"no notification target named {name!r} (targets: {names})")


def templates_for(target: TargetBase) -> Templates:
    """The target's templates: its `templates_dir` over the built-in ones (use a target from
    ``configured_targets``, whose `templates_dir` is absolute)."""
    return Templates(Path(target.templates_dir) if target.templates_dir else None)
