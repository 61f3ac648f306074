"""Benchmark: feed the AWS policy analyser adversarial bucket policies of growing size and print the time each
takes, per size and per KB, to show that it grows linearly (not with a power, not exponentially).

    .venv/bin/python bench/adversarial_policies.py [--repeat 3] [--family NAME]

Families that grow one list of the policy: wildcards (a Deny whose resource has ever more `*` against a long
object name: exponential for a backtracking matcher), actions (ever longer Action lists, plain names and
wildcards), conditions (ever more condition keys and values), statements (ever more Allow statements), denies
(ever more Deny statements), principals (ever more principals), nesting (JSON nested ever deeper: rejected before
the decoder recurses). Their time per KB should stay flat. Then products, whose work is pairwise by nature (every
Deny against every Allow, every Deny action against every allowed action): their time grows with the product
until document.MAX_COMPARISONS, past which the policy is rejected at once (judged unknown), and the text cap.
Each row: family, size parameter, policy length, best of --repeat runs of parse + analysis, microseconds per KB,
outcome. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from cloudwatchdog.providers.aws.policy.analysis import PolicyError, analyze_policy
from cloudwatchdog.providers.aws.policy.jsontext import MAX_CHARS

OWNER = "111122223333"
BUCKET = "arn:aws:s3:::examplebucket"


def _text(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def _allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": BUCKET + "/*", **fields}


def _deny(**fields: Any) -> dict[str, Any]:
    return {**_allow(**fields), "Effect": "Deny", **{k: v for k, v in fields.items() if k != "Effect"}}


def wildcards(n: int) -> str:
    allow = _allow(Resource=f"{BUCKET}{'a' * (2 * n + 5)}/x")
    return _text(allow, _deny(Action="s3:*", Resource=f"{BUCKET}{'a*' * n}b/x"))


_TWO_DENIES = (
    _deny(Sid="NoDeletes", Action=["s3:Delete*", "s3:Put*Acl"], Condition={"Bool": {"aws:SecureTransport": "false"}}),
    _deny(Sid="VpceOnly", Action="s3:*", Resource=[BUCKET, BUCKET + "/*"],
          Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
)


def actions(n: int) -> str:
    names = [f"s3:Custom{i}" if i % 3 else f"s3:Get*{i}?" for i in range(n)]
    return _text(_allow(Action=names), *_TWO_DENIES)


def conditions(n: int) -> str:
    keys = {f"aws:SourceVpce{i}" if i % 2 else "aws:SourceVpce": [f"vpce-{i}-{j}" for j in range(8)] for i in range(n)}
    ips = {"aws:SourceIp": [f"10.{i % 250}.{i // 250}.0/24" for i in range(n)]}
    return _text(_allow(Condition={"StringEquals": keys, "IpAddress": ips}),
                 _deny(Action="s3:*", Condition={"StringNotEquals": keys, "NotIpAddress": ips}))


def statements(n: int) -> str:
    allows = [_allow(Sid=f"A{i}", Action=[f"s3:Get*{i % 7}", "s3:ListBucket"], Resource=f"{BUCKET}/p{i}/*")
              for i in range(n)]
    return _text(*allows, *_TWO_DENIES)


def denies(n: int) -> str:
    rules = [_deny(Sid=f"D{i}", Action=["s3:Put*", f"s3:Delete*{i}"], Resource=f"{BUCKET}/p{i}*",
                   Condition={"StringNotEquals": {"aws:SourceVpce": f"vpce-{i}"}}) for i in range(n)]
    return _text(_allow(Sid="Public", Action="s3:*"), _allow(Sid="Partner", Principal={"AWS": "444455556666"}), *rules)


def principals(n: int) -> str:
    accounts = [f"{100_000_000_000 + i:012d}" for i in range(n)]
    everyone = [f"arn:aws:iam::*:role/r{i}" for i in range(n // 4)]
    return _text(_allow(Principal={"AWS": accounts + everyone}, Action="s3:*"),
                 _deny(Principal={"AWS": accounts[::2]}, Action="s3:Get*"),
                 _deny(NotPrincipal={"AWS": accounts[1::2]}, Principal=None, Action="s3:Put*"))


def nesting(n: int) -> str:
    return '{"Statement":' + "[" * n + "]" * n + "}"


def product_statements(n: int) -> str:
    """n Allows x n Denies: each Deny is weighed against each grant path."""
    allows = [_allow(Sid=f"A{i}", Action=f"s3:Get*{i % 7}", Resource=f"{BUCKET}/p{i}/*") for i in range(n)]
    rules = [_deny(Sid=f"D{i}", Action="s3:*", Resource=f"{BUCKET}/p{i}*",
                   Condition={"StringNotEquals": {"aws:SourceVpce": f"vpce-{i}"}}) for i in range(n)]
    return _text(*allows, *rules)


def product_actions(n: int) -> str:
    """n allowed actions x n Deny wildcards: each wildcard is matched against each allowed action."""
    return _text(_allow(Action=[f"s3:Custom{i}" for i in range(n)]),
                 _deny(Action=[f"s3:Put*{i}" for i in range(n)], Condition={"Bool": {"aws:SecureTransport": "false"}}))


FAMILIES: dict[str, tuple[Callable[[int], str], list[int]]] = {
    "wildcards": (wildcards, [10, 100, 1_000, 4_000, 12_000]),
    "actions": (actions, [10, 100, 1_000, 2_000, 4_000]),
    "conditions": (conditions, [2, 10, 50, 150, 300]),
    "statements": (statements, [2, 10, 50, 150, 400]),
    "denies": (denies, [2, 10, 50, 150, 300]),
    "principals": (principals, [10, 100, 500, 1_000, 1_600]),
    "nesting": (nesting, [10, 1_000, 10_000, 30_000]),
    "x-statements": (product_statements, [10, 50, 100, 150, 200]),
    "x-actions": (product_actions, [10, 100, 200, 300, 500]),
}


def _clean(text: str) -> str:
    """Drop the None placeholders the builders use to remove a field (Principal in a NotPrincipal Deny)."""
    doc = json.loads(text)
    if isinstance(doc, dict) and isinstance(doc.get("Statement"), list):
        for statement in doc["Statement"]:
            for key in [k for k, v in statement.items() if v is None]:
                del statement[key]
        return json.dumps(doc, separators=(",", ":"))
    return text


def _measure(text: str, repeat: int) -> tuple[float, str]:
    best = float("inf")
    outcome = ""
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            outcome = analyze_policy(text, account_id=OWNER).level.value
        except PolicyError as exc:
            outcome = f"rejected: {str(exc)[:40]}"
        best = min(best, time.perf_counter() - started)
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--family", choices=sorted(FAMILIES))
    args = parser.parse_args()
    print(f"{'family':<12} {'n':>7} {'chars':>7} {'seconds':>9} {'us/KB':>8}  outcome")
    for name, (build, sizes) in FAMILIES.items():
        if args.family and name != args.family:
            continue
        for n in sizes:
            text = build(n) if name == "nesting" else _clean(build(n))
            if len(text) > MAX_CHARS:
                print(f"{name:<12} {n:>7} {len(text):>7}  (over the {MAX_CHARS}-character cap: skipped)")
                continue
            seconds, outcome = _measure(text, args.repeat)
            print(f"{name:<12} {n:>7} {len(text):>7} {seconds:>9.4f} {seconds / len(text) * 1024e6:>8.0f}  {outcome}")
    seconds, outcome = _measure(" " * (MAX_CHARS + 1) + "{}", args.repeat)
    print(f"{'over-cap':<12} {'-':>7} {MAX_CHARS + 3:>7} {seconds:>9.4f} {'-':>8}  {outcome}")


if __name__ == "__main__":
    main()
