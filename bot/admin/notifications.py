"""What admins see when the core asks for them: each alert with the buttons to act on it.

The buttons lead into the admin flow (bot/admin/handlers.py), where the core checks the admin
role again; an item another admin decided meanwhile gets a polite "already done".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.messages import Choice, Choices, Reply, Text
from bot.notifications import default_text, renders
from commerce.catalog.models import Product, Shop
from commerce.delivery import codes
from commerce.delivery.models import Courier
from commerce.messaging.notices import Notice
from commerce.moderation.models import Report
from commerce.orders.models import Order
from commerce.users.models import User


def _int(params: dict[str, Any], key: str) -> int | None:
    value = params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _decide(kind: str, item_id: int, lang: str, *, view: bool = False) -> tuple[Choice, ...]:
    choices = [
        Choice(f"m{kind}:a:{item_id}", i18n.t(lang, "admin.mod.approve")),
        Choice(f"m{kind}:r:{item_id}", i18n.t(lang, "admin.mod.refuse")),
    ]
    if view:
        choices.insert(0, Choice(f"mv:{kind}:{item_id}", i18n.t(lang, "admin.mod.view")))
    return tuple(choices)


@renders(Notice.SHOP_PENDING)
def shop_pending(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    shop_id = _int(params, "shop_id")
    shop = session.get(Shop, shop_id) if shop_id else None
    if shop is None:
        return default_text(Notice.SHOP_PENDING, params, lang)
    text = i18n.t(
        lang,
        "admin.notify.shop_pending",
        name=shop.name,
        prefecture=shop.prefecture,
        quartier=shop.quartier or "—",
        landmark=shop.landmark[:300] or "—",
    )
    return Choices(text=text, choices=_decide("s", shop.id, lang))


@renders(Notice.PRODUCT_PENDING)
def product_pending(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    product_id = _int(params, "product_id")
    product = session.get(Product, product_id) if product_id else None
    if product is None:
        return default_text(Notice.PRODUCT_PENDING, params, lang)
    text = i18n.t(
        lang,
        "admin.notify.product_pending",
        name=product.name,
        shop=product.shop.name,
        price_gnf=product.price,
    )
    return Choices(text=text, choices=_decide("p", product.id, lang, view=True))


@renders(Notice.COURIER_PENDING)
def courier_pending(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    courier_id = _int(params, "courier_id")
    courier = session.get(Courier, courier_id) if courier_id else None
    person = session.get(User, courier.user_id) if courier else None
    if courier is None or person is None:
        return default_text(Notice.COURIER_PENDING, params, lang)
    text = i18n.t(
        lang,
        "admin.notify.courier_pending",
        name=person.name or "—",
        prefecture=courier.prefecture,
        vehicle=courier.vehicle.value,
    )
    return Choices(text=text, choices=_decide("c", courier.id, lang))


@renders(Notice.REPORT_FILED)
def report_filed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    report_id = _int(params, "report_id")
    rep = session.get(Report, report_id) if report_id else None
    target = session.get(User, rep.target_user_id) if rep else None
    if rep is None:
        return default_text(Notice.REPORT_FILED, params, lang)
    text = i18n.t(
        lang,
        "admin.notify.report_filed",
        id=rep.id,
        target=(target.name if target else "") or "—",
        reason=rep.reason[:1000],
    )
    return Choices(text=text, choices=(Choice(f"rp:v:{rep.id}", i18n.t(lang, "admin.mod.view")),))


@renders(Notice.ACCOUNT_DEACTIVATED)
def account_deactivated(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    user_id = _int(params, "user_id")
    target = session.get(User, user_id) if user_id else None
    if target is None:
        return default_text(Notice.ACCOUNT_DEACTIVATED, params, lang)
    text = i18n.t(
        lang,
        "admin.notify.account_deactivated",
        name=target.name or f"#{target.id}",
        reports=params.get("reports", "?"),
    )
    return Choices(
        text=text, choices=(Choice(f"u:v:{target.id}", i18n.t(lang, "admin.reports.account")),)
    )


@renders(Notice.CODE_LOCKED_ADMIN)
def code_locked_admin(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """A code just locked: who, where, how many tries — and the button that reissues it."""
    order_id = _int(params, "order_id")
    order = session.get(Order, order_id) if order_id else None
    code = codes.find_code(session, order_id) if order_id else None
    if order is None or code is None:
        return default_text(Notice.CODE_LOCKED_ADMIN, params, lang)
    shop = session.get(Shop, order.shop_id)
    courier = session.get(User, order.courier_id) if order.courier_id else None
    text = i18n.t(
        lang,
        "admin.notify.code_locked",
        order_id=order.id,
        shop=shop.name if shop else "—",
        courier=(courier.name if courier else "") or "—",
        tries=code.failed_attempts,
    )
    return Choices(
        text=text,
        choices=(
            Choice(f"dc:u:{order.id}", i18n.t(lang, "admin.codes.unlock", order_id=order.id)),
            Choice("a:codes", i18n.t(lang, "admin.menu.codes")),
        ),
    )


@renders(Notice.PIN_PAUSED_ADMIN)
def pin_paused_admin(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """Someone's PIN entry just paused: told once, with the button that lifts it."""
    person_id = _int(params, "user_id")
    person = session.get(User, person_id) if person_id else None
    if person is None:
        return default_text(Notice.PIN_PAUSED_ADMIN, params, lang)
    name = person.name or f"#{person.id}"
    text = i18n.t(
        lang,
        "admin.notify.pin_paused",
        name=name,
        failures=params.get("failures", "?"),
        minutes=params.get("minutes", "?"),
    )
    return Choices(
        text=text,
        choices=(Choice(f"pp:l:{person.id}", i18n.t(lang, "admin.codes.lift", name=name)),),
    )


@renders(Notice.REMITTANCE_DISPUTED)
def remittance_disputed(session: Session, user: User, params: dict[str, Any], lang: str) -> Reply:
    """Both sides' word on a hand-over, with "Reçu" / "Non reçu" to settle it (a reason follows)."""
    text = default_text(Notice.REMITTANCE_DISPUTED, params, lang).text
    remittance_id = _int(params, "remittance_id")
    if remittance_id is None:
        return Text(text)
    return Choices(
        text=text,
        choices=(
            Choice(
                f"ld:ok:{remittance_id}", i18n.t(lang, "admin.dispute.received", id=remittance_id)
            ),
            Choice(
                f"ld:no:{remittance_id}",
                i18n.t(lang, "admin.dispute.not_received", id=remittance_id),
            ),
        ),
    )
