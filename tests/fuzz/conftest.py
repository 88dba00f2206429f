"""The real Flask app on a private SQLite file, with nothing ever sent.

Why SQLite and no dispatcher: the fuzz tests push ten thousand payloads through the whole
inbound path (signature → parse → de-dup → engine → outbox) and must stay fast and socket-free.
Replies stay as pending outbox rows, which is exactly what the tests read back: a reply exists
for the user, in their language, whether or not a provider ever receives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.users import actions as users
from commerce.users.models import User
from settings.config import load_config
from tests.support import Db, make_buyer, make_courier, make_product, make_seller
from tests.unit import flows
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, TELEGRAM_SECRET, TELEGRAM_TOKEN

ADMIN_TELEGRAM_ID = 990_001


class NullDispatcher:
    """Keeps every outbox row pending and starts no job: the tests inspect the rows."""

    def dispatch(self, ids: list[int]) -> None:
        """Nothing leaves the process."""

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        """No retries to plan: nothing was sent."""

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        """Courier offer waves, exports, the assistant: not part of an inbound turn."""


@dataclass
class App:
    client: FlaskClient
    rt: Runtime
    db: Db


def make_app(db: Db, media_dir: Path) -> App:
    """The production app factory on `db`, signed by the test secrets, sending nothing."""
    config = load_config(
        environ={
            "DATABASE_URL": str(db.engine.url),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        }
    ).replace(
        web__public_base_url=PUBLIC,
        twilio__api_base_url="http://127.0.0.1:9",
        telegram__api_base_url="http://127.0.0.1:9/bot",
        telegram__admin_ids=(ADMIN_TELEGRAM_ID,),
        media__dir=str(media_dir),
        queue__redis_url="",
    )
    rt = Runtime(config)
    # The runtime's engine is the test database's own: one SQLite engine, no second pool.
    rt.__dict__["engine"] = db.engine
    rt.__dict__["dispatcher"] = NullDispatcher()
    app = create_app(config, runtime=rt)
    app.testing = False  # errors become 500 responses, as in production, not re-raised
    return App(client=app.test_client(), rt=rt, db=db)


@pytest.fixture
def app(db: Db, tmp_path: Path) -> Iterator[App]:
    made = make_app(db, tmp_path / "media")
    yield made
    made.rt.dispose()


@dataclass(eq=False)  # hashable by identity: strategies are built once per world
class World:
    """Everyone the fuzzers talk as, with an order already in flight between them."""

    app: App
    wa_buyers: list[str]  # WhatsApp numbers; the second one reads English
    sms_buyers: list[str]
    courier: str  # SMS number of an approved, available courier
    seller_tg: int
    admin_tg: int
    stranger_tg: int  # a Telegram user with no role yet
    order_ids: list[int]

    @property
    def db(self) -> Db:
        return self.app.db


def build_world(made: App) -> World:
    """Real actions only (tests.support builders): the fuzz hits data the rules produced."""
    db = made.db
    seller_id, _shop = make_seller(db)
    make_product(db, seller_id=seller_id, name="Téléphone Samsung Galaxy A15", stock=50)
    make_product(db, seller_id=seller_id, name="Chaussures Nike", price=250_000, stock=50)
    fr_buyer, en_buyer, sms_buyer = make_buyer(db), make_buyer(db), make_buyer(db)
    order = flows.place(db, seller=(seller_id, _shop), buyer=fr_buyer, stock=50)
    flows.place(db, seller=(seller_id, _shop), buyer=en_buyer, stock=50)
    courier_id = make_courier(db)
    with db.uow() as s:
        users.set_language(s, user_id=en_buyer[0], language="en")
        seller_tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
        phones = {u.id: u.phone for u in s.scalars(select(User))}
    return World(
        app=made,
        wa_buyers=[phones[fr_buyer[0]], phones[en_buyer[0]]],  # type: ignore[list-item]
        sms_buyers=[phones[sms_buyer[0]]],  # type: ignore[list-item]
        courier=phones[courier_id],  # type: ignore[arg-type]
        seller_tg=seller_tg,  # type: ignore[arg-type]
        admin_tg=ADMIN_TELEGRAM_ID,
        stranger_tg=777_001,
        order_ids=[order.order_id],
    )


@pytest.fixture
def world(app: App) -> World:
    return build_world(app)
