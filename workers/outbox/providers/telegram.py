"""Sending a planned row through the Telegram Bot API (python-telegram-bot, via our wrapper).

Why it exists: Telegram's rendering and limits are its own — inline keyboards, a spinner to
stop on a pressed button (answerCallbackQuery), ~30 msg/s overall and ~1 msg/s per chat, photos
sent as bytes or, for a seller's photo not downloaded yet, as Telegram's own file id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from channels_adapters import render
from channels_adapters.senders import SendError, SendResult
from commerce.users.models import Channel
from workers.outbox.lease import pace

if TYPE_CHECKING:
    from workers.outbox.lease import Lease
    from workers.outbox.plan import Plan
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")

TELEGRAM_FILE = "telegram:"  # a media path naming a Telegram file_id (see workers/seller_media)


class TelegramBot:
    """Telegram chats, through `rt.telegram_sender`."""

    channels = frozenset({Channel.TELEGRAM})

    def send(self, rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
        return send_telegram(rt, plan, job)


def send_telegram(rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
    cfg = rt.config
    req = render.render_telegram(plan.reply, lang=plan.lang)  # type: ignore[arg-type]
    pace(
        rt,
        plan.outbox_id,
        [
            ("tg", cfg.telegram.rate_per_s, 1),
            (f"tg:{plan.address}", cfg.telegram.rate_per_chat_per_s, 1),
        ],
        job,
    )
    sender = rt.telegram_sender
    if plan.callback_query_id:
        try:
            sender.answer_callback_query(plan.callback_query_id)
        except SendError as exc:  # an expired spinner is not worth failing the reply for
            log.info("answerCallbackQuery failed: %s", exc)
    if plan.close_message_id:
        try:  # the finished step's buttons go (editMessageReplyMarkup without a markup)
            sender.edit_message_reply_markup(plan.address, plan.close_message_id)
        except SendError as exc:
            if exc.retryable:
                raise  # 429 or network: the row is retried, edit first
            # Already without buttons (a retry), deleted, or too old: the answer matters more.
            log.info("editMessageReplyMarkup failed: %s", exc)
    if req.method == "send_photo":
        photo: bytes | str
        if req.photo_path.startswith(TELEGRAM_FILE):
            # A seller's photo not downloaded yet: Telegram re-sends its own file by id.
            photo = req.photo_path.removeprefix(TELEGRAM_FILE)
        else:
            photo = (cfg.media_dir / req.photo_path).read_bytes()
        return sender.send_photo(
            plan.address, photo, caption=req.text or None, reply_markup=req.reply_markup
        )
    if req.method == "send_document":
        data = (cfg.media_dir / req.photo_path).read_bytes()
        return sender.send_document(plan.address, data, req.filename, caption=req.text or None)
    return sender.send_message(plan.address, req.text, reply_markup=req.reply_markup)
