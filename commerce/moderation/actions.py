"""Moderation: admins approve shops and products; reports can deactivate an account."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog import favourites
from commerce.catalog.models import ModerationStatus, Product, Shop, ShopStatus
from commerce.db import action
from commerce.errors import (
    AlreadyExists,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, notify_many
from commerce.moderation.models import Report, ReportStatus
from commerce.reasons import reason_text
from commerce.users.actions import admins, require_actor
from commerce.users.models import Role, User


def _reason(reason: str, *, required: bool) -> str:
    return reason_text(reason, required=required)


@action
def decide_shop(
    session: Session, *, admin_id: int, shop_id: int, approve: bool, reason: str = ""
) -> Shop:
    require_actor(session, admin_id, Role.ADMIN)
    text = _reason(reason, required=not approve)
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("unknown shop", entity="shop", id=shop_id)
    shop.status = ShopStatus.APPROVED if approve else ShopStatus.REFUSED
    shop.refusal_reason = text
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.SHOP_APPROVED if approve else Notice.SHOP_REFUSED,
        params={"shop_id": shop.id, "reason": text},
        essential=True,
    )
    return shop


@action
def decide_product(
    session: Session, *, admin_id: int, product_id: int, approve: bool, reason: str = ""
) -> Product:
    require_actor(session, admin_id, Role.ADMIN)
    text = _reason(reason, required=not approve)
    product = session.get(Product, product_id)
    if product is None or product.is_deleted:
        raise NotFound("unknown product", entity="product", id=product_id)
    if product.status != ModerationStatus.PENDING:
        raise IllegalTransition("already moderated", product_id=product_id)
    product.status = ModerationStatus.APPROVED if approve else ModerationStatus.REJECTED
    product.rejection_reason = text
    shop = session.get(Shop, product.shop_id)
    assert shop is not None
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.PRODUCT_APPROVED if approve else Notice.PRODUCT_REJECTED,
        params={"product_id": product.id, "reason": text},
        essential=True,
    )
    if approve:
        # Visible again, perhaps at a lower price (an edited price waited for this moment).
        session.flush()
        favourites.tell_favourites(session, product)
    return product


def open_reports_against(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Report.id)).where(
                Report.target_user_id == user_id, Report.status == ReportStatus.OPEN
            )
        )
        or 0
    )


@action
def report(
    session: Session,
    *,
    reporter_id: int,
    reason: str,
    target_user_id: int | None = None,
    product_id: int | None = None,
) -> Report:
    """Report a seller, a courier or a product (which counts against its seller)."""
    require_actor(session, reporter_id)
    text = _reason(reason, required=True)
    if (target_user_id is None) == (product_id is None):
        raise InvalidInput("report a user or a product")
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None:
            raise NotFound("unknown product", entity="product", id=product_id)
        shop = session.get(Shop, product.shop_id)
        assert shop is not None
        target_user_id = shop.owner_id
    assert target_user_id is not None
    target = session.get(User, target_user_id)
    if target is None:
        raise NotFound("unknown user", entity="user", id=target_user_id)
    if target.id == reporter_id:
        raise PermissionDenied("you cannot report yourself")
    duplicate = session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter_id,
            Report.target_user_id == target.id,
            Report.status == ReportStatus.OPEN,
        )
    )
    if duplicate is not None:
        # One open report per reporter and target: ten reports mean ten people.
        raise AlreadyExists("you already reported this account", report_id=duplicate)
    rep = Report(
        reporter_id=reporter_id, target_user_id=target.id, product_id=product_id, reason=text
    )
    session.add(rep)
    session.flush()
    notify_many(
        session, users=admins(session), kind=Notice.REPORT_FILED, params={"report_id": rep.id}
    )
    if target.is_active and open_reports_against(session, target.id) >= (
        rules.of(session).reports_to_deactivate
    ):
        target.is_active = False
        notify_many(
            session,
            users=admins(session),
            kind=Notice.ACCOUNT_DEACTIVATED,
            params={"user_id": target.id, "reports": open_reports_against(session, target.id)},
        )
    return rep


@action
def resolve_report(
    session: Session, *, admin_id: int, report_id: int, dismiss: bool = False
) -> Report:
    require_actor(session, admin_id, Role.ADMIN)
    rep = session.get(Report, report_id)
    if rep is None:
        raise NotFound("unknown report", entity="report", id=report_id)
    if rep.status != ReportStatus.OPEN:
        raise IllegalTransition("report already handled", report_id=report_id)
    rep.status = ReportStatus.DISMISSED if dismiss else ReportStatus.RESOLVED
    rep.resolved_at = clock.now()
    return rep
