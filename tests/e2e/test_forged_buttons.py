"""Every button anyone received, pressed by someone else: nothing happens, nothing leaks.

A Telegram button's callback_data (a WhatsApp quick reply's ButtonPayload) comes back from the
user's device: whoever taps — or forges — it, the core must check that this actor may do this
now (role, approval, ownership, assignment, state). This test runs short real journeys on the
running app (a buyer on Telegram and one on WhatsApp, a seller, a courier and an admin on
Telegram), collects every callback_data the Telegram emulator delivered to them (and every menu
id the WhatsApp buyer was offered), then replays each one — and, ids being sequential, its
neighbours id-1, id+1 and a large id — as every other kind of user: a second buyer (who is also
the non-admin), a second seller with a shop of their own, a courier whose sign-up is still
pending, an approved courier who was never offered nor assigned the job, and a second WhatsApp
buyer; checkout buttons also as the second buyer half-way through a checkout of her own.

For each replay: the database must not change (except what the attacker owns — their cart,
conversation, language —, and self-approval still counts), no outbox row may be written to
anybody else, and nothing sent to the attacker may carry the others' phone numbers, delivery
landmark, order totals, PIN or QR code. A replay that leaves the conversation waiting for typed
words (a refusal reason, a PIN) gets plausible ones, so a check made only at the second step is
tested too. The world is put back after every replay; failures are reported all together.
"""

from __future__ import annotations

import io
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from bot.buyer.flow import FLOW as BUYER_FLOW
from bot.router import owns
from commerce import rules
from commerce.catalog.models import Product
from commerce.delivery.models import Courier, DeliveryCode, DeliveryJob, JobStatus
from commerce.orders.models import Order, OrderStatus
from commerce.returns.models import Return
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.forgery import (
    OWNERSHIP,
    SENT,
    TABLES,
    Secret,
    Snapshot,
    Tg,
    Wa,
    amount_secret,
    buttons_of,
    changes,
    conversation_of,
    digest,
    drain,
    file_secrets,
    literal_secret,
    max_outbox_id,
    outbox_since,
    phone_secret,
    pin_secret,
    restore,
    set_conversation,
    snapshot,
    text_of,
    user_id_of,
)
from tests.support import make_admin, make_category, make_product, make_seller, phone, uid
from tests.webhooks import (
    post_telegram,
    post_twilio,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)

WA = "/webhooks/twilio/whatsapp"
LARGE_ID = 2_000_000_000
# Buttons anyone may press for themselves (navigation, the public catalogue, their own cart,
# checkout and sign-up): replayed once per kind, without id neighbours.
PUBLIC = (
    "menu:", "lang:", "cat:", "prod:", "more", "buy:", "add:", "opts:", "qty:", "ask:", "line:",
    "cart:", "promo:", "co:start", "co:payer", "co:pay", "co:addr", "co:stop", "co:edit",
    "co:back", "addr:new",
    "addr:pin", "addr:pickup", "reg:", "pref:", "qtr:", "lm:", "pay:", "payer:", "rv:skip",
    "rp:skip", "rr:", "rpr:", "rep:p:", "w:", "m:new", "m:products", "m:orders", "m:promo",
    "m:stats", "nw:", "nc:", "pg:", "c:on", "c:off", "c:jobs", "c:earn", "c:help", "c:veh:",
    "a:", "x:", "fav:add:", "ph:",  # a visible product favourited or paged, for herself
)  # fmt: skip
# Checkout buttons that name something of the buyer's: replayed also mid-checkout.
CHECKOUT = ("addr:", "co:ok:")
# A replay that leaves the attacker's conversation waiting for words gets these.
FOLLOW_UP = {
    ("seller", "refuse_reason"): "Rupture de stock",
    ("seller", "courier_phone"): "+224620000001",
    ("seller", "bonus"): "0",
    ("seller", "return_reason"): "Produit utilisé",
    ("seller", "review_reply"): "Merci pour votre avis",
    ("seller", "pin"): "000000",
    ("seller", "edit_value"): "10",
    ("seller", "restock"): "10",
    ("seller", "promo_percent"): "10",
    ("seller", "thread_reply"): "Réponse",
    ("admin", "mod_reason"): "Motif",
    ("admin", "thread_reply"): "Réponse",
    ("courier", "wait_pin"): "000000",
    ("buyer", "review_comment"): "Très bien",
    ("buyer", "return_reason"): "Produit cassé",
    ("buyer", "return_photo"): "passer",
    ("buyer", "cancel"): "oui",
}
# The journeys must reach at least these buttons, or the test proves little.
EXPECTED = (
    "c:take:N", "c:pick:N", "c:pin:N", "o:a:N", "o:r:N", "o:v:N", "d:m:N", "d:k:N", "d:p:N",
    "d:b:N:N", "d:c:N", "cash:yes:N", "cash:no:N", "rate:N:N", "order:N", "qr:N", "cancel:N",
    "cx:yes:N", "ret:N", "rep:s:N", "addr:N", "r:a:N", "r:r:N", "rv:N", "th:r:N", "th:c:N",
    "pr:N", "pe:N", "pf:N:price", "pp:N", "ps:N", "pm:N", "pd:N", "px:N", "ms:a:N", "mp:a:N",
    "mc:a:N", "mv:p:N", "m:skip:p:N", "rp:v:N", "rp:ok:N", "u:v:N", "u:off:N", "x:orders",
    "c:drop:N", "refund:N", "pc:N:N",
)  # fmt: skip


@pytest.fixture
def app(boutik: Boutik) -> Iterator[Boutik]:
    boutik.rt.config = boutik.rt.config.replace(
        telegram__rate_per_s=10_000.0,  # the real pacing is tested elsewhere
        telegram__rate_per_chat_per_s=10_000.0,
        twilio__whatsapp_rate_per_s=10_000.0,
        twilio__sms_segments_per_s=10_000.0,
        delivery__offer_timeout_s=3600,  # no second offer wave during the test
    )
    boutik.use_rules(rules.Rules(reports_to_deactivate=1000))
    yield boutik


def _jpeg() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 24), "green").save(out, format="JPEG")
    return out.getvalue()


# --- the journeys ------------------------------------------------------------------------------


@dataclass
class World:
    admin: Tg
    seller: Tg
    courier: Tg
    buyer: Tg
    wa_buyer: Wa
    pending_courier: Tg
    free_courier: Tg
    buyer2: Tg
    seller2: Tg
    wa_attacker: Wa
    orders: dict[str, int] = field(default_factory=dict)  # what became of it → order id


def _tg(b: Boutik, name: str) -> Tg:
    return Tg(b, 610_000_000 + uid(), name)


def _user(tg: Tg) -> User:
    with tg.b.db.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == tg.chat))
        assert user is not None
        return user


def _sign_up_courier(admin: Tg, courier: Tg, name: str, place: str, *, approve: bool) -> None:
    courier.say("/start")
    courier.press("w:courier")
    courier.say(name)
    courier.say(place)
    courier.press("c:veh:moto")
    with courier.b.db.session() as s:
        row = s.scalar(select(Courier).where(Courier.user_id == _user(courier).id))
        assert row is not None
    if approve:
        admin.press(f"mc:a:{row.id}")
        courier.press("c:on")


def _checkout(buyer: Tg, product_id: int, quantity: int, *, landmark: str = "") -> int:
    """From the product card to a placed order (a new address when a landmark is given)."""
    buyer.press(f"prod:{product_id}")
    buyer.press(f"add:{product_id}")
    if quantity <= 5:
        buyer.press(f"qty:{quantity}")
    else:
        buyer.say(str(quantity))  # beyond the quick choices: typed
    buyer.press("co:start")
    if landmark:
        buyer.press("addr:new")
        buyer.press("reg:", "Conakry")
        buyer.press("pref:", "Kaloum")
        buyer.press("qtr:")
        buyer.say(landmark)
    else:
        buyer.tap(next(d for d in buyer.buttons() if re.fullmatch(r"addr:\d+", d)))
    buyer.press("co:ok:")
    with buyer.b.db.session() as s:
        newest = select(Order.id).where(Order.buyer_id == _user(buyer).id)
        return int(s.scalar(newest.order_by(Order.id.desc())) or 0)


def _job_of(b: Boutik, order_id: int) -> int:
    with b.db.session() as s:
        return int(s.scalar(select(DeliveryJob.id).where(DeliveryJob.order_id == order_id)) or 0)


def journeys(b: Boutik) -> World:
    admin = _tg(b, "admin")
    make_admin(b.db, telegram_id=admin.chat)
    admin.say("/start")
    category = make_category(b.db, "mode")
    w = World(
        admin=admin,
        seller=_tg(b, "seller"),
        courier=_tg(b, "courier"),
        buyer=_tg(b, "buyer"),
        wa_buyer=Wa(b, phone(), "WhatsApp buyer"),
        pending_courier=_tg(b, "pending courier"),
        free_courier=_tg(b, "approved courier, not assigned"),
        buyer2=_tg(b, "second buyer"),
        seller2=_tg(b, "second seller"),
        wa_attacker=Wa(b, phone(), "WhatsApp attacker"),
    )

    # The seller opens a shop on Telegram; the admin approves it from the alert.
    seller = w.seller
    seller.say("/start")
    seller.press("w:shop")
    contact = {"phone_number": phone(), "first_name": "Awa", "user_id": seller.chat}
    seller.say(contact=contact)
    seller.say("Chez Awa")
    seller.press("pf:Kaloum")
    seller.say("Boulbinet")
    seller.say("Face au port")
    admin.press("ms:a:")
    # A product, guided, with a photo; the admin looks at it, then approves it.
    b.store.add_file("AgACforged1", _jpeg(), file_path="photos/forged_1.jpg")
    seller.say("/nouveau")
    photo = {"file_id": "AgACforged1", "file_unique_id": "f1", "width": 32, "height": 24}
    seller.say("", photo=[photo])
    seller.press("nph:done")  # one photo of up to five
    seller.say("Pagne wax")
    seller.say("Tissu 6 yards")
    seller.press(f"nc:{category}")
    for answer in ("Vlisco", "-", "250000", "40"):
        seller.say(answer)
    seller.press("nw:ok")
    admin.press("mv:p:")
    admin.press("mp:a:")
    product_id = int(admin.button("mp:a:").rsplit(":", 1)[1])
    # A second product waits for moderation: the admin's buttons for it stay live.
    make_product(b.db, seller_id=_user(seller).id, name="Sac en raphia", approve=False)
    drain(b)

    # The courier signs up on Telegram, is approved, switches on. Among the attackers, one
    # courier stays pending, one is approved but far away (Kankan): never offered a job here.
    _sign_up_courier(admin, w.courier, "Ibrahima Camara", "Kaloum", approve=True)
    _sign_up_courier(admin, w.pending_courier, "Sekou Pendant", "Kaloum", approve=False)
    _sign_up_courier(admin, w.free_courier, "Moussa Libre", "Kankan", approve=True)

    # The buyer on Telegram: browse, cart, checkout with a new address; then five more orders
    # to the saved address, each to be left at another stage.
    buyer = w.buyer
    buyer.say("/start")
    buyer.press("w:buy")
    buyer.press("menu:catalog")
    buyer.press("cat:")
    landmark = f"Derrière la grande mosquée {uid()}"
    w.orders["delivered"] = _checkout(buyer, product_id, 3, landmark=landmark)
    # Distinct quantities: every order has its own total.
    stages = (("picked_up", 2), ("claimed", 4), ("self", 5), ("accepted", 8), ("placed", 6))
    for key, quantity in (*stages, ("returned", 7)):
        w.orders[key] = _checkout(buyer, product_id, quantity)
    # A question about the product: the seller gets a thread with Reply / Close.
    buyer.press(f"prod:{product_id}")
    buyer.press(f"opts:{product_id}")  # "Autres choix"
    buyer.press(f"ask:{product_id}")
    buyer.say("Est-ce du vrai Vlisco ?")
    seller.press("th:r:")
    seller.say("Oui, garanti")

    # The WhatsApp buyer: search, buy, a new address, confirm, look at the order.
    wa = w.wa_buyer
    wa.send("bonjour")
    wa.send("pagne")
    for prefix, label in (("prod:", ""), ("buy:", ""), ("addr:new", ""), ("reg:", "Conakry")):
        wa.pick(prefix, label)
    wa.pick("pref:", "Dixinn")
    wa.pick("qtr:")
    wa.send(f"Immeuble bleu {uid()}")
    wa.pick("co:ok:")
    with b.db.session() as s:
        wa_id = s.scalar(select(User.id).where(User.phone == wa.number))
        w.orders["open_job"] = int(s.scalar(select(Order.id).where(Order.buyer_id == wa_id)) or 0)
    wa.send(f"commande {w.orders['open_job']}")

    # The seller works the orders from the alerts: accept and publish (with or without a
    # bonus), deliver personally, ask for a known courier; one order stays placed.
    for key in ("delivered", "returned", "picked_up", "claimed", "open_job"):
        order_id = w.orders[key]
        seller.press(f"o:a:{order_id}")
        seller.press(f"d:p:{order_id}")
        seller.press(f"d:b:{order_id}:{5000 if key == 'picked_up' else 0}")
    seller.press(f"o:a:{w.orders['self']}")
    seller.press(f"d:m:{w.orders['self']}")
    seller.press(f"d:c:{w.orders['self']}")
    seller.say("/annuler")
    seller.press(f"o:a:{w.orders['accepted']}")
    seller.press(f"d:k:{w.orders['accepted']}")
    seller.say("/annuler")

    # The courier takes four jobs from the offers, picks up three, delivers two with the PIN.
    courier = w.courier
    for key in ("delivered", "returned", "picked_up", "claimed"):
        courier.press(f"c:take:{_job_of(b, w.orders[key])}")
    for key in ("delivered", "returned", "picked_up"):
        courier.press(f"c:pick:{_job_of(b, w.orders[key])}")
    for key in ("delivered", "returned"):
        courier.press(f"c:pin:{_job_of(b, w.orders[key])}")
        with b.db.session() as s:
            code = select(DeliveryCode.pin).where(DeliveryCode.order_id == w.orders[key])
            courier.say(str(s.scalar(code)))
        buyer.press(f"cash:yes:{w.orders[key]}")
    courier.press("c:jobs")
    courier.press("c:earn")

    # One delivered order comes back: return asked, approved by the seller, the courier
    # collects it from the buyer (refund in hand); dropping it at the shop stays to do.
    returned = w.orders["returned"]
    buyer.press("menu:orders")
    buyer.press(f"order:{returned}")
    buyer.press(f"ret:{returned}")
    buyer.press("rr:not_as_shown")
    buyer.press("rp:skip")
    seller.press("r:a:")
    with b.db.session() as s:
        back = select(DeliveryJob.id).where(DeliveryJob.order_id == returned)
        return_job = int(s.scalar(back.order_by(DeliveryJob.id.desc())) or 0)
    courier.press(f"c:take:{return_job}")
    courier.press(f"c:pick:{return_job}")

    # The buyer rates, looks at her orders, asks for another return (left to decide), reports.
    delivered = w.orders["delivered"]
    buyer.press(f"rate:{delivered}:4")
    buyer.press("rv:skip")
    buyer.press("menu:orders")
    for key in ("picked_up", "placed"):
        buyer.press(f"order:{w.orders[key]}")
    buyer.press(f"qr:{w.orders['placed']}")
    buyer.press(f"cancel:{w.orders['placed']}")
    buyer.press(f"cx:no:{w.orders['placed']}")
    buyer.press(f"order:{delivered}")
    buyer.press(f"ret:{delivered}")
    buyer.press("rr:broken")
    buyer.press("rp:skip")
    buyer.press(f"order:{delivered}")
    buyer.press(f"rep:s:{delivered}")
    buyer.press("rpr:scam")

    # The seller: the review, the return (left to decide), the product's buttons, the lists.
    seller.press("rv:")
    seller.say("Merci !")
    seller.press("m:products")
    seller.press(f"pr:{product_id}")
    seller.press(f"pe:{product_id}")
    seller.press(f"pf:{product_id}:price")
    seller.say("/annuler")
    seller.press(f"pe:{product_id}")
    seller.press(f"pf:{product_id}:category")  # its category buttons stay untapped
    for prefix in ("ps:", "pm:"):
        seller.press(f"{prefix}{product_id}")
        seller.say("/annuler")
    seller.press(f"pd:{product_id}")  # its confirmation button stays untapped
    seller.press("m:orders")
    seller.press(f"o:v:{w.orders['placed']}")
    seller.press("m:stats")

    # The admin: the moderation queue, the report, the account, an export, the figures.
    admin.press("a:mod")
    admin.press("m:skip:")
    admin.press("a:rep")
    admin.press("rp:v:")
    admin.press("u:v:")
    admin.press("a:users")
    admin.say("Awa")
    admin.press("a:export")
    admin.press("x:orders")
    admin.press("a:fig")

    # The attackers' own footing: the second buyer at the menu, the second seller with an
    # approved shop and products (one waiting for moderation), the WhatsApp attacker.
    w.buyer2.say("/start")
    w.buyer2.press("w:buy")
    seller2_id, _shop = make_seller(b.db)
    with b.db.session() as s:
        w.seller2.chat = int(s.scalar(select(User.telegram_id).where(User.id == seller2_id)) or 0)
    make_product(b.db, seller_id=seller2_id, name="Radio solaire", price=123_000)
    make_product(b.db, seller_id=seller2_id, name="Lampe", price=77_000, approve=False)
    drain(b)
    w.seller2.say("/start")
    w.wa_attacker.send("bonjour")
    return w


# --- what is secret --------------------------------------------------------------------------


def secrets(b: Boutik, w: World) -> list[Secret]:
    """The victims' phones, and per order its total, PIN, QR token and image, landmark."""
    found = [phone_secret(w.wa_buyer.name, w.wa_buyer.number)]
    for tg in (w.seller, w.courier, w.buyer, w.admin):
        if _user(tg).phone:
            found.append(phone_secret(tg.name, str(_user(tg).phone)))
    with b.db.session() as s:
        for key, order_id in w.orders.items():
            order = s.get(Order, order_id)
            code = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order_id))
            assert order is not None and code is not None
            owner = f"order {order_id} ({key})"
            found.append(amount_secret(owner, order.total, "total"))
            found.append(pin_secret(owner, code.pin))
            found.append(literal_secret(owner, "QR token", code.token))
            for image in (b.rt.config.media_dir / "qr").glob(f"{order_id}-*.png"):
                found += file_secrets(owner, "QR image", image)
            if order.landmark:
                found.append(literal_secret(owner, f"landmark {order.landmark!r}", order.landmark))
    found.append(Secret("a courier", "QR confirmation link", re.compile(r"/q/c/\S+")))
    return found


# --- replaying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attacker:
    name: str
    user_id: int
    channel: str  # "telegram" | "whatsapp"
    address: str  # chat id or phone number
    conv_id: int
    baseline: dict[str, Any]  # the conversation each replay starts from

    @classmethod
    def of(cls, b: Boutik, name: str, *, tg: Tg | None = None, wa: Wa | None = None) -> Attacker:
        engine = b.db.engine
        if tg is not None:
            channel, address = "telegram", str(tg.chat)
            user_id = user_id_of(engine, telegram_id=tg.chat)
        else:
            assert wa is not None
            channel, address = "whatsapp", wa.number
            user_id = user_id_of(engine, phone=wa.number)
        conv = conversation_of(engine, channel, address)
        saved = {k: conv[k] for k in ("flow", "state", "data", "human_mode")}
        return cls(name, user_id, channel, address, conv["id"], saved)


@dataclass(frozen=True)
class Baseline:
    """The world every replay starts from: all rows, and their digest."""

    rows: Snapshot
    md5: Snapshot

    @classmethod
    def now(cls, b: Boutik) -> Baseline:
        drain(b)
        return cls(snapshot(b.db.engine), digest(b.db.engine))


@dataclass
class Failure:
    payload: str
    origin: str  # "received by …" or "id neighbour of …"
    attacker: str
    leaked: list[str]
    changed: list[str]
    reply: str

    def pattern(self) -> str:
        return re.sub(r"\d+", "<id>", self.payload)


def _first_id(payload: str) -> re.Match[str] | None:
    return re.search(r"(?<![^:])\d+(?![^:])", payload)


def _family(payload: str) -> str:
    """A button and its siblings that differ after the id ("d:b:12:0", "d:b:12:5000")."""
    match = _first_id(payload)
    if match is None:
        return payload
    return payload[: match.end()] + re.sub(r"\d+", "N", payload[match.end() :])


def _variants(payload: str) -> list[str]:
    """id-1, id+1 and a large id in place of the first number of a non-public payload."""
    match = _first_id(payload)
    if payload.startswith(PUBLIC) or match is None:
        return []
    value = int(match.group())
    return [
        payload[: match.start()] + str(other) + payload[match.end() :]
        for other in (value - 1, value + 1, LARGE_ID)
        if other > 0
    ]


def _seen(b: Boutik, attacker: Attacker) -> list[Any]:
    if attacker.channel == "whatsapp":
        return b.store.twilio_messages(to=f"whatsapp:{attacker.address}")
    return b.store.telegram_calls(chat_id=attacker.address)


def _what_they_read(b: Boutik, attacker: Attacker, since: int, query_id: str) -> str:
    new = _seen(b, attacker)[since:]
    if attacker.channel == "whatsapp":
        return "\n".join(m.body + " " + " ".join(m.media_urls) for m in new)
    answers = [
        c
        for c in b.store.telegram_calls(method="answerCallbackQuery")
        if str(c.params.get("callback_query_id")) == query_id
    ]
    shown = [c for c in new if c.method.lower() in SENT]
    return "\n".join(text_of(c) for c in [*shown, *answers])


def _post(b: Boutik, attacker: Attacker, *, payload: str = "", words: str = "") -> str:
    """One inbound message from the attacker (a button, or words); the callback query id."""
    if attacker.channel == "whatsapp":
        extra = {"ButtonPayload": payload, "ButtonText": "OK"} if payload else {}
        form = whatsapp_form(attacker.address, words, **extra)
        assert post_twilio(b.client, WA, form).status_code == 200
        drain(b)
        return ""
    chat = int(attacker.address)
    update = telegram_callback(chat, payload) if payload else telegram_message(chat, words)
    assert post_telegram(b.client, update).status_code == 200
    drain(b)
    return str(update.get("callback_query", {}).get("id", ""))


def replay(
    b: Boutik, base: Baseline, attacker: Attacker, payload: str, origin: str, hidden: list[Secret]
) -> Failure | None:
    engine = b.db.engine
    set_conversation(engine, attacker.conv_id, attacker.baseline)
    first_outbox = max_outbox_id(engine)
    since = len(_seen(b, attacker))
    query_id = _post(b, attacker, payload=payload)
    conv = conversation_of(engine, attacker.channel, attacker.address)
    words = FOLLOW_UP.get((conv["flow"], conv["state"]))
    if words and conv["state"] != attacker.baseline["state"]:
        _post(b, attacker, words=words)  # the second step of a two-step action
    now = digest(engine)
    touched = [name for name in TABLES if now[name] != base.md5[name]]
    changed: list[str] = []
    if touched:
        changed = changes(base.rows, snapshot(engine, {*touched, *OWNERSHIP}), attacker.user_id)
        restore(engine, base.rows, touched)  # the next replay meets the same world
    for row in outbox_since(engine, first_outbox):
        if row["user_id"] != attacker.user_id and row["address"] != attacker.address:
            changed.append(f"outbox#{row['id']}: {row['kind']} to user {row['user_id']}")
    read = _what_they_read(b, attacker, since, query_id)
    leaked = sorted({f"{s.label} of {s.owner}" for s in hidden if s.found(read)})
    if not changed and not leaked:
        return None
    return Failure(payload, origin, attacker.name, leaked, changed, " ".join(read.split())[:300])


def _report(failures: list[Failure], replays: int, seconds: float) -> str:
    groups: dict[tuple[str, str], list[Failure]] = defaultdict(list)
    for f in failures:
        groups[(f.pattern(), f.attacker)].append(f)
    lines = [
        f"{len(failures)} of {replays} forged button presses acted or leaked "
        f"({len(groups)} button × attacker kinds; replays took {seconds:.0f} s):",
    ]
    for (pattern, attacker), fs in sorted(groups.items()):
        lines.append(f"* {pattern} as {attacker}: {len(fs)}×")
        leaked = sorted({x for f in fs for x in f.leaked})
        changed = sorted({re.sub(r"#\d+", "", x.split(":")[0]) for f in fs for x in f.changed})
        if leaked:
            lines.append(f"    leaked: {'; '.join(leaked)}")
        if changed:
            lines.append(f"    changed: {', '.join(changed)}")
    lines += ["", "Every failure:"]
    for f in failures:
        lines.append(f"- {f.payload!r} ({f.origin}) as {f.attacker}")
        lines += [f"    leaked {x}" for x in f.leaked]
        lines += [f"    changed {x}" for x in f.changed]
        lines.append(f"    they read: {f.reply}")
    return "\n".join(lines)


def _received(b: Boutik, w: World) -> dict[str, set[str]]:
    """callback_data (and WhatsApp menu ids) → who received it."""
    people = (w.admin, w.seller, w.courier, w.buyer, w.pending_courier, w.free_courier)
    chats = {str(t.chat): t.name for t in (*people, w.buyer2, w.seller2)}
    received: dict[str, set[str]] = defaultdict(set)
    for call in b.store.telegram_calls():
        if str(call.chat_id) in chats:
            for _label, data in buttons_of(call):
                received[data].add(chats[str(call.chat_id)])
    for wa in (w.wa_buyer, w.wa_attacker):
        wa.harvest()
        for data in wa.payloads:
            received[data].add(wa.name)
    return received


def test_every_received_button_pressed_by_someone_else_does_nothing_and_leaks_nothing(
    app: Boutik,
) -> None:
    b = app
    w = journeys(b)
    received = _received(b, w)
    victims = {t.name for t in (w.admin, w.seller, w.courier, w.buyer, w.wa_buyer)}
    collected = {data: who for data, who in received.items() if who & victims}

    # The journeys reached what this test is about: the buttons, and live targets for them.
    patterns = {re.sub(r"\d+", "N", d) for d in collected}
    missing = [p for p in EXPECTED if p not in patterns]
    assert not missing, f"the journeys never produced {missing}: {sorted(patterns)}"
    with b.db.session() as s:
        assert s.scalar(select(Return.id)) is not None
        statuses = set(s.scalars(select(Order.status)))
        jobs = set(s.scalars(select(DeliveryJob.status)))
        radio = s.scalar(select(Product.id).where(Product.name == "Radio solaire"))
    assert {OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.PICKED_UP} <= statuses
    assert {JobStatus.OPEN, JobStatus.CLAIMED, JobStatus.PICKED_UP} <= jobs

    hidden = secrets(b, w)
    attackers = [
        Attacker.of(b, w.buyer2.name, tg=w.buyer2),
        Attacker.of(b, w.seller2.name, tg=w.seller2),
        Attacker.of(b, w.pending_courier.name, tg=w.pending_courier),
        Attacker.of(b, w.free_courier.name, tg=w.free_courier),
        Attacker.of(b, w.wa_attacker.name, wa=w.wa_attacker),
    ]
    # The second buyer half-way through a checkout of her own: a cart, the address step.
    w.buyer2.tap(f"buy:{radio}")
    mid_checkout = Attacker.of(b, "second buyer, mid-checkout", tg=w.buyer2)
    assert mid_checkout.baseline["state"] == "co_address", mid_checkout.baseline

    plan: dict[tuple[str, str], tuple[str, str, Attacker]] = {}  # one try per (payload, who)
    public_seen: set[str] = set()
    families: set[str] = set()
    for data, who in sorted(collected.items()):
        if data.startswith(PUBLIC):
            kind = re.sub(r"\d+", "N", data)
            if kind in public_seen:
                continue  # one of each public button is enough: they name nobody's things
            public_seen.add(kind)
        tries = [(data, "received by " + ", ".join(sorted(who)))]
        if _family(data) not in families:  # neighbours once per family, not per sibling
            families.add(_family(data))
            tries += [(v, f"id neighbour of {data!r}") for v in _variants(data)]
        for payload, origin in tries:
            for attacker in [*attackers, mid_checkout]:
                if attacker is mid_checkout and not payload.startswith(CHECKOUT):
                    continue
                if attacker.name in received.get(payload, set()):
                    continue  # their own button
                if attacker.channel == "whatsapp" and (
                    payload != data or not owns(BUYER_FLOW, payload)
                ):
                    continue  # the buyer flow only; its neighbour ids are the second buyer's
                plan.setdefault((payload, attacker.name), (payload, origin, attacker))

    # And every courier button for every job there is, whoever was offered it: the hole that
    # started this test was a c:pick for an open job that no button ever named.
    with b.db.session() as s:
        job_ids = sorted(s.scalars(select(DeliveryJob.id)))
    for job_id in job_ids:
        for verb in ("c:take", "c:pick", "c:pin", "c:drop"):
            payload = f"{verb}:{job_id}"
            for attacker in attackers[:4]:  # the Telegram ones
                if attacker.name not in received.get(payload, set()):
                    plan.setdefault((payload, attacker.name), (payload, "every job", attacker))

    base = Baseline.now(b)
    started = time.monotonic()
    failures = [
        failure
        for payload, origin, attacker in plan.values()
        if (failure := replay(b, base, attacker, payload, origin, hidden)) is not None
    ]
    seconds = time.monotonic() - started
    drifted = [name for name, md5 in digest(b.db.engine).items() if md5 != base.md5[name]]
    assert not failures, _report(failures, len(plan), seconds)
    assert not drifted, f"the replays left these tables changed (restore failed): {drifted}"
