"""Benchmark #4 — contended checkout on PostgreSQL: N buyers race for one product of stock 10.

Why: a flash sale puts every buyer on the same product row. Stock is taken with one conditional
UPDATE (commerce.orders.actions._take_stock), so concurrent takers queue on the row lock; this
measures what that queueing costs and proves it never oversells.

Each round: N fresh buyers (--buyers, 50 by default; issue 20 asks 500) with the product in
their cart, N threads released together by a barrier (devtools/testkit/races.py), each calling
place_order in its own transaction, sharing a pool of at most --pool connections (PostgreSQL's
default max_connections is 100: 500 buyers wait for a connection as a web tier's would).
  contended   — all N on one product with stock 10 (10 win, the others get OutOfStock);
  uncontended — each buyer on their own product (baseline: same work, no shared row).
Figures: checkout attempts resolved per second, contended ÷ uncontended (target ≥ 0.5); the
p99 time from release to an attempt's commit or rollback (target ≤ 1 s at 500); oversold =
orders beyond stock (target 0). Rounds alternate the two cases; medians reported.

Needs a database of its own (dropped and re-created, then migrated):
    createdb -h 127.0.0.1 -U postgres bench
Reproduce:
    .venv/bin/python -m bench.contended_checkout --rounds 15 [--buyers 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial
from typing import Any

from sqlalchemy import func, select

from commerce.cart.actions import add_to_cart
from commerce.errors import OutOfStock
from commerce.orders.actions import place_order
from commerce.orders.models import Order
from devtools.testkit.builders import make_buyer, make_category, make_product, make_seller, stock_of
from devtools.testkit.db import Db, migrate, open_db, truncate_all
from devtools.testkit.races import race

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
STOCK = 10
BUYERS = 50  # set from --buyers


def checkout(session: Any, *, buyer_id: int, address_id: int) -> Any:
    return place_order(
        session,
        buyer_id=buyer_id,
        address_id=address_id,
        delivery_mode="home",
        commission_payer="buyer",
        payment_method="cash",
    )


def one_round(
    db: Db, seller_id: int, category_id: int, contended: bool
) -> tuple[float, float, int, int, list[float]]:
    """(seconds for all to resolve, seconds to the 10th order, wins, oversold, each attempt's
    seconds from release to its commit or rollback)."""
    products = (
        [make_product(db, seller_id=seller_id, stock=STOCK, category_id=category_id)] * BUYERS
        if contended
        else [
            make_product(db, seller_id=seller_id, stock=STOCK, category_id=category_id)
            for _ in range(BUYERS)
        ]
    )
    buyers = [make_buyer(db) for _ in range(BUYERS)]
    for (buyer_id, _), pid in zip(buyers, products, strict=True):
        with db.uow() as s:
            add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)
    with db.session() as s:
        orders_before = s.scalar(select(func.count(Order.id))) or 0
    won_at: list[float] = []

    def timed(session: Any, *, buyer_id: int, address_id: int) -> Any:
        placed = checkout(session, buyer_id=buyer_id, address_id=address_id)
        session.flush()
        won_at.append(time.perf_counter())  # before commit: a lower bound, same for both cases
        return placed

    calls = [partial(timed, buyer_id=b, address_id=a) for b, a in buyers]
    resolved: list[float] = []
    t0 = time.perf_counter()
    results = race(db, calls, on_done=lambda: resolved.append(time.perf_counter()))
    elapsed = time.perf_counter() - t0
    tenth = sorted(won_at)[STOCK - 1] - t0
    wins = sum(isinstance(r, list) for r in results)
    unexpected = [r for r in results if not isinstance(r, list | OutOfStock)]
    assert not unexpected, unexpected
    with db.session() as s:
        orders = (s.scalar(select(func.count(Order.id))) or 0) - orders_before
    capacity = STOCK if contended else STOCK * BUYERS
    oversold = max(0, orders - capacity) + sum(stock_of(db, p) < 0 for p in set(products))
    return elapsed, tenth, wins, oversold, [r - t0 for r in resolved]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--pool", type=int, default=60, help="connections (at most --buyers)")
    args = parser.parse_args()
    global BUYERS
    BUYERS = args.buyers
    migrate(URL)
    db = open_db(URL, pool_size=min(args.pool, BUYERS), max_overflow=0)
    truncate_all(db.engine)
    seller_id, _shop = make_seller(db)
    category_id = make_category(db, "telephones")
    one_round(db, seller_id, category_id, contended=False)  # warm-up: pools, caches, JIT-free
    one_round(db, seller_id, category_id, contended=True)
    times: dict[bool, list[float]] = {True: [], False: []}
    tenths: dict[bool, list[float]] = {True: [], False: []}
    waits: dict[bool, list[float]] = {True: [], False: []}
    oversold = 0
    wins_contended: set[int] = set()
    for _ in range(args.rounds):
        for contended in (False, True):
            elapsed, tenth, wins, over, each = one_round(db, seller_id, category_id, contended)
            waits[contended] += each
            times[contended].append(elapsed)
            tenths[contended].append(tenth)
            oversold += over
            if contended:
                wins_contended.add(wins)
    rate = {c: BUYERS / statistics.median(t) for c, t in times.items()}
    print(
        f"{args.rounds} rounds x {BUYERS} concurrent checkouts, PostgreSQL {URL.rsplit('/', 1)[1]}"
    )
    for c, label in (
        (False, "uncontended (own product)"),
        (True, "contended (1 product, stock 10)"),
    ):
        t = times[c]
        print(
            f"  {label:32s} median {statistics.median(t) * 1000:7.1f} ms/round "
            f"(min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f}) -> {rate[c]:6.1f} checkouts/s"
        )
        print(f"  {'':32s} 10th order placed after {statistics.median(tenths[c]) * 1000:7.1f} ms")
        print(f"  {'':32s} p99 release -> resolved {_p99(waits[c]) * 1000:7.1f} ms")
    print(f"RATIO contended/uncontended = {rate[True] / rate[False]:.3f}   (target >= 0.5)")
    ratio10 = statistics.median(tenths[False]) / statistics.median(tenths[True])
    print(f"ratio on the first 10 orders (time uncontended / contended) = {ratio10:.3f}")
    print(
        f"wins per contended round = {sorted(wins_contended)} (must be [10]); oversold = {oversold}"
    )
    print(f"p99 time to resolve, contended = {_p99(waits[True]) * 1000:.1f} ms (target <= 1000)")
    from bench.machine import speed_line

    print(speed_line())
    print(
        f"reproduce: .venv/bin/python -m bench.contended_checkout --rounds {args.rounds} "
        f"--buyers {BUYERS} --pool {args.pool}"
    )


if __name__ == "__main__":
    main()
