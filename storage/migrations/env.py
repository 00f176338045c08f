"""Alembic environment: always driven from `storage.migrate`, which hands over a live connection."""

from __future__ import annotations

from alembic import context

import storage.models  # noqa: F401  (registers the tables on the metadata)
from storage.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `paket-bot db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
