"""The rules a configured scan runs."""

from __future__ import annotations

from cloudwatchdog.config import Config
from cloudwatchdog.rules.loader import Rule, load_rules
from cloudwatchdog.yamlsource import SourceErrors


def configured_rules(cfg: Config) -> list[Rule]:
    """The built-in rules plus ``rules.paths``, less ``rules.disable``; an unknown id names the config line."""
    rules = load_rules([cfg.resolve(p) for p in cfg.rules.paths])
    known = {r.id for r in rules}
    errors = [
        cfg.error(("rules", "disable", i), f"unknown rule id {rule_id!r} (`cloudwatchdog rules validate` lists them)")
        for i, rule_id in enumerate(cfg.rules.disable)
        if rule_id not in known
    ]
    if errors:
        raise SourceErrors(errors)
    return [r for r in rules if r.id not in set(cfg.rules.disable)]
