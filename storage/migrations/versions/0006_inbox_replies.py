"""replies held in the inbox row until they are sent

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00

A handler's replies are written with its update's transaction into `inbox.replies` and sent
after the commit, so no database lock is held while Telegram answers. A row still `handling`
with replies was applied already: a worker that takes it over sends the replies instead of
handling the update again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("replies", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("replies")
