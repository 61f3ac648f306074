"""Message templates: placeholders, rendering of every value kind, fallbacks, and load-time errors."""

from __future__ import annotations

from typing import Any

import pytest

from cloudwatchdog.model import Evidence, Exposure, Level, Resource
from cloudwatchdog.rules.templates import TemplateError, parse_template

RESOURCE = Resource(
    uid="arn:aws:s3:::shared",
    provider="aws",
    account="123456789012",
    region="eu-west-1",
    type="aws.s3.bucket",
    name="shared",
    exposure=Exposure(
        level=Level.CROSS_ACCOUNT,
        read=True,
        list=True,
        external_principals=("arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"),
        evidence=(Evidence("bucket-policy", "statement A"), Evidence("bucket-acl", "grant B")),
    ),
    tags={"owner": "data-team", "cost center": "42"},
    properties={
        "public_access_block": {"account": {"block_public_acls": True, "restrict_public_buckets": False}},
        "object_ownership": None,
        "read_errors": [],
        "public_settings": False,
        "count": 3,
    },
)
DOC = RESOURCE.to_dict()


def render(text: str, doc: dict[str, Any] = DOC) -> str:
    return parse_template(text).render(doc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{resource.name} in {resource.account}/{resource.region}", "shared in 123456789012/eu-west-1"),
        ("{resource.uid} {resource.type} {resource.provider}", "arn:aws:s3:::shared aws.s3.bucket aws"),
        ("{resource.tags.owner}, {resource.tags.cost center}", "data-team, 42"),
        ("{exposure.level} {exposure.latent} {exposure.read}", "cross-account false true"),
        ("{evidence}", "statement A; grant B"),
        ("{exposure.evidence}", "statement A; grant B"),
        ("{external_principals}", "arn:aws:iam::111111111111:root, arn:aws:iam::222222222222:root"),
        ("{exposure.external_principals}", "arn:aws:iam::111111111111:root, arn:aws:iam::222222222222:root"),
        ("{exposure.access}", "read, list"),
        ("{properties.public_access_block.account}", "block_public_acls=true, restrict_public_buckets=false"),
        ("{properties.public_access_block.account.restrict_public_buckets}", "false"),
        ("{properties.count}", "3"),
        ("{properties.object_ownership}", "(none)"),
        ("{properties.read_errors}", "(none)"),
        ("{properties.no.such.key}", "(none)"),
        ("{resource.tags.missing}", "(none)"),
        ("{properties.object_ownership|not set}", "not set"),
        ("{properties.count|unused}", "3"),
        ("{{literal}} and }}", "{literal} and }"),
        ("{ resource.name }", "shared"),
        ("no placeholders", "no placeholders"),
    ],
)
def test_render(text: str, expected: str) -> None:
    assert render(text) == expected


def test_access_without_capabilities_and_empty_evidence() -> None:
    doc = Resource("u", "aws", "1", "r", "aws.s3.bucket", "b", Exposure(Level.PUBLIC)).to_dict()
    assert render("{exposure.access}|{evidence}|{evidence|nothing recorded}", doc) == (
        "metadata only|(none)|nothing recorded"
    )


def test_missing_lists_placeholders_without_value_or_fallback() -> None:
    template = parse_template(
        "{resource.name} {properties.object_ownership} {properties.read_errors|-} {evidence}"
    )
    assert template.missing(DOC) == ["properties.object_ownership"]
    assert template.placeholders == (
        "resource.name", "properties.object_ownership", "properties.read_errors", "evidence",
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{resource.nmae}", "unknown placeholder {resource.nmae}"),
        ("{resource}", "unknown placeholder {resource}"),
        ("{resource.tags.}", "unknown placeholder"),
        ("{exposure.levl}", "unknown placeholder {exposure.levl}"),
        ("{properties}", "unknown placeholder {properties}"),
        ("{properties.a..b}", "unknown placeholder"),
        ("{resource.__class__}", "unknown placeholder"),
        ("{0}", "unknown placeholder {0}"),
        ("{}", "unknown placeholder {}"),
        ("{name}", "unknown placeholder {name}"),
        ("open {resource.name", "unclosed '{'"),
        ("close }", "unmatched '}'"),
    ],
)
def test_template_errors(text: str, fragment: str) -> None:
    with pytest.raises(TemplateError, match=None) as info:
        parse_template(text)
    assert fragment in str(info.value)


def test_unknown_placeholder_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError) as info:
        parse_template("{resource.nmae}")
    assert "known: resource.uid, resource.name" in str(info.value)
