"""search_index: ix_search_resource on (rid, rtype) instead of (rtype, rid)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_index") as batch:
        batch.drop_index("ix_search_resource")
        batch.create_index("ix_search_resource", ["rid", "rtype"])


def downgrade() -> None:
    with op.batch_alter_table("search_index") as batch:
        batch.drop_index("ix_search_resource")
        batch.create_index("ix_search_resource", ["rtype", "rid"])
