"""The WhatsApp templates Boutik created at its provider, and where each stands with Meta.

Why in the database and not in config.toml: `boutik twilio templates sync` (or, on the Cloud
API, `boutik meta templates sync`) creates them (at Twilio one per menu shape; at both one per
out-of-window notification and language) and `status` follows their approval, which changes on
Meta's schedule, not on a deploy. The outbox worker reads these
rows to pick a menu's template by its exact shape, and, outside the 24 h window, only an
approved notification template. The core stores and answers; it never calls Twilio.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commerce import clock
from commerce.db import Base

MENU_LANGUAGE = "fr"  # menus carry every word in variables: one template serves both languages


class ApprovalStatus(StrEnum):
    """Twilio's WhatsApp approval statuses (`ApprovalRequests` → `whatsapp.status`)."""

    UNSUBMITTED = "unsubmitted"
    RECEIVED = "received"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"

    @classmethod
    def parse(cls, value: object) -> ApprovalStatus:
        """Twilio's status string; one this code does not know counts as not approved."""
        try:
            return cls(str(value or "").lower())
        except ValueError:
            return cls.PENDING


class TemplatePurpose(StrEnum):
    MENU = "menu"  # a menu shape, sent inside the 24 h window (needs no approval)
    NOTICE = "notice"  # a notification kind, the only thing WhatsApp lets out of the window


class ContentTemplate(Base):
    __tablename__ = "content_templates"
    __table_args__ = (
        UniqueConstraint("provider", "key", "language"),
        UniqueConstraint("provider", "friendly_name"),
        UniqueConstraint("content_sid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who holds it: "twilio" (a Content API template, `content_sid` "HX…") or "meta" (a
    # WhatsApp Business Management API template, sent by `friendly_name` = its name + language;
    # `content_sid` holds Meta's template id).
    provider: Mapped[str] = mapped_column(String(16), default="twilio")
    purpose: Mapped[TemplatePurpose]
    # The menu shape ("quick_reply_2", "list_picker_7_described") or the notice kind.
    key: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    friendly_name: Mapped[str] = mapped_column(String(80))
    content_sid: Mapped[str] = mapped_column(String(34))
    content_type: Mapped[str] = mapped_column(String(32))
    approval: Mapped[ApprovalStatus] = mapped_column(default=ApprovalStatus.UNSUBMITTED)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    checked_at: Mapped[dt.datetime | None]


TWILIO, META = "twilio", "meta"


def menu_sids(session: Session) -> dict[str, str]:
    """Shape → ContentSid of every stored Twilio menu template (inside the window, approval is
    moot). The Cloud API needs none: it sends buttons and lists in session as they are."""
    rows = session.execute(
        select(ContentTemplate.key, ContentTemplate.content_sid).where(
            ContentTemplate.provider == TWILIO, ContentTemplate.purpose == TemplatePurpose.MENU
        )
    )
    return {key: sid for key, sid in rows}


def approved_template(
    session: Session, *, kind: str, language: str, provider: str = TWILIO
) -> ContentTemplate | None:
    """The approved template of a notice kind in `language` at `provider`, or None (pending,
    rejected, none)."""
    return session.scalar(
        select(ContentTemplate).where(
            ContentTemplate.provider == provider,
            ContentTemplate.purpose == TemplatePurpose.NOTICE,
            ContentTemplate.key == kind,
            ContentTemplate.language == language,
            ContentTemplate.approval == ApprovalStatus.APPROVED,
        )
    )


def approved_sid(session: Session, *, kind: str, language: str) -> str:
    """The approved Twilio template of a notice kind in `language`, or "" (pending, rejected,
    none)."""
    row = approved_template(session, kind=kind, language=language, provider=TWILIO)
    return row.content_sid if row is not None else ""


def all_templates(session: Session, provider: str = TWILIO) -> list[ContentTemplate]:
    return list(
        session.scalars(
            select(ContentTemplate)
            .where(ContentTemplate.provider == provider)
            .order_by(ContentTemplate.purpose, ContentTemplate.key, ContentTemplate.language)
        )
    )


def by_friendly_name(session: Session, provider: str = TWILIO) -> dict[str, ContentTemplate]:
    return {
        row.friendly_name: row
        for row in session.scalars(
            select(ContentTemplate).where(ContentTemplate.provider == provider)
        )
    }


def forget_all_but(session: Session, wanted: set[str], provider: str = TWILIO) -> list[str]:
    """Delete `provider`'s rows whose friendly_name is not `wanted` (templates the code no
    longer sends through); their names, for the sync's report."""
    forgotten = []
    for name, row in by_friendly_name(session, provider=provider).items():
        if name not in wanted:
            session.delete(row)
            forgotten.append(name)
    return forgotten


def record(
    session: Session,
    *,
    purpose: TemplatePurpose,
    key: str,
    language: str,
    friendly_name: str,
    content_sid: str,
    content_type: str,
    approval: ApprovalStatus,
    provider: str = TWILIO,
) -> ContentTemplate:
    """Store (or correct) what `provider` holds under `friendly_name`: one row per template."""
    row = session.scalar(
        select(ContentTemplate).where(
            ContentTemplate.provider == provider, ContentTemplate.friendly_name == friendly_name
        )
    )
    if row is None:
        row = ContentTemplate(provider=provider, friendly_name=friendly_name)
        session.add(row)
    row.purpose, row.key, row.language = purpose, key, language
    row.content_sid, row.content_type, row.approval = content_sid, content_type, approval
    session.flush()
    return row


def set_approval(
    session: Session, *, content_sid: str, approval: ApprovalStatus, rejection_reason: str = ""
) -> ContentTemplate | None:
    row = session.scalar(select(ContentTemplate).where(ContentTemplate.content_sid == content_sid))
    if row is not None:
        row.approval = approval
        row.rejection_reason = rejection_reason
        row.checked_at = clock.now()
    return row
