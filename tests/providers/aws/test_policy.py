"""The policy analyser against the corpus (tests/data/aws_policies), malformed documents, evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.model import Capabilities, Level
from cloudwatchdog.providers.aws.policy.analysis import PolicyError, analyze_policy

CORPUS = Path(__file__).parents[2] / "data" / "aws_policies"
OWNER = "111122223333"
OBJECTS = "arn:aws:s3:::examplebucket/*"


def _corpus() -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in sorted(CORPUS.glob("*.json"))]


def test_corpus_is_large_enough() -> None:
    assert len(_corpus()) >= 70


@pytest.mark.parametrize("path", _corpus())
def test_corpus(path: Path) -> None:
    case = json.loads(path.read_text())
    result = analyze_policy(
        json.dumps(case["policy"]),
        account_id=case["account_id"],
        resource=case["resource"],
        trusted_orgs=frozenset(case.get("trusted_orgs", [])),
    )
    expect = case["expect"]
    access = result.public_access if result.public else result.external_access
    got = {
        "level": result.level.value,
        "read": access.read,
        "list": access.list,
        "write": access.write,
        "external_principals": list(result.external_principals),
    }
    evidence = "\n".join(e.detail for e in result.evidence)
    assert got == expect, f"{case['description']}\nevidence:\n{evidence}"
    assert result.public == (result.level == Level.PUBLIC)
    assert result.evidence, "every verdict carries evidence"


def _policy(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _public_read(sid: str = "PublicRead") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECTS}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="invalid-json"),
        pytest.param("[]", "must be a JSON object", id="not-an-object"),
        pytest.param({"Version": "2012-10-17"}, "no Statement", id="statement-missing"),
        pytest.param({"Statement": []}, "non-empty list", id="statement-empty"),
        pytest.param({"Statement": "x"}, "non-empty list", id="statement-string"),
        pytest.param(
            {"Statement": [_public_read()], "Extra": 1}, "unknown top-level field(s): Extra", id="top-level"
        ),
        pytest.param({"Version": "2020-01-01", "Statement": [_public_read()]}, "Version", id="bad-version"),
        pytest.param(
            _policy({**_public_read("Maybe"), "Effect": "Maybe"}),
            'statement "Maybe": Effect',
            id="effect-maybe",
        ),
        pytest.param(
            _policy({**_public_read(), "Actions": "s3:*"}), "unknown field(s): Actions", id="stmt-field"
        ),
        pytest.param(
            _policy({k: v for k, v in _public_read("NoWho").items() if k != "Principal"}),
            'statement "NoWho" has neither Principal nor NotPrincipal',
            id="principal-missing",
        ),
        pytest.param(
            _policy({**_public_read("Both"), "NotPrincipal": {"AWS": OWNER}}),
            "both Principal and NotPrincipal",
            id="principal-both",
        ),
        pytest.param(
            _policy({**_public_read("P"), "Principal": "someone"}), 'statement "P": Principal', id="p-str"
        ),
        pytest.param(
            _policy({**_public_read(), "Principal": {"User": "x"}}), "unknown principal type", id="p-type"
        ),
        pytest.param(_policy({**_public_read(), "Principal": {"AWS": 12}}), "Principal AWS", id="p-number"),
        pytest.param(
            _policy({**_public_read(), "Principal": {"AWS": "bob"}}), "unrecognised AWS principal", id="p-aws"
        ),
        pytest.param(_policy({**_public_read(), "Action": []}), "Action must be", id="action-empty"),
        pytest.param(
            _policy({k: v for k, v in _public_read().items() if k not in ("Sid", "Resource")}),
            "statement #1 has neither Resource nor NotResource",
            id="resource-missing-index",
        ),
        pytest.param(
            _policy({**_public_read(), "Condition": []}), "Condition must be an object", id="cond-list"
        ),
        pytest.param(
            _policy({**_public_read(), "Condition": {"StringEqualz": {"aws:SourceVpce": "v"}}}),
            "unknown condition operator",
            id="cond-operator",
        ),
        pytest.param(
            _policy({**_public_read(), "Condition": {"StringEquals": "vpce-1"}}),
            "must map condition keys",
            id="cond-shape",
        ),
        pytest.param(
            _policy({**_public_read(), "Condition": {"StringEquals": {"aws:SourceVpce": {"a": 1}}}}),
            "not a string",
            id="cond-value",
        ),
        pytest.param(
            _policy(_public_read(), "oops"), "statement #2 is not an object", id="statement-not-object"
        ),
    ],
)
def test_malformed_policy(document: Any, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        analyze_policy(document, account_id=OWNER)
    assert message in str(raised.value)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def _details(document: dict[str, Any], **kwargs: Any) -> str:
    return "\n".join(e.detail for e in analyze_policy(document, account_id=OWNER, **kwargs).evidence)


def test_evidence_names_public_statement() -> None:
    details = _details(_policy(_public_read()))
    assert (
        'statement "PublicRead" allows s3:GetObject to Principal "*" with no restricting condition' in details
    )


def test_evidence_uses_index_without_sid() -> None:
    statement = {k: v for k, v in _public_read().items() if k != "Sid"}
    assert 'statement #2 allows s3:GetObject to Principal "*"' in _details(
        _policy(_public_read("A"), statement)
    )


def test_evidence_names_neutralising_deny() -> None:
    deny = {
        "Sid": "DenyOutsideVpce",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::examplebucket", OBJECTS],
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    }
    details = _details(_policy(_public_read(), deny))
    assert 'statement "DenyOutsideVpce" (Deny) restricts statement "PublicRead"' in details
    assert "aws:SourceVpce vpce-1a2b3c4d" in details


def test_evidence_explains_deny_that_does_not_neutralise() -> None:
    deny = {
        "Sid": "DenyInsecure",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": OBJECTS,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    details = _details(_policy(_public_read(), deny))
    assert 'statement "DenyInsecure" (Deny) does not neutralise statement "PublicRead"' in details


def test_evidence_deny_to_web_identity_provider_does_not_neutralise() -> None:
    deny = {
        "Sid": "DenyCognito",
        "Effect": "Deny",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "s3:*",
        "Resource": OBJECTS,
    }
    result = analyze_policy(_policy(_public_read(), deny), account_id=OWNER)
    details = "\n".join(e.detail for e in result.evidence)
    assert result.level == Level.PUBLIC
    assert 'statement "DenyCognito" (Deny) does not neutralise statement "PublicRead"' in details
    assert "it denies only some principals" in details


def test_evidence_explains_ignored_condition() -> None:
    statement = {**_public_read(), "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}
    assert "negated operator" in _details(_policy(statement))


def test_evidence_flags_confused_deputy() -> None:
    statement = {**_public_read("Logs"), "Principal": {"Service": "logging.s3.amazonaws.com"}}
    assert "confused-deputy" in _details(_policy(statement))


def test_access_point_policy_evidence_source() -> None:
    statement = {**_public_read(), "Resource": f"arn:aws:s3:us-east-1:{OWNER}:accesspoint/ap/object/*"}
    result = analyze_policy(_policy(statement), account_id=OWNER, resource="access-point")
    assert {e.source for e in result.evidence} == {"access-point-policy"}
    assert result.level == Level.PUBLIC


def test_mapping_and_text_documents_agree() -> None:
    document = _policy(_public_read())
    assert analyze_policy(document, account_id=OWNER) == analyze_policy(
        json.dumps(document), account_id=OWNER
    )


def test_external_principals_sorted_and_deduplicated() -> None:
    statement = {**_public_read(), "Principal": {"AWS": ["999988887777", "444455556666", "999988887777"]}}
    result = analyze_policy(_policy(statement), account_id=OWNER)
    assert result.external_principals == ("444455556666", "999988887777")
    assert result.external_access == Capabilities(read=True)


def test_public_and_external_together() -> None:
    partner = {**_public_read("Partner"), "Principal": {"AWS": "444455556666"}, "Action": "s3:PutObject"}
    result = analyze_policy(_policy(_public_read(), partner), account_id=OWNER)
    assert result.level == Level.PUBLIC
    assert result.public_access == Capabilities(read=True)
    assert result.external_principals == ("444455556666",)
    assert result.external_access == Capabilities(write=True)


def test_to_dict_shape() -> None:
    data = analyze_policy(_policy(_public_read()), account_id=OWNER).to_dict()
    assert set(data) == {"level", "read", "list", "write", "external_principals", "evidence"}
    assert data["level"] == "public" and data["read"] is True
