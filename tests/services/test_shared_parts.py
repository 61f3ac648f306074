"""An account's equal resource parts are held once, and every resource stays equal to what the provider built."""

from __future__ import annotations

from cloudwatchdog.model import Evidence, Exposure, Level, Resource
from cloudwatchdog.services.shared import SharedParts


def _resource(name: str, properties: dict[str, object], tags: dict[str, str] | None = None,
              exposure: Exposure | None = None) -> Resource:
    return Resource(uid=f"arn:aws:s3:::{name}", provider="aws", account="1", region="us-east-1", type="aws.s3.bucket",
                    name=name, exposure=exposure or Exposure(Level.PRIVATE, evidence=(Evidence("acl", "none"),)),
                    tags=tags or {}, properties=properties)


def test_equal_parts_are_one_object_and_resources_are_unchanged() -> None:
    shared = SharedParts()
    built = [_resource(f"b{i}", {"pab": {"block": False}, "errors": []}) for i in range(3)]
    out = [shared.resource(r, None) for r in built]
    assert out == built
    assert out[0].properties is out[1].properties is out[2].properties
    assert out[0].exposure is out[2].exposure and out[0].tags is out[1].tags


def test_values_equal_in_python_but_not_in_json_are_not_shared() -> None:
    shared = SharedParts()
    built = [_resource("a", {"v": 1}), _resource("b", {"v": True}), _resource("c", {"v": 1.0}),
             _resource("d", {"v": [1]}), _resource("e", {"v": (1,)}), _resource("f", {"x": 1, "v": 1}),
             _resource("g", {"v": 1, "x": 1})]
    out = [shared.resource(r, None) for r in built]
    for before, after in zip(built, out, strict=True):
        assert after.properties is before.properties  # each its own: none equal to another by type and order
        assert list(after.properties.items()) == list(before.properties.items())


def test_the_account_name_is_set_and_unhashable_parts_are_kept() -> None:
    odd = Exposure(Level.PUBLIC, external_principals=["*"])  # type: ignore[arg-type]  # a list: unhashable
    out = SharedParts().resource(_resource("a", {"v": {1, 2}}, {"k": "v"}, odd), "prod")
    assert out.account_name == "prod" and out.exposure is odd and out.properties == {"v": {1, 2}}
