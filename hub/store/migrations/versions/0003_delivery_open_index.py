"""delivery: ix_delivery_open, a partial index on the pks of open rows (pending or sending)

Claiming walks open rows in pk order; finished rows (delivered, superseded, dead …) pile up for ever and
must not be walked on every claim.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    op.create_index("ix_delivery_open", "delivery", ["pk"], postgresql_where=_OPEN, sqlite_where=_OPEN)


def downgrade() -> None:
    op.drop_index("ix_delivery_open", table_name="delivery")
