"""Checks of the notification settings that need the file system: `templates_dir` exists and its templates
compile, `ca_file` exists. Run after the config is loaded (the daemon at start, `alerts test`); each problem is
located in the config file."""

from __future__ import annotations

from pathlib import Path

from cloudwatchdog.alerts.targets import configured_targets
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.config import Config
from cloudwatchdog.settings.notifications import EmailTarget
from cloudwatchdog.yamlsource import SourceError


def check_notifications(cfg: Config) -> list[SourceError]:
    errors: list[SourceError] = []
    for i, target in enumerate(configured_targets(cfg)):
        if target.templates_dir is not None:
            path = Path(target.templates_dir)
            if not path.is_dir():
                errors.append(cfg.error(("notifications", i, "templates_dir"), f"not a directory: {path}"))
            else:
                for problem in Templates(path).check():
                    errors.append(cfg.error(("notifications", i, "templates_dir"), problem))
        if isinstance(target, EmailTarget) and target.ca_file is not None:
            ca = Path(target.ca_file)
            if not ca.is_file():
                errors.append(cfg.error(("notifications", i, "ca_file"), f"no such file: {ca}"))
    return errors
