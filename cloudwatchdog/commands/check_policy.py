"""`cloudwatchdog check-policy`: judge one policy document offline, e.g. Terraform output in a pipeline."""

from __future__ import annotations

import argparse
import json
import sys

from cloudwatchdog.commands.terminal import plain
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_FINDINGS, EXIT_OK
from cloudwatchdog.model import Level
from cloudwatchdog.providers.base import PolicyError
from cloudwatchdog.providers.registry import PROVIDERS

_ORDER = {Level.PRIVATE: 0, Level.CROSS_ACCOUNT: 1, Level.PUBLIC: 2}


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}): a policy is a JSON document") from None


def cmd_check_policy(args: argparse.Namespace) -> int:
    if not (args.account_id.isdigit() and len(args.account_id) == 12):
        raise UsageError(f"--account-id: expected 12 digits, got {args.account_id!r}")
    text = _read(args.file)
    name = "<stdin>" if args.file == "-" else args.file
    try:
        analysis = PROVIDERS.get(args.provider).check_policy(text, account_id=args.account_id,
                                                             resource=args.resource,
                                                             trusted_orgs=frozenset(args.trusted_org))
    except PolicyError as exc:
        raise UsageError(f"{name}: {exc}") from None
    verdict = analysis.to_dict()
    if args.json:
        print(json.dumps(verdict, indent=2))
    else:
        caps = ", ".join(c for c in ("read", "list", "write") if verdict[c]) or "no data access"
        print(f"{plain(name)}: {verdict['level']} ({caps})")
        if verdict["external_principals"]:
            print("external principals: " + ", ".join(plain(p) for p in verdict["external_principals"]))
        for e in verdict["evidence"]:
            print(f"  - [{plain(e['source'])}] {plain(e['detail'])}")
    if args.fail_on != "never" and _ORDER[analysis.level] >= _ORDER[Level(args.fail_on)]:
        return EXIT_FINDINGS
    return EXIT_OK
