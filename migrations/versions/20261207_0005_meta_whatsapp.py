"""WhatsApp through Meta's Cloud API beside Twilio: longer provider ids, templates per provider.

Why: a Cloud API message id ("wamid.HBgL…") can be longer than the 64 characters Twilio's
SIDs needed, both as an inbound de-duplication key and as the outbox row's provider id; and the
WhatsApp templates a deployment uses now live at Twilio (Content API) or at Meta (message
templates of the WhatsApp Business Account), so each row says which, and names and keys are
unique per provider.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.alter_column(
            "external_id", existing_type=sa.String(length=64), type_=sa.String(length=128)
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "provider_message_id", existing_type=sa.String(length=64), type_=sa.String(length=128)
        )
    with op.batch_alter_table("content_templates", schema=None) as batch_op:
        # Every template made so far was made at Twilio; the default only fills them in.
        batch_op.add_column(
            sa.Column(
                "provider", sa.String(length=16), nullable=False, server_default="twilio"
            )
        )
        batch_op.drop_constraint("uq_content_templates_key_language", type_="unique")
        batch_op.drop_constraint("uq_content_templates_friendly_name", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_content_templates_provider_key_language"),
            ["provider", "key", "language"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_content_templates_provider_friendly_name"),
            ["provider", "friendly_name"],
        )
    with op.batch_alter_table("content_templates", schema=None) as batch_op:
        batch_op.alter_column("provider", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM content_templates WHERE provider <> 'twilio'")
    with op.batch_alter_table("content_templates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_content_templates_provider_friendly_name"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_content_templates_provider_key_language"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_content_templates_friendly_name"), ["friendly_name"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_content_templates_key_language"), ["key", "language"]
        )
        batch_op.drop_column("provider")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "provider_message_id", existing_type=sa.String(length=128), type_=sa.String(length=64)
        )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.alter_column(
            "external_id", existing_type=sa.String(length=128), type_=sa.String(length=64)
        )
