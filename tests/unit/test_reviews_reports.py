"""Reviews: one per delivered order item, by its buyer, rated 1–5. Reports: ten open reports
from ten different people deactivate an account; one open report per reporter and target."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commerce import clock, rules
from commerce.catalog import actions as catalog
from commerce.errors import (
    AccountInactive,
    AlreadyExists,
    AlreadyReviewed,
    IllegalTransition,
    InvalidInput,
    InvalidRating,
    NotFound,
    PermissionDenied,
    ReasonRequired,
    ReviewNotAllowed,
)
from commerce.moderation import actions as moderation
from commerce.moderation.models import Report, ReportStatus
from commerce.orders import actions as orders
from commerce.reviews import actions as reviews
from commerce.reviews.models import Review
from commerce.users.models import User
from tests.support import ensure_admin, make_buyer, make_product, make_seller
from tests.unit import flows


def review(db, buyer_id: int, item_id: int, rating: int = 5, comment: str = "Très bien") -> int:
    with db.uow() as s:
        return reviews.add_review(
            s, buyer_id=buyer_id, order_item_id=item_id, rating=rating, comment=comment
        ).id


@pytest.fixture
def delivered(db) -> flows.Placed:
    p = flows.place(db)
    flows.deliver(db, p)
    return p


# --- reviews ------------------------------------------------------------------------------


def test_buyer_reviews_a_delivered_item_and_the_seller_is_told(db, delivered):
    rid = review(db, delivered.buyer_id, delivered.item_id, 4, "  Bon téléphone  ")
    with db.session() as s:
        r = s.get(Review, rid)
        assert (r.rating, r.comment, r.product_id, r.buyer_id) == (
            4,
            "Bon téléphone",
            delivered.product_id,
            delivered.buyer_id,
        )
        assert reviews.product_rating(s, delivered.product_id) == (4.0, 1)
    [told] = flows.outbox(db, user_id=delivered.seller_id, kind="new_review")
    assert told.payload["params"] == {"review_id": rid, "rating": 4}


def test_one_review_per_item(db, delivered):
    review(db, delivered.buyer_id, delivered.item_id, 5)
    with pytest.raises(AlreadyReviewed):
        review(db, delivered.buyer_id, delivered.item_id, 1)
    with db.session() as s:
        assert reviews.product_rating(s, delivered.product_id) == (5.0, 1)


def test_each_item_of_an_order_is_reviewed_on_its_own(db):
    seller_id, _shop = make_seller(db)
    buyer_id, address_id = make_buyer(db)
    a = make_product(db, seller_id=seller_id, name="Robe")
    b = make_product(db, seller_id=seller_id, name="Sac")
    flows.add(db, buyer_id, a)
    flows.add(db, buyer_id, b)
    [placed] = flows.checkout(db, buyer_id, address_id)
    flows.deliver(db, flows.wrap(placed, seller_id=seller_id))
    item_a, item_b = (i.id for i in placed.order.items)
    review(db, buyer_id, item_a, 5)
    review(db, buyer_id, item_b, 3)
    with pytest.raises(AlreadyReviewed):
        review(db, buyer_id, item_b, 3)


def test_no_review_before_delivery(db):
    p = flows.place(db)
    with pytest.raises(ReviewNotAllowed):
        review(db, p.buyer_id, p.item_id)
    flows.to_picked_up(db, p)
    with pytest.raises(ReviewNotAllowed):
        review(db, p.buyer_id, p.item_id)


def test_no_review_of_a_cancelled_order(db):
    p = flows.place(db)
    with db.uow() as s:
        orders.cancel_order(s, buyer_id=p.buyer_id, order_id=p.order_id)
    with pytest.raises(ReviewNotAllowed):
        review(db, p.buyer_id, p.item_id)


def test_review_still_allowed_once_the_order_is_completed(db, delivered):
    clock.advance(dt.timedelta(days=31))
    with db.uow() as s:
        orders.complete_due_orders(s)
    assert flows.order(db, delivered.order_id).status.value == "completed"
    review(db, delivered.buyer_id, delivered.item_id, 5)


def test_another_buyers_item_is_not_found(db, delivered):
    stranger, _addr = make_buyer(db)
    with pytest.raises(NotFound):
        review(db, stranger, delivered.item_id)
    with pytest.raises(NotFound):
        review(db, delivered.buyer_id, 987_654)


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, True, "5", None])
def test_rating_from_1_to_5(db, delivered, rating):
    before = flows.snapshot(db)
    with pytest.raises(InvalidRating):
        review(db, delivered.buyer_id, delivered.item_id, rating)
    assert flows.snapshot(db) == before


@pytest.mark.parametrize("rating", [1, 5])
def test_rating_bounds_are_accepted(db, delivered, rating):
    review(db, delivered.buyer_id, delivered.item_id, rating)


def test_comment_length_limit(db, delivered):
    with pytest.raises(InvalidInput):
        review(db, delivered.buyer_id, delivered.item_id, 4, "x" * 1001)


def test_a_low_rating_alerts_the_seller(db, delivered):
    rid = review(db, delivered.buyer_id, delivered.item_id, 2, "cassé")
    [alert] = flows.outbox(db, user_id=delivered.seller_id, kind="negative_review")
    assert alert.payload["params"] == {"review_id": rid, "rating": 2}
    assert flows.outbox(db, user_id=delivered.seller_id, kind="new_review") == []


def test_only_the_products_seller_replies(db, delivered):
    rid = review(db, delivered.buyer_id, delivered.item_id, 3)
    intruder, _shop = make_seller(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        reviews.reply_to_review(s, seller_id=intruder, review_id=rid, text="Merci")
    with pytest.raises(InvalidInput), db.uow() as s:
        reviews.reply_to_review(s, seller_id=delivered.seller_id, review_id=rid, text="  ")
    with db.uow() as s:
        reviews.reply_to_review(s, seller_id=delivered.seller_id, review_id=rid, text="Merci !")
    with db.session() as s:
        assert s.get(Review, rid).seller_reply == "Merci !"
    assert len(flows.outbox(db, user_id=delivered.buyer_id, kind="review_replied")) == 1


# --- reports ------------------------------------------------------------------------------


def reporters(db, n: int) -> list[int]:
    return [make_buyer(db)[0] for _ in range(n)]


def file_report(db, reporter: int, **target) -> int:
    with db.uow() as s:
        return moderation.report(s, reporter_id=reporter, reason="arnaque", **target).id


def active(db, user_id: int) -> bool:
    with db.session() as s:
        return s.get(User, user_id).is_active


def test_nine_reports_do_not_deactivate_ten_do(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    admin = ensure_admin(db)
    people = reporters(db, 10)
    for reporter in people[:9]:
        file_report(db, reporter, target_user_id=seller_id)
    assert active(db, seller_id)
    assert flows.outbox(db, kind="account_deactivated") == []
    file_report(db, people[9], target_user_id=seller_id)
    assert not active(db, seller_id)
    [told] = flows.outbox(db, user_id=admin, kind="account_deactivated")
    assert told.payload["params"] == {"user_id": seller_id, "reports": 10}
    # The deactivated seller's products disappear and the seller can no longer act.
    with db.session() as s:
        assert not catalog.is_visible(s, pid)
    with pytest.raises(AccountInactive), db.uow() as s:
        catalog.set_paused(s, seller_id=seller_id, product_id=pid, paused=True)


def test_reports_on_products_count_against_their_seller(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    for reporter in reporters(db, 10):
        file_report(db, reporter, product_id=pid)
    assert not active(db, seller_id)
    with db.session() as s:
        targets = set(s.scalars(select(Report.target_user_id)))
    assert targets == {seller_id}


def test_the_same_person_reporting_ten_times_is_one_report(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    [reporter] = reporters(db, 1)
    file_report(db, reporter, target_user_id=seller_id)
    for _ in range(9):
        with pytest.raises(AlreadyExists):
            file_report(db, reporter, target_user_id=seller_id)
    # Reporting one of the seller's products is still the same account.
    with pytest.raises(AlreadyExists):
        file_report(db, reporter, product_id=pid)
    with db.session() as s:
        assert moderation.open_reports_against(s, seller_id) == 1
    assert active(db, seller_id)


def test_handled_reports_stop_counting_and_may_be_filed_again(db):
    seller_id, _shop = make_seller(db)
    admin = ensure_admin(db)
    people = reporters(db, 11)
    first = file_report(db, people[0], target_user_id=seller_id)
    with db.uow() as s:
        moderation.resolve_report(s, admin_id=admin, report_id=first, dismiss=True)
    for reporter in people[1:10]:
        file_report(db, reporter, target_user_id=seller_id)
    assert active(db, seller_id)  # 9 open, 1 dismissed
    file_report(db, people[0], target_user_id=seller_id)  # allowed again, now 10 open
    assert not active(db, seller_id)


def test_resolving_reports_is_for_admins_and_done_once(db):
    seller_id, _shop = make_seller(db)
    [reporter] = reporters(db, 1)
    rid = file_report(db, reporter, target_user_id=seller_id)
    with pytest.raises(PermissionDenied), db.uow() as s:
        moderation.resolve_report(s, admin_id=reporter, report_id=rid)
    with db.uow() as s:
        moderation.resolve_report(s, admin_id=ensure_admin(db), report_id=rid)
    with pytest.raises(IllegalTransition), db.uow() as s:
        moderation.resolve_report(s, admin_id=ensure_admin(db), report_id=rid)
    with db.session() as s:
        r = s.get(Report, rid)
        assert r.status == ReportStatus.RESOLVED and r.resolved_at is not None


def test_report_validation(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    [reporter] = reporters(db, 1)
    before = flows.snapshot(db)
    with pytest.raises(ReasonRequired), db.uow() as s:
        moderation.report(s, reporter_id=reporter, reason=" ", target_user_id=seller_id)
    with pytest.raises(InvalidInput), db.uow() as s:
        moderation.report(s, reporter_id=reporter, reason="x")
    with pytest.raises(InvalidInput), db.uow() as s:
        moderation.report(
            s, reporter_id=reporter, reason="x", target_user_id=seller_id, product_id=pid
        )
    with pytest.raises(PermissionDenied), db.uow() as s:
        moderation.report(s, reporter_id=seller_id, reason="moi", product_id=pid)
    with pytest.raises(NotFound), db.uow() as s:
        moderation.report(s, reporter_id=reporter, reason="x", target_user_id=777_777)
    assert flows.snapshot(db) == before


def test_admins_are_told_of_each_report(db):
    seller_id, _shop = make_seller(db)
    admin = ensure_admin(db)
    [reporter] = reporters(db, 1)
    rid = file_report(db, reporter, target_user_id=seller_id)
    [told] = flows.outbox(db, user_id=admin, kind="report_filed")
    assert told.payload["params"] == {"report_id": rid}


def test_deactivation_threshold_comes_from_the_rules(db):
    rules.bind(db.factory, rules.Rules(reports_to_deactivate=2))
    seller_id, _shop = make_seller(db)
    a, b = reporters(db, 2)
    file_report(db, a, target_user_id=seller_id)
    assert active(db, seller_id)
    file_report(db, b, target_user_id=seller_id)
    assert not active(db, seller_id)
