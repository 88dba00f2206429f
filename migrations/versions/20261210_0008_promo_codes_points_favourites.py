"""Shop promo codes, loyalty points spent at checkout, favourites (issue 19 part B).

Why: promo codes existed only in the demo seed; sellers now create codes for their own shop
(`promo_codes.shop_id`, NULL for an admin's platform code) and may switch them off
(`is_active`). An order keeps the loyalty points spent on it (`orders.points_spent`) so a
cancellation or refusal gives exactly those back. A buyer's "♥" on a product is a `favourites`
row holding the price and stock state she was last told of, so a drop or a restock is news once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import commerce.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("last_price", sa.Integer(), nullable=False),
        sa.Column("last_in_stock", sa.Boolean(), nullable=False),
        sa.Column("created_at", commerce.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_favourites_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_favourites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favourites")),
        sa.UniqueConstraint("user_id", "product_id", name=op.f("uq_favourites_user_id_product_id")),
    )
    with op.batch_alter_table("favourites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_favourites_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_favourites_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("points_spent", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("points_spent", server_default=None)

    with op.batch_alter_table("promo_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "created_at",
                commerce.db.UtcDateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.create_index(batch_op.f("ix_promo_codes_shop_id"), ["shop_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_promo_codes_created_by_id_users"), "users", ["created_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_promo_codes_shop_id_shops"), "shops", ["shop_id"], ["id"]
        )
    with op.batch_alter_table("promo_codes", schema=None) as batch_op:
        batch_op.alter_column("is_active", server_default=None)
        batch_op.alter_column("created_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("promo_codes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_promo_codes_shop_id_shops"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_promo_codes_created_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_promo_codes_shop_id"))
        batch_op.drop_column("created_at")
        batch_op.drop_column("is_active")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("shop_id")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("points_spent")
    with op.batch_alter_table("favourites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_favourites_user_id"))
        batch_op.drop_index(batch_op.f("ix_favourites_product_id"))
    op.drop_table("favourites")
