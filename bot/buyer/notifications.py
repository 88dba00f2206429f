"""How the buyer sees the notifications the core writes about their orders.

Registered with `@renders(kind)`; the worker renders at send time in the buyer's language.
Notifications that ask something (cash handed over? how many stars?) carry buttons whose ids
the buyer flow routes like any tap ("cash:yes:1042", "rate:1042:5").

Why the menu is remembered here: a buyer on SMS (or WhatsApp without button templates) reads
"1. Oui 2. Non" and answers "1". The engine maps a number to the *last menu of the
conversation*, which a notification never was; so the renderer records its choices as that
menu, in the buyer's conversations, in the same transaction that claims the message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.threads  # noqa: F401 - registers the support-thread renderers
from bot import i18n
from bot.buyer.common import BUTTON_MAX, cut, first_name
from bot.buyer.qr import qr_path
from bot.messages import Choice, Choices, Image, Reply, Text
from bot.notifications import renders
from commerce.catalog.models import Product, Shop
from commerce.delivery import codes
from commerce.messaging.models import ConversationState
from commerce.messaging.notices import Notice
from commerce.orders import queries
from commerce.orders.models import DeliveryMode, Order
from commerce.reviews.models import Review
from commerce.users.models import User


def _remember_menu(session: Session, user: User, reply: Choices) -> None:
    menu = [[c.id, c.label] for c in reply.choices]
    for conv in session.scalars(
        select(ConversationState).where(
            ConversationState.user_id == user.id, ConversationState.flow == "buyer"
        )
    ):
        conv.data = {**(conv.data or {}), "menu": menu}


def _int(params: dict[str, Any], key: str) -> int:
    value = params.get(key)
    return value if isinstance(value, int) else 0


def _menu(session: Session, user: User, text: str, options: list[Choice]) -> Choices:
    reply = Choices(
        text=text, choices=tuple(Choice(c.id, cut(c.label, BUTTON_MAX)) for c in options)
    )
    _remember_menu(session, user, reply)
    return reply


@renders(Notice.CONFIRM_CASH)
def confirm_cash(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    order_id = _int(params, "order_id")
    text = i18n.t(
        lang, "buyer.notify.confirm_cash", order_id=order_id, total_gnf=_int(params, "total")
    )
    return _menu(
        session,
        user,
        text,
        [
            Choice(f"cash:yes:{order_id}", i18n.t(lang, "buyer.notify.yes")),
            Choice(f"cash:no:{order_id}", i18n.t(lang, "buyer.notify.no")),
        ],
    )


@renders(Notice.REVIEW_PROMPT)
def review_prompt(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    order_id = _int(params, "order_id")
    text = i18n.t(lang, "buyer.notify.review_prompt", order_id=order_id)
    options = [
        Choice(f"rate:{order_id}:{n}", i18n.t(lang, f"buyer.review.r{n}")) for n in range(1, 6)
    ]
    return _menu(session, user, text, options)


# A seller's reply shown to the buyer: enough to read it in WhatsApp, bounded (issue 19).
REPLY_SHOWN_MAX = 300


@renders(Notice.REVIEW_REPLIED)
def review_replied(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """The seller's words themselves, with the shop's name and the product reviewed."""
    review = session.get(Review, _int(params, "review_id"))
    product = session.get(Product, review.product_id) if review else None
    shop = session.get(Shop, product.shop_id) if product else None
    if review is None or product is None or shop is None or not review.seller_reply:
        return Text(i18n.t(lang, "notify.review_replied"))
    return Text(
        i18n.t(
            lang,
            "buyer.notify.review_replied",
            shop=cut(shop.name, 60),
            product=cut(product.name, 60),
            reply=cut(review.seller_reply, REPLY_SHOWN_MAX),
        )
    )


@renders(Notice.COURIER_ASSIGNED)
def courier_assigned(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    order = session.get(Order, _int(params, "order_id"))
    name = first_name(queries.courier_name(session, order)) if order else ""
    if not name:
        return Text(i18n.t(lang, "notify.courier_assigned", order_id=_int(params, "order_id")))
    return Text(
        i18n.t(lang, "buyer.notify.courier_assigned", order_id=_int(params, "order_id"), name=name)
    )


@renders(Notice.RETURN_APPROVED)
def return_approved(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return_id = _int(params, "return_id")
    text = i18n.t(
        lang, "buyer.notify.return_approved", return_id=return_id, order_id=_int(params, "order_id")
    )
    return _menu(
        session,
        user,
        text,
        [Choice(f"refund:{return_id}", i18n.t(lang, "buyer.notify.refund_received"))],
    )


@renders(Notice.CONFIRM_REFUND)
def confirm_refund(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """The courier collected the parcel and handed the refund over: ask the buyer to confirm."""
    return_id = _int(params, "return_id")
    text = i18n.t(
        lang,
        "buyer.notify.confirm_refund",
        return_id=return_id,
        amount_gnf=_int(params, "amount"),
    )
    return _menu(
        session,
        user,
        text,
        [Choice(f"refund:{return_id}", i18n.t(lang, "buyer.notify.refund_received"))],
    )


def _favourite_news(
    session: Session, user: User, params: dict[str, Any], lang: str, kind: Notice
) -> Reply:
    """A favourite's news with one tap to its card (the card re-checks it is still for sale)."""
    product = session.get(Product, _int(params, "product_id"))
    if product is None:
        return Text(i18n.t(lang, f"notify.{kind}"))
    text = i18n.t(
        lang,
        f"buyer.notify.{kind}",
        name=cut(product.name, 60),
        price_gnf=_int(params, "price"),
        old_price_gnf=_int(params, "old_price"),
    )
    see = Choice(f"prod:{product.id}", i18n.t(lang, "buyer.notify.see_product"))
    return _menu(session, user, text, [see])


@renders(Notice.FAVOURITE_PRICE_DROP)
def favourite_price_drop(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return _favourite_news(session, user, params, lang, Notice.FAVOURITE_PRICE_DROP)


@renders(Notice.FAVOURITE_BACK_IN_STOCK)
def favourite_back(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return _favourite_news(session, user, params, lang, Notice.FAVOURITE_BACK_IN_STOCK)


@renders(Notice.CODE_REISSUED)
def code_reissued(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """An admin reissued a locked code: the new QR and PIN, captioned as at checkout.

    The PIN is read from the code row at send time (it never sits in the outbox). The QR PNG
    was written by whoever reissued it (bot/admin/handlers.py, as checkout does for the first
    one): its path follows from the token alone.
    """
    order = session.get(Order, _int(params, "order_id"))
    code = (
        codes.find_code(session, order.id)
        if order is not None and order.buyer_id == user.id
        else None
    )
    if order is None or code is None:
        return Text(i18n.t(lang, "notify.code_reissued", order_id=_int(params, "order_id")))
    shop = queries.shop(session, order.shop_id)
    pickup = order.delivery_mode == DeliveryMode.PICKUP
    caption = "\n".join(
        (
            i18n.t(lang, "buyer.notify.code_reissued"),
            i18n.t(
                lang,
                "buyer.confirm.order",
                number=order.number,
                shop=shop.name if shop else "",
                total_gnf=order.total,
                pin=code.pin,
                how=i18n.t(
                    lang, "buyer.confirm.how_pickup" if pickup else "buyer.confirm.how_home"
                ),
            ),
        )
    )
    return Image(media_path=qr_path(order_id=order.id, token=code.token), caption=caption)
