"""What sellers see when the core tells them something: alerts with the buttons to act on them.

Rendered at send time, in the seller's language. The buttons carry ids only; the seller flow's
handlers check ownership again through the core when they are tapped. A record that has gone
(a product deleted since) falls back to the plain catalog sentence.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.messages import Choice, Choices, Reply, Text
from bot.notifications import default_text, renders
from bot.seller.orders import order_actions, order_text
from commerce.catalog.models import Product, Shop
from commerce.delivery.models import DeliveryJob
from commerce.ledger.models import Remittance, RemittanceStatus
from commerce.messaging.notices import Notice
from commerce.orders.models import Order
from commerce.returns.models import Return
from commerce.reviews import actions as reviews
from commerce.reviews.models import Review
from commerce.users.models import User


class _Ctx:
    """Just enough of a flow Context for the shared order formatting (t, lang and session)."""

    def __init__(self, lang: str, session: Session) -> None:
        self.lang = lang
        self.session = session

    def t(self, key: str, **params: Any) -> str:
        return i18n.t(self.lang, key, **params)


def _int(params: dict[str, Any], key: str) -> int | None:
    value = params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _owned_order(session: Session, user: User, params: dict[str, Any]) -> Order | None:
    order_id = _int(params, "order_id")
    order = session.get(Order, order_id) if order_id else None
    if order is None:
        return None
    shop = session.get(Shop, order.shop_id)
    return order if shop is not None and shop.owner_id == user.id else None


@renders(Notice.ORDER_PLACED)
def order_placed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    order = _owned_order(session, user, params)
    if order is None:
        return default_text(Notice.ORDER_PLACED, params, lang)
    ctx = _Ctx(lang, session)
    text = i18n.t(lang, "seller.notify.new_order") + "\n\n" + order_text(ctx, order)  # type: ignore[arg-type]
    actions = order_actions(ctx, order)  # type: ignore[arg-type]
    return Choices(text=text, choices=actions) if actions else Text(text)


@renders(Notice.REMITTANCE_DECLARED)
def remittance_declared(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """A courier says he handed her cash over: the one-tap confirm, or "not received"."""
    rid = _int(params, "remittance_id")
    rem = session.get(Remittance, rid) if rid else None
    if rem is None or rem.seller_id != user.id or rem.status != RemittanceStatus.DECLARED:
        return default_text(Notice.REMITTANCE_DECLARED, params, lang)
    courier = session.get(User, rem.courier_id)
    name = (courier.name if courier else "") or f"#{rem.courier_id}"
    text = i18n.t(lang, "seller.cash.notify", name=name, amount_gnf=rem.amount)
    return Choices(
        text=text,
        choices=(
            Choice(
                f"k:ok:{rem.courier_id}:{rem.amount}",
                i18n.t(lang, "seller.cash.received", amount_gnf=rem.amount, name=name),
            ),
            Choice(f"k:no:{rem.id}", i18n.t(lang, "seller.cash.not_received", name=name)),
        ),
    )


@renders(Notice.ORDER_CANCELLED)
def order_cancelled(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(i18n.t(lang, "seller.notify.order_cancelled", number=params.get("order_id", "?")))


@renders(Notice.JOB_CLAIMED)
def job_claimed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """Who took the published job, with what buyers said of him (issue 19)."""
    job = session.get(DeliveryJob, params.get("job_id") or 0)
    courier = session.get(User, job.courier_id) if job and job.courier_id else None
    if courier is None:
        return Text(i18n.t(lang, "seller.notify.job_claimed", number=params.get("order_id", "?")))
    avg, count = reviews.courier_rating(session, courier.id)
    stars = (
        i18n.t(lang, "seller.courier.stars", avg=avg, count=count)
        if avg is not None
        else i18n.t(lang, "seller.courier.unrated")
    )
    return Text(
        i18n.t(
            lang,
            "seller.notify.job_claimed_by",
            number=params.get("order_id", "?"),
            name=courier.name or "—",
            phone=courier.phone or "",
            stars=stars,
        )
    )


@renders(Notice.LOW_STOCK)
def low_stock(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    product_id = _int(params, "product_id")
    product = session.get(Product, product_id) if product_id else None
    if product is None:
        return default_text(Notice.LOW_STOCK, params, lang)
    return Choices(
        text=i18n.t(
            lang, "seller.notify.low_stock", name=product.name, stock=params.get("stock", "?")
        ),
        choices=(Choice(f"ps:{product.id}", i18n.t(lang, "seller.product.restock")),),
    )


@renders(Notice.RETURN_REQUESTED)
def return_requested(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return_id = _int(params, "return_id")
    ret = session.get(Return, return_id) if return_id else None
    if ret is None:
        return default_text(Notice.RETURN_REQUESTED, params, lang)
    text = i18n.t(
        lang,
        "seller.notify.return_requested",
        id=ret.id,
        number=ret.order_id,
        reason=ret.reason[:1000],
        count=sum(i.quantity for i in ret.items),
    )
    return Choices(
        text=text,
        choices=(
            Choice(f"r:a:{ret.id}", i18n.t(lang, "seller.return.approve")),
            Choice(f"r:r:{ret.id}", i18n.t(lang, "seller.return.refuse")),
        ),
    )


@renders(Notice.RETURN_RECEIVED)
def return_received(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(
        i18n.t(
            lang,
            "seller.notify.return_received",
            id=params.get("return_id", "?"),
            number=params.get("order_id", "?"),
        )
    )


@renders(Notice.NEW_REVIEW, Notice.NEGATIVE_REVIEW)
def review(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    review_id = _int(params, "review_id")
    found = session.get(Review, review_id) if review_id else None
    product = session.get(Product, found.product_id) if found else None
    if found is None or product is None:
        return default_text(Notice.NEW_REVIEW, params, lang)
    key = "seller.notify.negative_review" if found.rating <= 2 else "seller.notify.new_review"
    if not found.comment:
        key += "_stars"  # the buyer passed on the comment: no empty quotes
    return Choices(
        text=i18n.t(lang, key, rating=found.rating, product=product.name, comment=found.comment)[
            :3500
        ],
        choices=(Choice(f"rv:{found.id}", i18n.t(lang, "seller.review.reply")),),
    )


@renders(Notice.SHOP_APPROVED)
def shop_approved(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(i18n.t(lang, "seller.notify.shop_approved"))


@renders(Notice.SHOP_REFUSED)
def shop_refused(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(i18n.t(lang, "seller.notify.shop_refused", reason=params.get("reason") or "—"))


def _product_name(session: Session, params: dict[str, Any]) -> str:
    product_id = _int(params, "product_id")
    product = session.get(Product, product_id) if product_id else None
    return product.name if product else f"#{params.get('product_id', '?')}"


@renders(Notice.PRODUCT_APPROVED)
def product_approved(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    name = _product_name(session, params)
    return Text(i18n.t(lang, "seller.notify.product_approved", name=name))


@renders(Notice.PRODUCT_REJECTED)
def product_rejected(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    name = _product_name(session, params)
    return Text(
        i18n.t(
            lang, "seller.notify.product_rejected", name=name, reason=params.get("reason") or "—"
        )
    )
