"""WhatsApp content templates made by `boutik twilio templates sync`, with their approval.

Why: the menus' and notifications' ContentSids were hand-copied into config.toml; now the sync
creates them through Twilio's Content API and records each one here (its shape or notice kind,
language, SID and WhatsApp approval status), which the outbox worker reads to choose.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import commerce.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPROVALS = ("unsubmitted", "received", "pending", "approved", "rejected", "paused", "disabled")


def upgrade() -> None:
    op.create_table(
        "content_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("menu", "notice", name="templatepurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("friendly_name", sa.String(length=80), nullable=False),
        sa.Column("content_sid", sa.String(length=34), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column(
            "approval",
            sa.Enum(*_APPROVALS, name="approvalstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("created_at", commerce.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", commerce.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_templates")),
        sa.UniqueConstraint("content_sid", name=op.f("uq_content_templates_content_sid")),
        sa.UniqueConstraint("friendly_name", name=op.f("uq_content_templates_friendly_name")),
        sa.UniqueConstraint("key", "language", name=op.f("uq_content_templates_key_language")),
    )


def downgrade() -> None:
    op.drop_table("content_templates")
