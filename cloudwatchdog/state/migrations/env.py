"""Alembic environment: run by ``cloudwatchdog.state.migrate`` with an open connection (never from an ini file)."""

from __future__ import annotations

from alembic import context

from cloudwatchdog.state.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("cloudwatchdog migrations run through cloudwatchdog.state.migrate, with a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
