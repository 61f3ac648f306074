"""An index on alert_outbox.fingerprint: the outbox hook looks up a finding's earlier alerts (for the tags of a
resource the scan did not see) by fingerprint alone, which the (target, fingerprint) index cannot serve.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_alert_outbox_fingerprint", "alert_outbox", ["fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_alert_outbox_fingerprint", table_name="alert_outbox")
