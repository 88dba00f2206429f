"""What one search turn costs in SQL statements, and that the batched prices stay right.

Why pin a count: a search turn once issued one promotion query per product shown (an N+1 from
the list's prices) and eight statements to identify the sender (bench/RESULTS_inbound_scale.md);
statements are most of a turn's CPU. A new lazy load in the hot path shows up here first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select

from commerce import clock
from commerce.catalog import actions as catalog
from commerce.users.models import ChannelIdentity
from tests.support import Db, make_product, make_seller
from tests.unit.buyer_chat import Chat

# A known buyer's search on SQLite: BEGIN IMMEDIATE, dedupe insert, user with roles, identity
# upsert, inbound row's user, conversation, open question thread, handler savepoint and
# release, categories, candidates, page of products, their prices, outbox row, conversation
# update. (It was 29 before the prices were batched and the sender identified read-only.)
SEARCH_TURN_STATEMENTS = 15


@contextmanager
def counting(db: Db) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_search_turn_stays_within_its_statement_budget(db: Db, tmp_path: Path) -> None:
    seller, _shop = make_seller(db)
    for i in range(12):
        make_product(db, seller_id=seller, name=f"Téléphone Samsung Galaxy A{10 + i}")
    chat = Chat(db, tmp_path)
    chat.say("bonjour")
    chat.say("telephone samsung")  # the first search may create rows; the next ones do not
    with counting(db) as statements:
        chat.say("telephone samsung")
    menu = chat.menu()
    assert menu is not None and len(menu.choices) == 10  # 8 products, "plus", "menu"
    promo_queries = [s for s in statements if "promotions" in s]
    assert len(promo_queries) == 1, promo_queries  # the page's prices in one query
    assert len(statements) <= SEARCH_TURN_STATEMENTS, "\n".join(statements)


def test_list_prices_apply_only_the_best_live_promotion(db: Db, tmp_path: Path) -> None:
    seller, _shop = make_seller(db)
    live = make_product(db, seller_id=seller, name="Téléphone Samsung A1", price=1_000_000)
    ended = make_product(db, seller_id=seller, name="Téléphone Samsung A2", price=2_000_000)
    plain = make_product(db, seller_id=seller, name="Téléphone Samsung A3", price=3_000_000)
    now = clock.now()
    with db.uow() as s:
        for product_id, percent, start, end in (
            (live, 10, now - dt.timedelta(days=1), now + dt.timedelta(days=1)),
            (live, 20, now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)),
            (live, 50, now + dt.timedelta(days=1), now + dt.timedelta(days=2)),  # not yet
            (ended, 30, now - dt.timedelta(days=2), now + dt.timedelta(minutes=1)),
        ):
            catalog.add_promotion(
                s,
                seller_id=seller,
                product_id=product_id,
                percent=percent,
                starts_at=start,
                ends_at=end,
            )
    clock.advance(dt.timedelta(minutes=2))  # the 30 % on A2 is over
    with db.uow() as s:
        products = [catalog.get_visible_product(s, pid) for pid in (live, ended, plain)]
        prices = catalog.effective_prices(s, products)
        assert prices == {live: 800_000, ended: 2_000_000, plain: 3_000_000}
        assert prices == {p.id: catalog.effective_price(p) for p in products}  # the one rule
    chat = Chat(db, tmp_path)
    chat.say("bonjour")
    chat.say("telephone samsung")
    labels = [c.label for c in chat.menu().choices]  # type: ignore[union-attr]
    assert any(label.endswith("800k") for label in labels), labels


def test_each_inbound_message_moves_the_whatsapp_window(db: Db, tmp_path: Path) -> None:
    """touch_identity is one upsert now: the first message creates the identity, later ones
    move last_inbound_at and clear a block, and a loaded copy is not left stale."""
    chat = Chat(db, tmp_path)
    before = clock.now()
    chat.say("bonjour")
    with db.session() as s:
        ident = s.scalar(select(ChannelIdentity).where(ChannelIdentity.address == chat.number))
        assert ident is not None and ident.last_inbound_at is not None
        assert before <= ident.last_inbound_at <= clock.now()
        ident.blocked = True
        s.commit()
    clock.advance(dt.timedelta(hours=3))
    later = clock.now()
    chat.say("menu")
    with db.session() as s:
        stmt = select(ChannelIdentity).where(ChannelIdentity.address == chat.number)
        rows = list(s.scalars(stmt))
        assert len(rows) == 1
        assert rows[0].last_inbound_at is not None and later <= rows[0].last_inbound_at
        assert rows[0].blocked is False
