"""`cloudwatchdog rules validate|test`."""

from __future__ import annotations

import argparse
from pathlib import Path

from cloudwatchdog.exitcodes import EXIT_FINDINGS, EXIT_OK
from cloudwatchdog.rules import collect_cases, lint_rules, load_rules, run_rule_tests


def cmd_rules(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    if args.rules_command == "validate":
        # Built-in and given rules load together (duplicate ids across them are errors); each needs its tests.
        rules = load_rules(paths)
        cases = collect_cases(paths)
        for warning in lint_rules(rules):
            print(f"warning: {warning}")
        print(f"{len(rules)} rules valid, {len(cases)} test cases")
        return EXIT_OK
    results = run_rule_tests(paths)
    for result in results:
        print(result.describe())
    failed = sum(1 for r in results if not r.passed)
    print(f"{len(results) - failed} passed, {failed} failed")
    return EXIT_FINDINGS if failed else EXIT_OK
