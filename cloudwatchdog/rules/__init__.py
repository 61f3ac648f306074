"""YAML rules: load and validate (``loader``), match (``match``), turn resources into findings (``engine``)
and run each rule's test cases (``testing``, loaded on first use: a scan runs no rule tests)."""

from typing import TYPE_CHECKING, Any

from cloudwatchdog.rules.engine import evaluate, evaluate_rule, fingerprint
from cloudwatchdog.rules.loader import Escalation, Rule, builtin_rules_dir, load_rule_files, load_rules

if TYPE_CHECKING:
    from cloudwatchdog.rules.testing import (
        CaseResult,
        RuleCase,
        collect_cases,
        lint_rules,
        run_case,
        run_rule_tests,
    )

_TESTING = frozenset({"CaseResult", "RuleCase", "collect_cases", "lint_rules", "run_case", "run_rule_tests"})


def __getattr__(name: str) -> Any:
    if name in _TESTING:
        from cloudwatchdog.rules import testing

        return getattr(testing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CaseResult",
    "Escalation",
    "Rule",
    "RuleCase",
    "builtin_rules_dir",
    "collect_cases",
    "evaluate",
    "evaluate_rule",
    "fingerprint",
    "lint_rules",
    "load_rule_files",
    "load_rules",
    "run_case",
    "run_rule_tests",
]
