"""Policies written to hurt us: whoever can set one bucket policy in one scanned account controls this input.
Pathological wildcards, numbers and nesting past Python's limits, duplicate keys, evidence that would grow with
the square of the policy; and properties (Hypothesis) that the parser only ever raises PolicyError and the
analysis never raises on a parsed document."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudwatchdog.model import Level
from cloudwatchdog.providers.aws.policy.analysis import PolicyError, analyze_policy
from cloudwatchdog.providers.aws.policy.document import parse_policy
from cloudwatchdog.providers.aws.policy.jsontext import MAX_CHARS

OWNER = "111122223333"


def _statement(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*", **fields}


def _text(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def _pathological(stars: int) -> str:
    """An Allow on one long object name, and a Deny whose resource has ``stars`` wildcards that can each take
    any number of its a's: a backtracking matcher tries them all before failing on the final "b"."""
    allow = _statement(Resource="arn:aws:s3:::" + "a" * (2 * stars + 5) + "/x")
    deny = _statement(Effect="Deny", Action="s3:*", Resource="arn:aws:s3:::" + "a*" * stars + "b/x")
    return _text(allow, deny)


@pytest.mark.timeout(60)
def test_a_375_byte_policy_of_pathological_wildcards_is_judged_at_once() -> None:
    text = _pathological(41)
    assert len(text) == 375
    started = time.perf_counter()
    result = analyze_policy(text, account_id=OWNER)
    assert time.perf_counter() - started < 5
    assert result.level is Level.PUBLIC, "the Deny names another bucket: the Allow stands"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            _text(_statement(Condition={"NumericEquals": {"s3:max-keys": 1}})).replace(":1}", ":" + "9" * 5000 + "}"),
            "a number 5000 characters long", id="int-past-pythons-limit",
        ),
        pytest.param('{"Statement":' + "[" * 5000 + "]" * 5000 + "}", "nests deeper than", id="deep-nesting"),
        pytest.param('{"Statement":[' + "{" * 50_000, "nests deeper than", id="deep-and-unterminated"),
        pytest.param(" " * MAX_CHARS + "{}", "characters long, more than", id="too-long"),
        pytest.param(_text(_statement(Sid="\\ud800")).replace("\\\\", "\\"), "lone UTF-16 surrogate", id="surrogate"),
        pytest.param(_text(_statement(Condition={"NumericEquals": {"s3:max-keys": 1}})).replace(":1}", ":NaN}"),
                     "NaN is not a JSON value", id="nan"),
    ],
)
def test_input_past_the_parsers_bounds_is_a_policy_error(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    assert message in str(raised.value)
    assert len(str(raised.value)) < 1000, "the message quotes, it does not copy"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = _text(_statement(Sid='x\\"' + "[{" * 100))
    assert parse_policy(text).statements[0].label.startswith('statement "x\\"[{[{')


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            '{"Version":"2012-10-17","Statement":[' + json.dumps(_statement(Sid="Public")) + '],'
            '"Statement":[' + json.dumps(_statement(Effect="Deny", Action="s3:*")) + "]}",
            id="second-statement-key-hides-the-allow",
        ),
        pytest.param(
            _text(_statement(Sid="Vpce", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}))
            .replace('{"StringEquals"', '{"StringEquals":{"aws:SourceVpce":"vpce-2"},"StringEquals"'),
            id="condition-operator-twice",
        ),
        pytest.param(_text(_statement(Sid="Twice")).replace('"Effect":"Allow"', '"Effect":"Deny","Effect":"Allow"'),
                     id="effect-twice"),
    ],
)
def test_duplicate_keys_are_never_judged_on_one_reading(text: str) -> None:
    with pytest.raises(PolicyError) as raised:
        analyze_policy(text, account_id=OWNER)
    assert "twice" in str(raised.value) and "not judged on one reading" in str(raised.value)


def test_duplicate_key_message_names_the_statement() -> None:
    text = _text(_statement(Sid="Twice")).replace('"Effect":"Allow"', '"Effect":"Deny","Effect":"Allow"')
    with pytest.raises(PolicyError, match='key \'Effect\' twice in statement "Twice"'):
        parse_policy(text)


def test_evidence_does_not_grow_with_the_square_of_the_policy() -> None:
    # 1,500 principals each allowed 1,500 actions: one evidence line a principal must not quote every action.
    accounts = [f"{n:012d}" for n in range(100_000_000_000, 100_000_001_500)]
    actions = [f"s3:Custom{n}" for n in range(1500)]
    text = _text(_statement(Sid="S" * 5000, Principal={"AWS": accounts}, Action=actions))
    assert len(text) < MAX_CHARS
    result = analyze_policy(text, account_id=OWNER)
    assert result.level is Level.CROSS_ACCOUNT and len(result.external_principals) == 1500
    assert sum(len(e.detail) for e in result.evidence) < 2_000_000


def test_pairwise_work_past_the_bound_is_rejected_not_ground_through() -> None:
    # 1,000 allowed actions x 1,000 Deny wildcards: a million glob matches, for one 30 KB policy.
    text = _text(_statement(Action=[f"s3:Custom{i}" for i in range(1000)]),
                 _statement(Effect="Deny", Action=[f"s3:Put*{i}" for i in range(1000)]))
    started = time.perf_counter()
    with pytest.raises(PolicyError, match=r"too complex to judge: .* pattern comparisons .* \(at most 250,000\)"):
        parse_policy(text)
    assert time.perf_counter() - started < 1


def test_evidence_lines_are_bounded() -> None:
    # 300 principals that each reach everyone, and 150 Deny statements that restrict none of them: a note a pair
    # would be 45,000 lines.
    everyone = [f"arn:aws:iam::*:role/r{i}" for i in range(300)]
    denies = [_statement(Effect="Deny", Sid=f"D{i}", Condition={"Bool": {"aws:SecureTransport": "false"}})
              for i in range(150)]
    result = analyze_policy(_text(_statement(Principal={"AWS": everyone}), *denies), account_id=OWNER)
    assert result.level is Level.PUBLIC
    assert len(result.evidence) <= 202
    assert any("more notes on grant paths and Deny statements" in e.detail for e in result.evidence)
    assert result.evidence[-1].detail.startswith("policy is public through")


# --- Properties -------------------------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=timedelta(seconds=2), database=None)
@given(st.one_of(_JSON.map(json.dumps), st.text(max_size=200)))
def test_parser_raises_nothing_but_policy_error(text: str) -> None:
    with contextlib.suppress(PolicyError):  # anything else (ValueError, RecursionError, ...) fails the test
        parse_policy(text)


_KEYS = ["aws:SourceVpce", "aws:SourceIp", "aws:SourceArn", "aws:SourceAccount", "aws:PrincipalOrgID",
         "aws:PrincipalArn", "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount", "aws:SecureTransport",
         "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:PrincipalAccount"]
_OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "ArnLike", "ArnNotEquals", "IpAddress", "NotIpAddress",
              "Bool", "Null", "ForAnyValue:StringEquals", "ForAllValues:StringNotLike", "StringEqualsIfExists"]
_VALUES = st.sampled_from([OWNER, "444455556666", "*", "vpce-1?", "10.0.0.0/8", "::/0", "o-abc", "anonymous",
                           "AROAEXAMPLE:*", f"arn:aws:iam::{OWNER}:root", "arn:aws:sns:us-east-1:111122223333",
                           "arn:aws:s3:us-east-1:444455556666:accesspoint/*", "${aws:username}", "true", "x" * 300])
_PRINCIPALS = st.one_of(
    st.just("*"),
    st.dictionaries(
        st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser"]),
        st.lists(st.sampled_from(["*", OWNER, "444455556666", f"arn:aws:iam::{OWNER}:role/r", "arn:aws:iam::*:root",
                                  "AROAABCDEFGHIJKLMNOP", "cognito-identity.amazonaws.com", "s3.amazonaws.com"]),
                 min_size=1, max_size=3),
        min_size=1, max_size=2,
    ),
)
_PATTERNS = st.sampled_from(["*", "s3:*", "s3:Get*", "s3:GetObject", "s3:ListBucket", "s3:Put?bject", "s3:New",
                             "arn:aws:s3:::b", "arn:aws:s3:::b/*", "arn:aws:s3:::b*", "arn:aws:s3:::*/x?",
                             f"arn:aws:s3:us-east-1:{OWNER}:accesspoint/ap/object/*", "arn:*"])


@st.composite
def _statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        draw(st.sampled_from(["Principal", "NotPrincipal"])): draw(_PRINCIPALS),
        draw(st.sampled_from(["Action", "NotAction"])): draw(st.lists(_PATTERNS, min_size=1, max_size=3)),
        draw(st.sampled_from(["Resource", "NotResource"])): draw(st.lists(_PATTERNS, min_size=1, max_size=3)),
    }
    if draw(st.booleans()):
        statement["Sid"] = draw(st.text(max_size=8))
    if draw(st.booleans()):
        keys = st.dictionaries(st.sampled_from(_KEYS), st.lists(_VALUES, min_size=1, max_size=3), min_size=1)
        statement["Condition"] = draw(st.dictionaries(st.sampled_from(_OPERATORS), keys, max_size=3))
    return statement


@settings(max_examples=150, deadline=timedelta(seconds=2), database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    statements=st.lists(_statements(), min_size=1, max_size=6),
    version=st.sampled_from(["2012-10-17", "2008-10-17"]),
    resource=st.sampled_from(["bucket", "access-point"]),
)
def test_analysis_never_raises_on_a_parsed_document(statements: list[dict[str, Any]], version: str,
                                                   resource: str) -> None:
    try:
        document = parse_policy(json.dumps({"Version": version, "Statement": statements}))
    except PolicyError:
        return
    result = analyze_policy(document, account_id=OWNER, resource=resource,  # type: ignore[arg-type]
                            trusted_orgs=frozenset({"o-abc"}))
    assert result.evidence and result.public == (result.level is Level.PUBLIC)
