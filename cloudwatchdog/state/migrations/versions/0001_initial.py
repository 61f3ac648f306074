"""Initial schema: scans and their coverage, findings with their events and open intervals, resource states with
their public intervals, CLI suppressions, generated reports.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    meta = op.create_table(
        "store_meta",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_store_meta"),
    )
    op.bulk_insert(meta, [{"id": 1, "created_at": datetime.now(UTC).replace(microsecond=0)}])

    op.create_table(
        "scans",
        sa.Column("id", sa.String(64), nullable=False),
        _time("started_at"),
        _time("finished_at"),
        _time("recorded_at"),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scans"),
    )
    op.create_index("ix_scans_recorded_at", "scans", ["recorded_at"])

    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_coverage_scan_id_scans", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_coverage"),
    )
    op.create_index("ix_coverage_provider_account", "coverage", ["provider", "account"])
    op.create_index("ix_coverage_scan_id", "coverage", ["scan_id"])

    op.create_table(
        "findings",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("resource_uid", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        _time("resolved_at", nullable=True),
        sa.Column("last_scan_id", sa.String(64), nullable=True),
        _time("updated_at"),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_findings"),
    )
    op.create_index("ix_findings_provider_account", "findings", ["provider", "account"])
    op.create_index("ix_findings_resource_uid", "findings", ["resource_uid"])
    op.create_index("ix_findings_state", "findings", ["state"])

    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("scan_id", sa.String(64), nullable=True),
        _time("at"),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("old_state", sa.String(16), nullable=True),
        sa.Column("old_severity", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["fingerprint"], ["findings.fingerprint"],
                                name="fk_finding_events_fingerprint_findings"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_finding_events_scan_id_scans"),
        sa.PrimaryKeyConstraint("id", name="pk_finding_events"),
    )
    op.create_index("ix_finding_events_at", "finding_events", ["at"])
    op.create_index("ix_finding_events_fingerprint", "finding_events", ["fingerprint"])
    op.create_index("ix_finding_events_scan_id", "finding_events", ["scan_id"])

    op.create_table(
        "finding_intervals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.ForeignKeyConstraint(["fingerprint"], ["findings.fingerprint"],
                                name="fk_finding_intervals_fingerprint_findings"),
        sa.PrimaryKeyConstraint("id", name="pk_finding_intervals"),
    )
    op.create_index("ix_finding_intervals_fingerprint", "finding_intervals", ["fingerprint"])

    op.create_table(
        "resource_state",
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("latent", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("unknown", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        sa.Column("last_scan_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("uid", name="pk_resource_state"),
    )
    op.create_index("ix_resource_state_provider_account", "resource_state", ["provider", "account"])
    op.create_index("ix_resource_state_public", "resource_state", ["public"])

    op.create_table(
        "resource_intervals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.ForeignKeyConstraint(["uid"], ["resource_state.uid"], name="fk_resource_intervals_uid_resource_state"),
        sa.PrimaryKeyConstraint("id", name="pk_resource_intervals"),
    )
    op.create_index("ix_resource_intervals_started_at", "resource_intervals", ["started_at"])
    op.create_index("ix_resource_intervals_uid", "resource_intervals", ["uid"])

    op.create_table(
        "suppressions",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_suppressions"),
    )

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _time("generated_at"),
        _time("period_start"),
        sa.Column("formats", sa.String(200), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
    )
    op.create_index("ix_reports_generated_at", "reports", ["generated_at"])


def downgrade() -> None:
    for table in ("reports", "suppressions", "resource_intervals", "resource_state", "finding_intervals",
                  "finding_events", "findings", "coverage", "scans", "store_meta"):
        op.drop_table(table)
