"""Large CSV exports, built by a worker and sent to the admin as a Telegram document.

An export of many thousand rows would hold a webhook turn for seconds; the admin flow answers
at once ("le fichier suit…") and records `export_requested(admin_id, kind)`, started here after
the turn commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import i18n
from bot.messages import Document, reply_to_json
from commerce.db import unit_of_work
from commerce.exports import ExportKind, export_filename, write_csv
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, take_pending_ids
from commerce.users.models import Channel, User
from workers.dispatch import slow_job

if TYPE_CHECKING:
    from workers.ports import Runtime


@slow_job
def build_export(rt: Runtime, admin_id: int, kind_index: int) -> int:
    """Write the CSV and queue it for the admin; returns the number of records."""
    kind = list(ExportKind)[kind_index]
    with unit_of_work(rt.session_factory) as session:
        admin = session.get(User, admin_id)
        if admin is None or admin.telegram_id is None:
            return 0
        filename, relative = export_filename(kind, admin_id)
        total = write_csv(
            session, admin_id=admin_id, kind=kind, target=rt.config.media_dir / relative
        )
        lang = admin.language.value
        caption = i18n.t(
            lang,
            "admin.export.caption",
            kind=i18n.t(lang, f"admin.export.{kind.value}"),
            count=total,
        )
        document = Document(media_path=relative, filename=filename, caption=caption)
        notify(
            session,
            user_id=admin.id,
            kind=Notice.REPLY,
            params={"reply": reply_to_json(document)},
            essential=True,
            channel=Channel.TELEGRAM,
            address=str(admin.telegram_id),
        )
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    return total
