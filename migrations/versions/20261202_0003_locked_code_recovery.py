"""Locked delivery codes can be reissued; wrong PINs are counted per person.

Why: a code locked after 5 wrong PINs could never be reset, and a courier holding 5 jobs could
try 25 PINs. `delivery_codes` records the last reissue (who, when, how many); `pin_guards` is
the row each PIN check locks, holding a person's PIN pause; `pin_failures` holds their wrong
PINs for the sliding window (`[delivery] courier_pin_max_failures`, `courier_pin_window_s`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import commerce.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pin_guards",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paused_at", commerce.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("counts_from", commerce.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", commerce.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lifted_by"], ["users.id"], name=op.f("fk_pin_guards_lifted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pin_guards_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_pin_guards")),
    )
    op.create_table(
        "pin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", commerce.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_pin_failures_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pin_failures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_failures")),
    )
    op.create_index("ix_pin_failures_user_at", "pin_failures", ["user_id", "at"], unique=False)
    with op.batch_alter_table("delivery_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reissued_at", commerce.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reissued_by", sa.Integer(), nullable=True))
        # Existing codes were never reissued; the default only fills them in.
        batch_op.add_column(
            sa.Column("reissues", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_codes_reissued_by_users"), "users", ["reissued_by"], ["id"]
        )
    with op.batch_alter_table("delivery_codes", schema=None) as batch_op:
        batch_op.alter_column("reissues", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("delivery_codes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_delivery_codes_reissued_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("reissues")
        batch_op.drop_column("reissued_by")
        batch_op.drop_column("reissued_at")
    op.drop_index("ix_pin_failures_user_at", table_name="pin_failures")
    op.drop_table("pin_failures")
    op.drop_table("pin_guards")
