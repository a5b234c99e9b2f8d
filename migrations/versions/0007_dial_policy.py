"""organisations' toll-fraud guard: allowed countries and denied prefixes

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("allowed_countries", postgresql.ARRAY(sa.String(length=2)), nullable=True),
    )
    op.add_column(
        "organizations",
        sa.Column(
            "denied_prefixes",
            postgresql.ARRAY(sa.String(length=16)),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("organizations", "denied_prefixes")
    op.drop_column("organizations", "allowed_countries")
