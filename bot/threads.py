"""Support threads in the chats: what each side sees, and the staff side's buttons.

The seller (or admin) gets the buyer's words on Telegram with Reply and Close (or Release, for a
hand-off) buttons; the buyer gets the answer as text on their own channel and simply types to
continue. The seller and admin flows both include `STAFF_ROUTES` and the `REPLY_STATE` state.
Callback data carry the thread id only; the core checks the tapper is the thread's staff side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.flow import ANY_TEXT, Context, Result, Route, payload
from bot.handoff_flow import end_thread
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from bot.notifications import default_text, renders
from commerce.catalog.models import Product, Shop
from commerce.errors import InvalidInput, PermissionDenied
from commerce.messaging.notices import Notice
from commerce.orders.models import Order
from commerce.threads import (
    SupportThread,
    ThreadKind,
    ThreadStatus,
    post_message,
    thread_for,
)
from commerce.users.models import User

REPLY_STATE = "thread_reply"  # the staff side is typing an answer
IDLE_STATE = "menu"  # the seller and admin flows both call their idle state "menu"


# --- rendering --------------------------------------------------------------------------------


def _thread(session: Session, params: dict[str, Any]) -> SupportThread | None:
    thread_id = params.get("thread_id")
    if not isinstance(thread_id, int) or isinstance(thread_id, bool):
        return None
    return session.get(SupportThread, thread_id)


def _product(session: Session, thread: SupportThread) -> Product | None:
    return session.get(Product, thread.product_id) if thread.product_id else None


def staff_name(session: Session, thread: SupportThread, lang: str) -> str:
    """How the buyer sees who answers: the shop's name, else the Boutik team."""
    product = _product(session, thread)
    shop = session.get(Shop, product.shop_id) if product else None
    if shop is None and thread.order_id:
        order = session.get(Order, thread.order_id)
        shop = session.get(Shop, order.shop_id) if order else None
    if shop is not None and shop.owner_id == thread.staff_id:
        return shop.name
    return i18n.t(lang, "buyer.thread.team")


def staff_buttons(thread: SupportThread, lang: str) -> tuple[Choice, ...]:
    last = (
        Choice(f"th:x:{thread.id}", i18n.t(lang, "seller.thread.release"))
        if thread.kind == ThreadKind.HANDOFF
        else Choice(f"th:c:{thread.id}", i18n.t(lang, "seller.thread.close"))
    )
    return (Choice(f"th:r:{thread.id}", i18n.t(lang, "seller.thread.reply")), last)


def _for_staff(thread: SupportThread, text: str, lang: str) -> Reply:
    if thread.status != ThreadStatus.OPEN:
        return Text(text)
    return Choices(text=text, choices=staff_buttons(thread, lang))


@renders(Notice.THREAD_OPENED)
def thread_opened(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """To the staff side: the buyer's first words, with the product or order concerned."""
    thread = _thread(session, params)
    if thread is None:
        return default_text(Notice.THREAD_OPENED, params, lang)
    text = str(params.get("text", ""))
    if thread.kind == ThreadKind.QUESTION:
        product = _product(session, thread)
        body = i18n.t(
            lang,
            "seller.thread.question",
            product=product.name if product else "?",
            product_id=thread.product_id,
            text=text,
        )
    else:
        order = (
            i18n.t(lang, "seller.thread.order", number=thread.order_id) if thread.order_id else ""
        )
        body = i18n.t(lang, "seller.thread.handoff", order=order, text=text)
    return _for_staff(thread, body, lang)


@renders(Notice.THREAD_MESSAGE)
def thread_message(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    thread = _thread(session, params)
    if thread is None:
        return default_text(Notice.THREAD_MESSAGE, params, lang)
    text = str(params.get("text", ""))
    product = _product(session, thread)
    if user.id == thread.staff_id:
        about = i18n.t(lang, "seller.thread.about", product=product.name) if product else ""
        body = i18n.t(lang, "seller.thread.message", thread_id=thread.id, about=about, text=text)
        return _for_staff(thread, body, lang)
    who = staff_name(session, thread, lang)
    if thread.kind == ThreadKind.QUESTION and product is not None:
        return Text(i18n.t(lang, "buyer.thread.answer", who=who, product=product.name, text=text))
    return Text(i18n.t(lang, "buyer.thread.human_says", who=who, text=text))


@renders(Notice.THREAD_CLOSED)
def thread_closed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    thread = _thread(session, params)
    if thread is None:
        return default_text(Notice.THREAD_CLOSED, params, lang)
    if user.id == thread.staff_id:
        return Text(i18n.t(lang, "seller.thread.closed_other", thread_id=thread.id))
    who = staff_name(session, thread, lang)
    if thread.kind == ThreadKind.HANDOFF:
        return Text(i18n.t(lang, "buyer.thread.released", who=who))
    return Text(i18n.t(lang, "buyer.thread.closed_other", who=i18n.t(lang, "buyer.thread.seller")))


@renders(Notice.THREAD_HANDOFF)
def thread_handoff(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """To the buyer: a person now holds the conversation."""
    thread = _thread(session, params)
    if thread is None:
        return default_text(Notice.THREAD_HANDOFF, params, lang)
    return Text(i18n.t(lang, "buyer.thread.handoff", who=staff_name(session, thread, lang)))


# --- the staff side's buttons (seller and admin flows) ------------------------------------------


def _thread_id(msg: InboundMessage) -> int:
    """The id in "th:r:12"; a forged one is refused."""
    try:
        value = int(msg.payload.split(":")[2])
    except (IndexError, ValueError):
        raise InvalidInput("bad button", payload=msg.payload[:64]) from None
    if not 0 < value < 2**31:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    return value


def _staff_thread(ctx: Context, thread_id: int) -> SupportThread:
    thread = thread_for(ctx.session, thread_id=thread_id, user_id=ctx.user.id)
    if thread.staff_id != ctx.user.id:
        raise PermissionDenied("not your thread", thread_id=thread_id)
    return thread


def reply_ask(msg: InboundMessage, ctx: Context) -> Result:
    thread = _staff_thread(ctx, _thread_id(msg))
    if thread.status != ThreadStatus.OPEN:
        return IDLE_STATE, [Text(ctx.t("seller.thread.already_closed"))]
    ctx.data["thread"] = thread.id
    return REPLY_STATE, [Text(ctx.t("seller.thread.write"))]


def reply_text(msg: InboundMessage, ctx: Context) -> Result:
    thread_id = ctx.data.pop("thread", None)
    if not isinstance(thread_id, int):
        return IDLE_STATE, [Text(ctx.t("seller.thread.already_closed"))]
    thread = _staff_thread(ctx, thread_id)
    if thread.status != ThreadStatus.OPEN:
        return IDLE_STATE, [Text(ctx.t("seller.thread.already_closed"))]
    post_message(ctx.session, thread_id=thread.id, author_id=ctx.user.id, text=msg.text)
    sent = Choices(text=ctx.t("seller.thread.sent"), choices=staff_buttons(thread, ctx.lang))
    return IDLE_STATE, [sent]


def close(msg: InboundMessage, ctx: Context) -> Result:
    """th:c:<id> closes a question; th:x:<id> releases a hand-off (both close the thread)."""
    thread = _staff_thread(ctx, _thread_id(msg))
    if thread.status != ThreadStatus.OPEN:
        return IDLE_STATE, [Text(ctx.t("seller.thread.already_closed"))]
    end_thread(ctx.session, thread_id=thread.id, actor_id=ctx.user.id)
    ctx.data.pop("thread", None)
    handoff = thread.kind == ThreadKind.HANDOFF
    key = "seller.thread.released" if handoff else "seller.thread.closed_you"
    return IDLE_STATE, [Text(ctx.t(key, thread_id=thread.id))]


STAFF_ROUTES: tuple[Route, ...] = (
    (payload("th:r:"), reply_ask),
    (payload("th:c:"), close),
    (payload("th:x:"), close),
)
REPLY_ROUTES: tuple[Route, ...] = ((ANY_TEXT, reply_text),)
