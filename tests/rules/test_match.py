"""The match language: every operator, absent paths, nesting, list quantifiers, and parse errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from cloudwatchdog.rules.match import ABSENT, Condition, Expr, Problem, matches, parse_expr, resolve

DOC: dict[str, Any] = {
    "uid": "arn:aws:s3:::public-assets",
    "type": "aws.s3.bucket",
    "name": "public-assets",
    "tags": {"env": "prod"},
    "exposure": {
        "level": "public",
        "latent": False,
        "read": True,
        "write": False,
        "external_principals": ["*", "arn:aws:iam::210987654321:root"],
        "evidence": [
            {"source": "bucket-policy", "detail": "statement 0 allows s3:GetObject to *"},
            {"source": "bucket-acl", "detail": "grant READ to AllUsers"},
        ],
    },
    "properties": {
        "object_count": 12,
        "ratio": 0.5,
        "public_access_block": {"account": None, "bucket": {"block_public_acls": True}},
        "read_errors": [],
        "flag_one": 1,
    },
}


def parse(data: Any) -> Expr:
    problems: list[Problem] = []
    expr = parse_expr(data, ("match",), problems)
    assert problems == []
    return expr


def problems_of(data: Any) -> list[Problem]:
    problems: list[Problem] = []
    parse_expr(data, ("match",), problems)
    return problems


def check(path: str, op: str, value: Any, doc: Any = None) -> bool:
    return matches(parse({"path": path, op: value}), DOC if doc is None else doc)


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"),
    [
        ("exposure.level", "equals", "public", True),
        ("exposure.level", "equals", "private", False),
        ("exposure.read", "equals", True, True),
        ("properties.flag_one", "equals", True, False),  # booleans are not numbers
        ("properties.flag_one", "equals", 1, True),
        ("properties.public_access_block.account", "equals", None, True),
        ("exposure.external_principals", "equals", ["*", "arn:aws:iam::210987654321:root"], True),
        ("exposure.level", "not_equals", "private", True),
        ("exposure.level", "not_equals", "public", False),
        ("exposure.level", "in", ["public", "cross-account"], True),
        ("exposure.level", "in", ["private"], False),
        ("exposure.level", "not_in", ["private", "unknown"], True),
        ("exposure.level", "not_in", ["public"], False),
        ("exposure.external_principals", "contains", "*", True),
        ("exposure.external_principals", "contains", "arn", False),  # list: whole items only
        ("name", "contains", "assets", True),  # string: substring
        ("name", "contains", "private", False),
        ("properties.object_count", "contains", 1, False),  # neither list nor string
        ("exposure.level", "exists", True, True),
        ("exposure.level", "exists", False, False),
        ("properties.public_access_block.account", "exists", True, False),  # null counts as absent
        ("properties.public_access_block.account", "exists", False, True),
        ("properties.object_count", "greater_than", 10, True),
        ("properties.object_count", "greater_than", 12, False),
        ("properties.object_count", "greater_or_equal", 12, True),
        ("properties.object_count", "less_than", 12.5, True),
        ("properties.object_count", "less_or_equal", 11, False),
        ("properties.ratio", "less_or_equal", 0.5, True),
        ("exposure.read", "greater_than", 0, False),  # booleans are not numbers
        ("name", "greater_than", 0, False),  # strings are not numbers
        ("uid", "matches", r"^arn:aws:s3:::public-", True),
        ("uid", "matches", r"private", False),
        ("uid", "matches", r"assets$", True),  # search, not fullmatch
        ("properties.object_count", "matches", r"12", False),  # only strings match a regex
        ("tags.env", "equals", "prod", True),
        ("exposure.evidence.1.source", "equals", "bucket-acl", True),  # digit segments index lists
    ],
)
def test_operator(path: str, op: str, value: Any, expected: bool) -> None:
    assert check(path, op, value) is expected


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("equals", None),
        ("equals", "x"),
        ("not_equals", "x"),
        ("in", ["x"]),
        ("not_in", ["x"]),
        ("contains", "x"),
        ("greater_than", 0),
        ("less_than", 0),
        ("greater_or_equal", 0),
        ("less_or_equal", 0),
        ("matches", ".*"),
        ("exists", True),
    ],
)
def test_absent_path_matches_no_operator_but_exists_false(op: str, value: Any) -> None:
    assert check("properties.nothing.here", op, value) is False
    assert check("exposure.level.deeper", op, value) is False  # through a scalar


def test_exists_false_matches_absent() -> None:
    assert check("properties.nothing.here", "exists", False) is True
    assert check("tags.owner", "exists", False) is True


def test_resolve() -> None:
    assert resolve(DOC, ("exposure", "level")) == "public"
    assert resolve(DOC, ("exposure", "nope")) is ABSENT
    assert resolve(DOC, ("exposure", "evidence", "9")) is ABSENT
    assert resolve(DOC, ("properties", "public_access_block", "account")) is None


def test_all_any_not_and_nesting() -> None:
    public = {"path": "exposure.level", "equals": "public"}
    private = {"path": "exposure.level", "equals": "private"}
    assert matches(parse({"all": [public, {"path": "exposure.read", "equals": True}]}), DOC)
    assert not matches(parse({"all": [public, private]}), DOC)
    assert matches(parse({"any": [private, public]}), DOC)
    assert not matches(parse({"any": [private]}), DOC)
    assert matches(parse({"not": private}), DOC)
    assert not matches(parse({"not": {"any": [public, private]}}), DOC)
    nested = {"all": [{"any": [private, {"not": {"not": public}}]},
                      {"not": {"path": "tags.env", "equals": "dev"}}]}
    assert matches(parse(nested), DOC)


def test_not_of_absent_is_true() -> None:
    assert matches(parse({"not": {"path": "properties.missing", "equals": 1}}), DOC)


def test_any_item_and_all_items() -> None:
    acl = {"any_item": {"path": "exposure.evidence", "match": {"path": "source", "equals": "bucket-acl"}}}
    assert matches(parse(acl), DOC)
    none = {"any_item": {"path": "exposure.evidence", "match": {"path": "source", "equals": "object-acl"}}}
    assert not matches(parse(none), DOC)
    every = {"all_items": {"path": "exposure.evidence", "match": {"path": "detail", "matches": "s3:|READ"}}}
    assert matches(parse(every), DOC)
    only_acl = {"path": "source", "equals": "bucket-acl"}
    not_every = {"all_items": {"path": "exposure.evidence", "match": only_acl}}
    assert not matches(parse(not_every), DOC)


def test_item_quantifiers_on_empty_absent_and_non_lists() -> None:
    inner = {"path": "x", "equals": 1}
    assert not matches(parse({"any_item": {"path": "properties.read_errors", "match": inner}}), DOC)
    assert matches(parse({"all_items": {"path": "properties.read_errors", "match": inner}}), DOC)  # vacuous
    assert not matches(parse({"all_items": {"path": "properties.absent", "match": inner}}), DOC)
    assert not matches(parse({"any_item": {"path": "name", "match": inner}}), DOC)


def test_nested_item_quantifiers() -> None:
    doc = {"properties": {"rules": [{"ports": [{"from": 22}, {"from": 443}]}, {"ports": []}]}}
    expr = {"any_item": {"path": "properties.rules", "match": {
        "any_item": {"path": "ports", "match": {"path": "from", "equals": 22}}}}}
    assert matches(parse(expr), doc)


def test_regex_is_compiled_at_parse_time() -> None:
    expr = parse({"path": "name", "matches": "^pub"})
    assert isinstance(expr, Condition)
    assert hasattr(expr.value, "search")


@pytest.mark.parametrize(
    ("data", "where", "fragment"),
    [
        ({"path": "a", "equalz": 1}, ("match", "equalz"),
         "unknown operator (did you mean equals? known: equals"),
        ({"path": "a", "equals": 1, "in": [1]}, ("match",), "exactly one operator, found equals, in"),
        ({"path": "a"}, ("match",), "a condition needs an operator"),
        ({"equals": 1}, ("match", "path"), "required key is missing"),
        ({"path": "", "equals": 1}, ("match", "path"), "must be a dotted path"),
        ({"path": "a..b", "equals": 1}, ("match", "path"), "invalid path"),
        ({"path": "a", "matches": "("}, ("match", "matches"), "invalid regular expression"),
        ({"path": "a", "matches": 3}, ("match", "matches"), "must be a regular expression string"),
        ({"path": "a", "in": "public"}, ("match", "in"), "must be a list of scalars"),
        ({"path": "a", "exists": "yes"}, ("match", "exists"), "must be true or false"),
        ({"path": "a", "greater_than": "3"}, ("match", "greater_than"), "must be a number"),
        ({"path": "a", "greater_than": True}, ("match", "greater_than"), "must be a number"),
        ({"path": "a", "contains": [1]}, ("match", "contains"), "must be a scalar"),
        ({"path": "a", "equals": {"k": 1}}, ("match", "equals"), "must be a scalar"),
        ({"all": []}, ("match", "all"), "non-empty list"),
        ({"any": {"path": "a"}}, ("match", "any"), "non-empty list"),
        ({"all": [{"path": "a", "equals": 1}], "path": "b"}, ("match",), "exactly one form"),
        ({"alll": []}, ("match", "alll"), "unknown key: did you mean all?"),
        ("public", ("match",), "must be a mapping"),
        ({"all": [{"path": "a", "equals": 1}, {"nott": {}}]}, ("match", "all", 1, "nott"),
         "did you mean not?"),
        ({"any_item": {"path": "a"}}, ("match", "any_item", "match"), "required key is missing"),
        ({"any_item": {"path": "a", "match": {"path": "b", "equals": 1}, "where": 1}},
         ("match", "any_item", "where"), "unknown key"),
        ({"not": {"path": "a", "equals": 1}, "extra": 1}, ("match", "extra"), "unknown key next to not"),
    ],
)
def test_parse_errors_are_located(data: Any, where: tuple[str | int, ...], fragment: str) -> None:
    problems = problems_of(data)
    assert any(at == where and fragment in msg for at, msg in problems), problems


def test_every_problem_in_one_pass() -> None:
    problems = problems_of({"all": [{"path": "a", "equalz": 1}, {"path": "b", "matches": "["}]})
    assert [at for at, _ in problems] == [("match", "all", 0, "equalz"), ("match", "all", 1, "matches")]


def test_document_check_is_not_applied_inside_items() -> None:
    seen: list[tuple[str, ...]] = []

    def check_condition(path: tuple[str, ...], op: str, value: Any) -> tuple[str, str] | None:
        seen.append(path)
        return None

    problems: list[Problem] = []
    item = {"path": "source", "equals": "x"}
    parse_expr({"all": [{"path": "exposure.level", "equals": "public"},
                        {"any_item": {"path": "exposure.evidence", "match": item}}]},
               ("match",), problems, check_condition)
    assert problems == []
    assert seen == [("exposure", "level"), ("exposure", "evidence")]


@pytest.mark.timeout(60)
def test_matches_runs_in_linear_time_whatever_the_pattern() -> None:
    # A backtracking engine takes exponential time here (each "a" can go to either "+"): a typo froze the daemon.
    expr = parse({"path": "name", "matches": "^(a+)+$"})
    started = time.perf_counter()
    assert not matches(expr, {"name": "a" * 50_000 + "!"})
    assert matches(expr, {"name": "a" * 50_000})
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(("pattern", "fragment"), [
    ("(?=public)", "invalid perl operator"),
    (r"(a)\1", "invalid escape sequence"),
    ("a{1001}", "invalid repetition size"),
    ("\ud800", "lone surrogate"),
])
def test_patterns_re2_cannot_run_are_validation_errors(pattern: str, fragment: str) -> None:
    [(at, message)] = problems_of({"path": "name", "matches": pattern})
    assert at == ("match", "matches") and message.startswith("invalid regular expression: ") and fragment in message


def test_matches_survives_a_lone_surrogate_in_the_resource() -> None:
    assert matches(parse({"path": "name", "matches": "^bad"}), {"name": "bad\ud800name"})
