"""The demo estate is data: each file loads into its typed spec, and a mistake in one is an error naming the file,
the line and the key (the project's YAML loader), before anything is seeded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.demo.content import CustomerCsv, Pdf, customer_csv, render
from cloudwatchdog.demo.estate_file import ESTATE_DIR
from cloudwatchdog.demo.history import demo_history
from cloudwatchdog.demo.seed_aws import aws_estate_spec
from cloudwatchdog.demo.seed_azure import azure_estate_spec
from cloudwatchdog.demo.seed_gcp import gcp_estate_spec
from cloudwatchdog.yamlsource import SourceErrors


def test_the_shipped_estate_files_load() -> None:
    aws, gcp, azure, history = aws_estate_spec(), gcp_estate_spec(), azure_estate_spec(), demo_history()
    assert [a.name for a in aws.accounts] == ["prod", "analytics"]
    assert sum(len(a.buckets) for a in aws.accounts) == 30
    assert [p.id for p in gcp.projects] == ["velora-prod-7421", "velora-analytics-3317"]
    assert len(azure.account_names) == 8 and len(azure.subscriptions) == 3
    assert [s.days_ago for s in history.steps] == [45, 12, 3, 0.25]


def _edited(tmp_path: Path, name: str, old: str, new: str, count: int = 1) -> tuple[Path, int]:
    """A copy of estate file ``name`` with ``old`` replaced; (its path, the 1-based line of the replacement)."""
    text = (ESTATE_DIR / name).read_text()
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path = tmp_path / name
    path.write_text(text.replace(old, new, count))
    return path, line


def _errors(load: Callable[[Path], Any], path: Path) -> list[str]:
    with pytest.raises(SourceErrors) as exc:
        load(path)
    return [str(e) for e in exc.value.errors]


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("expected: cross-account", "expected: cross_account", "accounts[0].buckets[2].expected",
     "Input should be 'public', 'cross-account' or 'private'"),
    ("acl_grants: [{group: AllUsers, permission: WRITE}]", "acl_grant: [{group: AllUsers, permission: WRITE}]",
     "accounts[0].buckets[5].acl_grant", "unknown key"),
    ("bucket: velora-telematics-data-lake", "bucket: velora-telematics-lake", "accounts[0].access_points[0].bucket",
     "no bucket 'velora-telematics-lake' in this account"),
    ("{fake: customer_csv, batch: 18, rows: 12}", "{fake: customer_cvs, batch: 18, rows: 12}",
     "accounts[1].buckets[1].objects.responses/2018/wave1.csv", "an object's content is text, !!binary bytes, {fake"),
    ("db_instance: velora-customers-db", "db_cluster: velora-customers-db\n        db_instance: velora-customers-db",
     "accounts[0].db_snapshots[0]", "give exactly one of db_instance and db_cluster"),
])
def test_a_mistake_in_the_aws_estate_names_file_line_and_key(tmp_path: Path, old: str, new: str, where: str,
                                                             message: str) -> None:
    path, line = _edited(tmp_path, "aws.yaml", old, new)
    errors = _errors(aws_estate_spec, path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}:") and f": {where}: " in errors[0] and message in errors[0]
    reported = int(errors[0].split(":")[1])
    assert line - 12 <= reported <= line, f"line {reported} is not near the edit on line {line}"
    if where.endswith(("expected", "acl_grant", ".bucket")):
        assert reported == line


def test_a_name_declared_twice_is_an_error(tmp_path: Path) -> None:
    path, line = _edited(tmp_path, "gcp.yaml", "- name: velora-terraform-state\n",
                         "- name: velora-vehicle-firmware\n")
    assert _errors(gcp_estate_spec, path) == [
        f"{path}:{line}: projects[0].buckets[6].name: bucket 'velora-vehicle-firmware' is declared twice"]
    path, line = _edited(tmp_path, "azure.yaml", "id: b8e2d4f6-1a3c-4e5b-9d7f-2c4e6a8b0d1f", "id: sandbox")
    (error,) = _errors(azure_estate_spec, path)
    assert error.startswith(f"{path}:{line}: subscriptions[2].id: 'sandbox' is not a subscription id")


def test_history_must_undo_every_change_it_makes(tmp_path: Path) -> None:
    text = (ESTATE_DIR / "history.yaml").read_text()
    path = tmp_path / "history.yaml"
    path.write_text(text[: text.index("  - days_ago: 0.25")])  # the vendor share is never removed
    put_line = text[: text.index("      - action: put_bucket_policy")].count("\n") + 1
    assert _errors(demo_history, path) == [
        f"{path}:{put_line}: steps[0].actions[0]: no later step deletes the bucket_policy of velora-ci-artifacts: "
        "the final scan would not see the estate as seeded"]

    path.write_text(text.replace("days_ago: 3\n", "days_ago: 30\n"))
    (error,) = _errors(demo_history, path)
    assert ": steps[2].days_ago: steps must go forward in time" in error

    path.write_text(text.replace("action: delete_public_access_block, bucket: velora-dealer-upload-inbox",
                                 "action: delete_public_access_block, bucket: velora-web-assets"))
    errors = _errors(demo_history, path)
    assert any("steps[1].actions[0]: deletes the public_access_block of velora-web-assets, which no earlier step "
               "put" in e for e in errors), errors
    assert any("no later step deletes the public_access_block of velora-dealer-upload-inbox" in e for e in errors)


def test_generated_content_is_deterministic_fake_data() -> None:
    csv = render(CustomerCsv(fake="customer_csv", batch=18, rows=12))
    assert csv == customer_csv(18, 12) == render(CustomerCsv(fake="customer_csv", batch=18, rows=12))
    lines = csv.decode().splitlines()
    assert len(lines) == 13 and lines[0].startswith("vin,first_name,last_name,email")
    assert all("@example.com" in line for line in lines[1:])
    assert render(Pdf(fake="pdf", title="C3 brochure")).startswith(b"%PDF-1.4\n% Velora Motors - C3 brochure")
    assert render("text\n") == b"text\n" and render(b"\xff\xd8") == b"\xff\xd8"


def test_a_generator_missing_its_argument_names_the_key(tmp_path: Path) -> None:
    path, line = _edited(tmp_path, "azure.yaml", "{fake: pdf, title: C3 brochure}", "{fake: pdf}")
    assert _errors(azure_estate_spec, path) == [
        f"{path}:{line}: subscriptions[0].storage_accounts[0].containers[0].blobs.2025/velora-c3.pdf.title: "
        "required key is missing"]
