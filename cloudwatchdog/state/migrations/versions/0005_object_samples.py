"""Data sampling remembers what it found per object version (``object_samples``: counts and masked examples only),
so an unchanged object is not read again on the next scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "object_samples",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_object_samples")),
    )
    op.create_index(op.f("ix_object_samples_seen_at"), "object_samples", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_object_samples_seen_at"), table_name="object_samples")
    op.drop_table("object_samples")
