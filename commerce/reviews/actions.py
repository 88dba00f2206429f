"""Reviews: one per delivered order item, by its buyer; the seller may reply once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import clock
from commerce.catalog.models import Product, Shop
from commerce.db import action
from commerce.delivery.models import Courier, DeliveryJob, JobKind, JobStatus
from commerce.errors import (
    AlreadyReviewed,
    InvalidInput,
    InvalidRating,
    NotFound,
    PermissionDenied,
    ReviewNotAllowed,
)
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, send_now
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.reviews.models import CourierRating, Review
from commerce.users.actions import require_actor
from commerce.users.models import Role, User

MAX_COMMENT = 1000
NEGATIVE_AT_MOST = 2
# Stars tapped without words: the seller's alert waits this long for the comment the buyer is
# asked for next, then goes with the stars only. One alert per review, once it is complete.
COMMENT_WAIT_S = 600


def _alert_key(review: Review) -> str:
    return f"review:{review.id}"


def _alert_seller(session: Session, review: Review, owner_id: int, *, wait: bool) -> None:
    """The seller's one alert about `review`; with `wait`, held until the words or the wait end."""
    notify(
        session,
        user_id=owner_id,
        kind=Notice.NEGATIVE_REVIEW if review.rating <= NEGATIVE_AT_MOST else Notice.NEW_REVIEW,
        params={"review_id": review.id, "rating": review.rating},
        dedupe_key=_alert_key(review),
        not_before=clock.now() + dt.timedelta(seconds=COMMENT_WAIT_S) if wait else None,
    )


@action
def add_review(
    session: Session, *, buyer_id: int, order_item_id: int, rating: int, comment: str = ""
) -> Review:
    require_actor(session, buyer_id)
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidRating("rating from 1 to 5", rating=rating)
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput("comment too long", max=MAX_COMMENT)
    item = session.get(OrderItem, order_item_id)
    order = session.get(Order, item.order_id) if item else None
    if item is None or order is None or order.buyer_id != buyer_id:
        raise NotFound("unknown item", entity="order_item", id=order_item_id)
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise ReviewNotAllowed("review after delivery", order_id=order.id)
    if session.scalar(select(Review.id).where(Review.order_item_id == item.id)) is not None:
        raise AlreadyReviewed("already reviewed", order_item_id=item.id)
    review = Review(
        order_item_id=item.id,
        product_id=item.product_id,
        buyer_id=buyer_id,
        rating=rating,
        comment=text,
    )
    session.add(review)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent duplicate lost the race on the UNIQUE key
        raise AlreadyReviewed("already reviewed", order_item_id=item.id) from exc
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    # Without words yet, the buyer is being asked for them: the alert waits (COMMENT_WAIT_S).
    _alert_seller(session, review, shop.owner_id, wait=not text)
    return review


@action
def add_review_comment(
    session: Session, *, buyer_id: int, order_item_id: int, comment: str
) -> Review:
    """The comment typed after the stars (the rating is saved at the tap): once, by its buyer."""
    require_actor(session, buyer_id)
    text = (comment or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidInput("comment of 1 to 1000 characters", max=MAX_COMMENT)
    review = session.scalar(select(Review).where(Review.order_item_id == order_item_id))
    if review is None or review.buyer_id != buyer_id:
        raise NotFound("unknown review", entity="review", order_item_id=order_item_id)
    if review.comment:
        raise AlreadyReviewed("comment already given", order_item_id=order_item_id)
    review.comment = text
    session.flush()
    # The alert held since the tap goes now, and carries the words (rendered at send time).
    if send_now(session, dedupe_key=_alert_key(review)) is None:
        # Written after the wait: the seller had the stars alone, the words are news to them.
        product = session.get(Product, review.product_id)
        shop = session.get(Shop, product.shop_id) if product else None
        if shop is not None:
            notify(
                session,
                user_id=shop.owner_id,
                kind=Notice.NEGATIVE_REVIEW
                if review.rating <= NEGATIVE_AT_MOST
                else Notice.NEW_REVIEW,
                params={"review_id": review.id, "rating": review.rating},
                dedupe_key=f"{_alert_key(review)}:words",
            )
    return review


@action
def skip_review_comment(session: Session, *, buyer_id: int, order_item_id: int) -> Review:
    """The buyer passes on the comment: the seller's alert goes now, with the stars only."""
    require_actor(session, buyer_id)
    review = session.scalar(select(Review).where(Review.order_item_id == order_item_id))
    if review is None or review.buyer_id != buyer_id:
        raise NotFound("unknown review", entity="review", order_item_id=order_item_id)
    send_now(session, dedupe_key=_alert_key(review))
    return review


@action
def reply_to_review(session: Session, *, seller_id: int, review_id: int, text: str) -> Review:
    require_actor(session, seller_id, Role.SELLER)
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("unknown review", entity="review", id=review_id)
    product = session.get(Product, review.product_id)
    shop = session.get(Shop, product.shop_id) if product else None
    if shop is None or shop.owner_id != seller_id:
        raise PermissionDenied("not your product")
    reply = (text or "").strip()
    if not reply or len(reply) > MAX_COMMENT:
        raise InvalidInput("reply of 1 to 1000 characters", max=MAX_COMMENT)
    review.seller_reply = reply
    notify(
        session,
        user_id=review.buyer_id,
        kind=Notice.REVIEW_REPLIED,
        params={"review_id": review.id},
    )
    return review


def product_rating(session: Session, product_id: int) -> tuple[float | None, int]:
    avg, count = session.execute(
        select(func.avg(Review.rating), func.count(Review.id)).where(
            Review.product_id == product_id
        )
    ).one()
    return (float(avg) if avg is not None else None, int(count))


def latest_comments(session: Session, product_id: int, *, limit: int = 3) -> list[Review]:
    """The product's newest reviews that carry words (an empty or blank comment is no quote),
    for its card; anyone who may see the product may read them."""
    return list(
        session.scalars(
            select(Review)
            .where(Review.product_id == product_id, func.trim(Review.comment) != "")
            .order_by(Review.created_at.desc(), Review.id.desc())
            .limit(limit)
        )
    )


# --- the courier's stars ------------------------------------------------------------------


def delivering_courier(session: Session, order: Order) -> User | None:
    """The courier who brought `order` to its buyer, or None (pickup, the seller himself)."""
    job = session.scalar(
        select(DeliveryJob).where(
            DeliveryJob.order_id == order.id,
            DeliveryJob.kind == JobKind.DELIVERY,
            DeliveryJob.status == JobStatus.DONE,
        )
    )
    if job is None or job.courier_id is None:
        return None
    shop = session.get(Shop, order.shop_id)
    if shop is not None and shop.owner_id == job.courier_id:
        return None  # the seller delivered it himself: no courier to rate
    if session.scalar(select(Courier.id).where(Courier.user_id == job.courier_id)) is None:
        return None
    return session.get(User, job.courier_id)


def courier_to_rate(session: Session, *, buyer_id: int, order_id: int) -> User | None:
    """The courier this buyer may still rate for this order, or None."""
    order = session.get(Order, order_id)
    if order is None or order.buyer_id != buyer_id:
        return None
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return None
    if session.scalar(select(CourierRating.id).where(CourierRating.order_id == order_id)):
        return None
    return delivering_courier(session, order)


@action
def rate_courier(session: Session, *, buyer_id: int, order_id: int, rating: int) -> CourierRating:
    """The buyer's 1-5 stars for the courier who delivered her order: once per order."""
    require_actor(session, buyer_id)
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidRating("rating from 1 to 5", rating=rating)
    order = session.get(Order, order_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound("unknown order", entity="order", id=order_id)
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise ReviewNotAllowed("courier rated after delivery", order_id=order.id)
    courier = delivering_courier(session, order)
    if courier is None:
        raise ReviewNotAllowed("no courier delivered this order", order_id=order.id)
    if session.scalar(select(CourierRating.id).where(CourierRating.order_id == order.id)):
        raise AlreadyReviewed("courier already rated", order_id=order.id)
    rated = CourierRating(
        order_id=order.id, courier_id=courier.id, buyer_id=buyer_id, rating=rating
    )
    session.add(rated)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent tap lost the race on the UNIQUE key
        raise AlreadyReviewed("courier already rated", order_id=order.id) from exc
    return rated


def courier_ratings(session: Session, courier_ids: list[int]) -> dict[int, tuple[float, int]]:
    """Average stars and count per courier (user id), for those who have any."""
    if not courier_ids:
        return {}
    rows = session.execute(
        select(CourierRating.courier_id, func.avg(CourierRating.rating), func.count())
        .where(CourierRating.courier_id.in_(courier_ids))
        .group_by(CourierRating.courier_id)
    ).all()
    return {int(cid): (float(avg), int(n)) for cid, avg, n in rows}


def courier_rating(session: Session, courier_id: int) -> tuple[float | None, int]:
    found = courier_ratings(session, [courier_id]).get(courier_id)
    return found if found is not None else (None, 0)


def sellers_couriers(
    session: Session, *, seller_id: int, limit: int = 5
) -> list[tuple[User, float | None, int]]:
    """The couriers who delivered this seller's orders, the latest first, with their stars
    (average over all their deliveries, and how many ratings): the ones she knows."""
    require_actor(session, seller_id, Role.SELLER)
    rows = session.execute(
        select(DeliveryJob.courier_id, func.max(DeliveryJob.done_at).label("last"))
        .join(Shop, Shop.id == DeliveryJob.shop_id)
        .join(Courier, Courier.user_id == DeliveryJob.courier_id)
        .where(
            Shop.owner_id == seller_id,
            DeliveryJob.status == JobStatus.DONE,
            DeliveryJob.courier_id != seller_id,
        )
        .group_by(DeliveryJob.courier_id)
        .order_by(func.max(DeliveryJob.done_at).desc(), DeliveryJob.courier_id.desc())
        .limit(limit)
    ).all()
    ids = [int(cid) for cid, _last in rows if cid is not None]
    stars = courier_ratings(session, ids)
    found = []
    for cid in ids:
        user = session.get(User, cid)
        if user is not None:
            avg, count = stars.get(cid, (None, 0))
            found.append((user, avg, count))
    return found
