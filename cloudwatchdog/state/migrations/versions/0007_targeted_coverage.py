"""A scan's coverage of an account may be targeted (a rescan driven by a change event): the resources it read, as
``type:name``, are kept in ``targeted_coverage`` (one row per targeted account of a scan; a coverage row without
one is a scan of the whole account).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "targeted_coverage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name=op.f("fk_targeted_coverage_scan_id_scans"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeted_coverage")),
    )
    op.create_index("ix_targeted_coverage_scan", "targeted_coverage", ["scan_id", "provider", "account"])


def downgrade() -> None:
    op.drop_index("ix_targeted_coverage_scan", table_name="targeted_coverage")
    op.drop_table("targeted_coverage")
