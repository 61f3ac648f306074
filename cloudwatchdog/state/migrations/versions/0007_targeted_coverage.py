"""A scan's coverage of an account may be targeted (a rescan driven by a change event): the resources it read,
as ``type:name``, are kept in ``coverage.targets`` (NULL: the whole account was read).

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
    with op.batch_alter_table("coverage") as batch:
        batch.add_column(sa.Column("targets", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coverage") as batch:
        batch.drop_column("targets")
