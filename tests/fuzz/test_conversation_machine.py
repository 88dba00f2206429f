"""Whole conversations through the signed webhooks, interleaved at random, with junk between.

Buyers on WhatsApp (one French, one English) browse, buy, check out and cancel; the seller on
Telegram accepts, refuses, publishes or delivers; a courier on SMS takes jobs, confirms the
pickup and delivers with the buyer's PIN; anyone may send junk at any moment. After every step:

- the foundation's invariants (tests/invariants.py): stock never negative and conserved, refunds
  never above what was paid, at most one delivery per order;
- conversation invariants: no 5xx, every message of an identified sender got ≥ 1 reply (unless
  a person holds the conversation, when the bot is silent by design), no reply in the wrong
  language, nothing logged as an error, and no user sees another's order: a buyer's replies
  never carry another buyer's landmark or PIN, and a notification about an order only goes to
  its buyer, its seller or a courier.

Runs 12 examples × up to 30 steps, derandomized (BOUTIK_CONVERSATION_EXAMPLES=n for a
longer local run).
"""

from __future__ import annotations

import os
import shutil

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from commerce import clock
from commerce.catalog.models import Shop
from commerce.delivery.models import DeliveryCode
from commerce.messaging.models import Outbox
from commerce.orders.models import Order, OrderStatus
from commerce.users import actions as users
from commerce.users.models import Channel, Role, User, UserRole
from tests import invariants
from tests.fuzz import helpers as h
from tests.fuzz.conftest import make_app
from tests.support import make_buyer, make_courier, make_product, make_seller
from tests.webhooks import (
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)

INITIAL_STOCK = 8
WA, SMS = "/webhooks/twilio/whatsapp", "/webhooks/twilio/sms"
LANDMARKS = ("derrière la mosquée Diallo", "face au marché Bah", "près de l'école Camara")
PRODUCTS = ("Téléphone Samsung Galaxy A15", "Chaussures Nike Air")
# Statuses an order moves on from by someone's message (the `advance` rule).
ADVANCING = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
)


class Conversations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.db, self.dir = invariants.fresh_machine_db()
        self.app = make_app(self.db, self.dir / "media")
        self.seller_id, self.shop_id = make_seller(self.db)
        self.products = [
            make_product(self.db, seller_id=self.seller_id, name=n, stock=INITIAL_STOCK)
            for n in PRODUCTS
        ]
        self.buyers: list[tuple[int, str]] = []
        self.checked_outbox = 0  # rows up to this id passed the privacy check already
        for i, landmark in enumerate(LANDMARKS[:2]):
            buyer_id, _address = make_buyer(self.db)
            with self.db.uow() as s:
                users.add_address(
                    s,
                    user_id=buyer_id,
                    region="Conakry",
                    prefecture="Ratoma",
                    quartier="Kipé",
                    landmark=landmark,
                )
                if i == 1:
                    users.set_language(s, user_id=buyer_id, language="en")
                self.buyers.append((buyer_id, s.get(User, buyer_id).phone))  # type: ignore[union-attr,arg-type]
        courier_id = make_courier(self.db)
        with self.db.session() as s:
            self.courier_phone: str = s.get(User, courier_id).phone  # type: ignore[assignment,union-attr]
            self.seller_tg: int = s.get(User, self.seller_id).telegram_id  # type: ignore[assignment,union-attr]

    def teardown(self) -> None:
        # What the run reached (pytest --hypothesis-show-statistics): proof the journeys walk.
        for status in sorted({str(s) for s in self._statuses()}):
            event(f"an order ended {status}")
        self.app.rt.dispose()
        self.db.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)
        clock.reset()

    # --- sending, as the providers do -----------------------------------------------------

    def _twilio(self, path: str, channel: Channel, number: str, body: str) -> None:
        form = (whatsapp_form if channel == Channel.WHATSAPP else sms_form)(number, body)
        sid = form["MessageSid"]
        prior = h.before(self.db, "twilio", sid, channel, number)
        with h.no_logged_errors():
            response = post_twilio(self.app.client, path, form)
        assert response.status_code == 200, response.status_code
        h.assert_answered(self.db, "twilio", sid, prior)

    def _buyer_says(self, buyer: int, body: str) -> None:
        self._twilio(WA, Channel.WHATSAPP, self.buyers[buyer][1], body)

    def _courier_says(self, body: str) -> None:
        self._twilio(SMS, Channel.SMS, self.courier_phone, body)

    def _seller_sends(self, update: dict) -> None:  # type: ignore[type-arg]
        update_id = str(update["update_id"])
        prior = h.before(self.db, "telegram", update_id, Channel.TELEGRAM, str(self.seller_tg))
        with h.no_logged_errors():
            response = post_telegram(self.app.client, update)
        assert response.status_code == 200, response.status_code
        h.assert_answered(self.db, "telegram", update_id, prior)

    def _orders(self, *statuses: OrderStatus) -> list[int]:
        with self.db.session() as s:
            stmt = select(Order.id).order_by(Order.id)
            if statuses:
                stmt = stmt.where(Order.status.in_(statuses))
            return list(s.scalars(stmt))

    def _statuses(self) -> list[OrderStatus]:
        with self.db.session() as s:
            return list(s.scalars(select(Order.status)))

    def _pin(self, order_id: int) -> str:
        with self.db.session() as s:
            code = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order_id))
            return code.pin if code is not None else "000000"

    # --- buyers ----------------------------------------------------------------------------

    @rule(buyer=st.integers(0, 1), product=st.integers(0, 1), confirm=st.booleans())
    def buyer_buys(self, buyer: int, product: int, confirm: bool) -> None:
        """Greeting, search, product card, Acheter, saved address, then confirm (or not)."""
        steps = ["bonjour", PRODUCTS[product].split()[0].lower(), "1", "1", "1"]
        for body in [*steps, "1" if confirm else "menu"]:
            self._buyer_says(buyer, body)

    @rule(
        buyer=st.integers(0, 1),
        body=st.sampled_from(
            ("mes commandes", "panier", "2", "plus", "oui", "non", "menu", "AIDE", "catalogue")
        ),
    )
    def buyer_browses(self, buyer: int, body: str) -> None:
        self._buyer_says(buyer, body)

    @precondition(lambda self: self._orders())
    @rule(buyer=st.integers(0, 1), data=st.data())
    def buyer_cancels_or_snoops(self, buyer: int, data: st.DataObject) -> None:
        """Cancel an order by number — their own or, as a snoop, someone else's."""
        order_id = data.draw(st.sampled_from(self._orders()))
        with self.db.session() as s:
            before = s.get(Order, order_id)
            assert before is not None
            owner, status = before.buyer_id, before.status
        self._buyer_says(
            buyer, data.draw(st.sampled_from(("annuler", "commande"))) + f" {order_id}"
        )
        self._buyer_says(buyer, "oui")
        if owner != self.buyers[buyer][0]:
            with self.db.session() as s:
                assert s.get(Order, order_id).status == status  # type: ignore[union-attr]

    @precondition(lambda self: self._orders(OrderStatus.PICKED_UP))
    @rule(buyer=st.integers(0, 1))
    def buyer_confirms_cash(self, buyer: int) -> None:
        """The buyer taps "Oui" on the cash question — for their order or, forged, another's."""
        for order_id in self._orders(OrderStatus.PICKED_UP):
            self._cash(buyer, order_id)

    def _cash(self, buyer: int, order_id: int) -> None:
        form = whatsapp_form(
            self.buyers[buyer][1], "Oui", ButtonPayload=f"cash:yes:{order_id}", ButtonText="Oui"
        )
        number = self.buyers[buyer][1]
        prior = h.before(self.db, "twilio", form["MessageSid"], Channel.WHATSAPP, number)
        with h.no_logged_errors():
            assert post_twilio(self.app.client, WA, form).status_code == 200
        h.assert_answered(self.db, "twilio", form["MessageSid"], prior)

    # --- the seller ------------------------------------------------------------------------

    @precondition(lambda self: self._orders())
    @rule(
        data=st.data(),
        move=st.sampled_from(("accept", "accept", "refuse", "publish", "myself", "view")),
    )
    def seller_decides(self, data: st.DataObject, move: str) -> None:
        placed = self._orders(OrderStatus.PLACED)
        accepted = self._orders(OrderStatus.ACCEPTED)
        pool = (placed if move in ("accept", "refuse") else accepted) or self._orders()
        order_id = data.draw(st.sampled_from(pool))
        tg = self.seller_tg
        if move == "accept":
            self._seller_sends(telegram_callback(tg, f"o:a:{order_id}"))
        elif move == "refuse":
            self._seller_sends(telegram_callback(tg, f"o:r:{order_id}"))
            self._seller_sends(telegram_message(tg, "rupture de stock"))
        elif move == "publish":
            self._seller_sends(telegram_callback(tg, f"d:b:{order_id}:0"))
        elif move == "myself":
            self._seller_sends(telegram_callback(tg, f"d:m:{order_id}"))
        else:
            self._seller_sends(telegram_callback(tg, f"o:v:{order_id}"))

    # --- the courier -----------------------------------------------------------------------

    @precondition(lambda self: self._orders())
    @rule(data=st.data(), move=st.sampled_from(("take", "pickup", "deliver", "wrong_pin", "on")))
    def courier_works(self, data: st.DataObject, move: str) -> None:
        order_id = data.draw(st.sampled_from(self._orders()))
        body = {
            "take": f"A{order_id}",
            "pickup": f"P{order_id}",
            "deliver": f"D{order_id} {self._pin(order_id)}",
            "wrong_pin": f"D{order_id} 000000",
            "on": "ON",
        }[move]
        self._courier_says(body)

    # --- the happy path, one real message at a time ----------------------------------------

    @precondition(lambda self: self._orders(*ADVANCING))
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The next message the right person sends for an order still on its way: so random
        runs also reach pickups, PIN deliveries and cash confirmations, not only new orders."""
        order_id = data.draw(st.sampled_from(self._orders(*ADVANCING)))
        with self.db.session() as s:
            order = s.get(Order, order_id)
            assert order is not None
            status, buyer_id = order.status, order.buyer_id
        if status == OrderStatus.PLACED:
            self._seller_sends(telegram_callback(self.seller_tg, f"o:a:{order_id}"))
        elif status == OrderStatus.ACCEPTED:
            self._seller_sends(telegram_callback(self.seller_tg, f"d:b:{order_id}:0"))
            self._courier_says(f"A{order_id}")
        elif status == OrderStatus.COURIER_ASSIGNED:
            self._courier_says(f"P{order_id}")
        else:
            self._courier_says(f"D{order_id} {self._pin(order_id)}")
            buyer = next(i for i, (b, _phone) in enumerate(self.buyers) if b == buyer_id)
            self._cash(buyer, order_id)

    # --- junk ------------------------------------------------------------------------------

    @rule(who=st.sampled_from(("buyer0", "buyer1", "courier", "seller")), body=h.text)
    def junk(self, who: str, body: str) -> None:
        if who == "courier":
            self._courier_says(body)
        elif who == "seller":
            self._seller_sends(telegram_message(self.seller_tg, body))
        else:
            self._buyer_says(int(who[-1]), body)

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative_and_is_conserved(self) -> None:
        invariants.stock_is_never_negative_and_is_conserved(self.db, self.products, INITIAL_STOCK)

    @invariant()
    def refunds_never_exceed_what_was_paid(self) -> None:
        invariants.refunds_never_exceed_what_was_paid(self.db)

    @invariant()
    def at_most_one_delivery_per_order(self) -> None:
        invariants.at_most_one_delivery_per_order(self.db)

    @invariant()
    def no_user_sees_another_users_order(self) -> None:
        with self.db.session() as s:
            orders = {o.id: o for o in s.scalars(select(Order))}
            pins = {c.order_id: c.pin for c in s.scalars(select(DeliveryCode))}
            owner = {shop.id: shop.owner_id for shop in s.scalars(select(Shop))}
            couriers = set(s.scalars(select(UserRole.user_id).where(UserRole.role == Role.COURIER)))
            # Staff: a locked delivery code is announced to every admin, with its order number.
            admins = set(s.scalars(select(UserRole.user_id).where(UserRole.role == Role.ADMIN)))
            landmark_of = {b: LANDMARKS[i] for i, (b, _phone) in enumerate(self.buyers)}
            new = s.scalars(select(Outbox).where(Outbox.id > self.checked_outbox))
            for row in new:
                self.checked_outbox = max(self.checked_outbox, row.id)
                params = row.payload.get("params", {})
                order_id = params.get("order_id")
                if isinstance(order_id, int) and order_id in orders:
                    order = orders[order_id]
                    allowed = {order.buyer_id, owner[order.shop_id], *couriers, *admins}
                    assert row.user_id in allowed, (row.kind, row.user_id, order_id)
                if row.kind != "reply" or row.user_id not in landmark_of:
                    continue
                text = h.reply_texts(row)
                for other, landmark in landmark_of.items():
                    if other != row.user_id:
                        assert landmark not in text, (row.user_id, landmark, text)
                for oid, pin in pins.items():
                    if orders[oid].buyer_id != row.user_id:
                        assert pin not in text, (row.user_id, oid, text)


Conversations.TestCase.settings = settings(
    max_examples=int(os.environ.get("BOUTIK_CONVERSATION_EXAMPLES", 12)),
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestConversations = Conversations.TestCase
