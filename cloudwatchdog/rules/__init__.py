"""YAML rules: load and validate (``loader``), match (``match``), turn resources into findings (``engine``)
and run each rule's test cases (``testing``)."""

from cloudwatchdog.rules.engine import evaluate, evaluate_rule, fingerprint
from cloudwatchdog.rules.loader import Escalation, Rule, builtin_rules_dir, load_rule_files, load_rules
from cloudwatchdog.rules.testing import (
    CaseResult,
    RuleCase,
    collect_cases,
    lint_rules,
    run_case,
    run_rule_tests,
)

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
