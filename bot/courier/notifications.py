"""Courier-facing notifications (and the seller's "nobody took it" notice), rendered at send time.

A courier with a phone is texted by SMS (workers.outbox.routing.preferred_channel): plain text that
fits one segment, commands spelled out ("Répondez A1042"). A Telegram-only courier gets the
same text with buttons. `job_unclaimed` goes to the seller on Telegram with "raise the bonus"
buttons whose ids are `bonus:<job_id>:<new total bonus in GNF>` (the seller flow handles them
with `commerce.delivery.actions.raise_bonus`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.courier import wording
from bot.courier.handlers import SHRINK
from bot.messages import Choice, Choices, Reply, Text
from bot.notifications import default_text, renders
from bot.seller.dispatch import BONUS_STEPS
from commerce.catalog.models import Shop
from commerce.delivery.models import DeliveryJob, JobKind
from commerce.messaging.notices import Notice
from commerce.orders.models import Order
from commerce.users.models import Role, User


def _fit(lang: str, key: str, **params: Any) -> str:
    return wording.fit(lang, key, shrink=SHRINK, **params)


def _sms(user: User) -> bool:
    """Couriers with a phone get SMS (see workers.outbox.routing.preferred_channel)."""
    return bool(user.phone)


def _with_buttons(user: User, text: str, choices: tuple[Choice, ...]) -> Reply:
    if _sms(user) or not choices:
        return Text(text)
    return Choices(text=text, choices=choices)


def _job(session: Session, params: dict[str, Any]) -> DeliveryJob | None:
    job_id = params.get("job_id")
    return session.get(DeliveryJob, int(job_id)) if job_id else None


@renders(Notice.JOB_OFFER)
def job_offer(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    job = _job(session, params)
    order = session.get(Order, int(params.get("order_id") or (job.order_id if job else 0)))
    if job is None or order is None:
        return Text(_fit(lang, "courier.job.not_open", order_id=params.get("order_id", "")))
    shop = session.get(Shop, job.shop_id)
    assert shop is not None
    shop_place, buyer_place = shop.prefecture, order.prefecture or order.quartier
    ret = job.kind == JobKind.RETURN_PICKUP
    text = _fit(
        lang,
        "courier.offer.return_pickup" if ret else "courier.offer.delivery",
        order_id=order.id,
        origin=buyer_place if ret else shop_place,
        destination=shop_place if ret else buyer_place,
        km=wording.km(lang, job.distance_km),
        commission_gnf=job.commission,
    )
    accept = Choice(f"c:take:{job.id}", i18n.t(lang, "courier.offer.accept"))
    return _with_buttons(user, text, (accept,))


@renders(Notice.JOB_ASSIGNED)
def job_assigned(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    job = _job(session, params)
    order_id = params.get("order_id", "")
    if job is None:
        return Text(_fit(lang, "courier.notify.job_cancelled", order_id=order_id))
    shop = session.get(Shop, job.shop_id)
    assert shop is not None
    owner = session.get(User, shop.owner_id)
    text = _fit(
        lang,
        "courier.notify.job_assigned",
        order_id=job.order_id,
        shop=shop.name,
        place=wording.place(shop.quartier, shop.prefecture),
        phone=(owner.phone or "") if owner else "",
    )
    pick = Choice(f"c:pick:{job.id}", i18n.t(lang, "courier.job.picked_button"))
    return _with_buttons(user, text, (pick,))


@renders(Notice.JOB_CANCELLED)
def job_cancelled(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(_fit(lang, "courier.notify.job_cancelled", order_id=params.get("order_id", "")))


@renders(Notice.DELIVERY_CLOSED)
def delivery_closed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    commission = params.get("commission") or 0
    return Text(
        _fit(
            lang,
            "courier.notify.delivery_closed",
            order_id=params.get("order_id", ""),
            commission_gnf=int(commission),
        )
    )


@renders(Notice.COURIER_APPROVED)
def courier_approved(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(_fit(lang, "courier.notify.courier_approved"))


@renders(Notice.COURIER_ADDED)
def courier_added(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """An admin added him from Telegram: who did, ON to start, AIDE for help (one SMS)."""
    return Text(_fit(lang, "courier.notify.courier_added", name=str(params.get("admin", ""))))


@renders(Notice.COURIER_REFUSED)
def courier_refused(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    return Text(_fit(lang, "courier.notify.courier_refused", reason=params.get("reason", "")))


@renders(Notice.COURIER_QR_LINK)
def courier_qr_link(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """The one-time confirmation link asked for from the buyer's QR page (qr_page.py)."""
    return Text(
        i18n.t(
            lang,
            "courier.notify.qr_link",
            order_id=params.get("order_id", ""),
            url=params.get("url", ""),
        )
    )


@renders(Notice.CODE_REISSUED_COURIER)
def code_reissued_courier(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """An admin reissued the locked code of the courier's order: ask the buyer for the new PIN."""
    return Text(_fit(lang, "courier.notify.code_reissued", order_id=params.get("order_id", "")))


@renders(Notice.PIN_PAUSE_LIFTED)
def pin_pause_lifted(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    if not user.has_role(Role.COURIER):  # a seller who delivers personally
        return default_text(Notice.PIN_PAUSE_LIFTED, params, lang)
    return Text(_fit(lang, "courier.notify.pin_pause_lifted"))


@renders(Notice.JOB_UNCLAIMED)
def job_unclaimed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """To the seller, after the last wave: raise the bonus (delivery jobs) or wait (returns)."""
    order_id = params.get("order_id", "")
    commission = int(params.get("commission") or 0)
    job = _job(session, params)
    if job is None or job.kind != JobKind.DELIVERY:
        return Text(
            i18n.t(
                lang,
                "courier.notify.unclaimed_return",
                order_id=order_id,
                commission_gnf=commission,
            )
        )
    bonus = job.bonus
    choices = tuple(
        Choice(
            f"bonus:{job.id}:{bonus + step}", i18n.t(lang, "courier.notify.bonus", amount_gnf=step)
        )
        for step in BONUS_STEPS
    )
    text = i18n.t(
        lang, "courier.notify.unclaimed", order_id=order_id, commission_gnf=job.commission
    )
    return Choices(text=text, choices=choices)
