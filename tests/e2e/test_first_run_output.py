"""What `make run` prints: the seed's summary, the start-up log, and the simulator URL last.

`make run` is `boutik db upgrade`, `boutik seed demo --if-empty` and `boutik serve
--simulator`, run here as the same commands on the embedded default (a SQLite file, no Redis).
A person reads the last line for the URL to open: no start-up line may follow it. The line
that used to (issue 17) was the start-up sweep's recovery of an offer wave; the test leaves a
job open and never offered, so that recovery has something to log whatever the demo holds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from commerce import clock
from commerce.cart import actions as cart
from commerce.catalog.models import Product, Shop
from commerce.db import unit_of_work
from commerce.delivery import actions as delivery
from commerce.messaging.models import Outbox
from commerce.messaging.outbox import take_pending_ids
from commerce.orders import actions as orders
from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod
from commerce.users.models import User
from devtools.seed.data import BUYERS
from tests import processes
from tests.support import open_db
from tests.timing import START_S, wait_until

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^Simulator: http://127\.0\.0\.1:\d+/simulator\b")
RECOVERY_LINE = re.compile(r"workers\.offers: job \d+ .*\(recovery\)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _boutik(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "boutik.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_S,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _leave_a_job_open_and_never_offered(url: str) -> None:
    """An order published to the couriers a few minutes ago whose first wave never went out
    (its event dropped, as a crash would): the server's start-up sweep recovers it."""
    db = open_db(url)
    clock.reset()
    clock.advance(-dt.timedelta(minutes=5))
    try:
        with unit_of_work(db.factory) as s:
            buyer = s.scalar(select(User).where(User.phone == BUYERS[0].phone))
            product = s.scalar(select(Product).where(Product.name == "Téléphone Itel A70"))
            assert buyer is not None and product is not None
            cart.add_to_cart(s, user_id=buyer.id, product_id=product.id, quantity=1)
            (placed,) = orders.place_order(
                s,
                buyer_id=buyer.id,
                address_id=buyer.addresses[0].id,
                delivery_mode=DeliveryMode.HOME,
                commission_payer=CommissionPayer.BUYER,
                payment_method=PaymentMethod.CASH,
                product_ids=[product.id],
            )
            shop = s.get(Shop, placed.order.shop_id)
            assert shop is not None
            orders.accept_order(s, seller_id=shop.owner_id, order_id=placed.order.id)
            delivery.publish_job(s, seller_id=shop.owner_id, order_id=placed.order.id)
            s.flush()
            s.execute(delete(Outbox).where(Outbox.id.in_(take_pending_ids(s))))
    finally:
        clock.reset()
        db.engine.dispose()


def test_make_run_prints_an_english_summary_and_the_simulator_url_last(tmp_path: Path) -> None:
    overlay = tmp_path / "boutik.toml"
    overlay.write_text(f'[media]\ndir = "{tmp_path / "media"}"\n')
    url = f"sqlite:///{tmp_path / 'boutik.db'}"
    env = {**os.environ, "BOUTIK_CONFIG": str(overlay), "DATABASE_URL": url, "REDIS_URL": ""}

    _boutik(env, "db", "upgrade")
    summary = _boutik(env, "seed", "demo", "--if-empty").strip()
    # English like every other line printed (database at head, Boutik listening on, …).
    assert re.fullmatch(
        r"demo data: \d+ sellers, \d+ products in \d+ categories, \d+ couriers, "
        r"\d+ buyers, \d+ orders",
        summary,
    ), summary

    _leave_a_job_open_and_never_offered(url)
    port = _free_port()
    proc = processes.start(
        [sys.executable, "-m", "boutik.cli", "serve", "--simulator", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows them
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(raw.decode(errors="replace").rstrip() for raw in proc.stdout),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        try:
            wait_until(
                lambda: (
                    any(URL_LINE.match(x) for x in lines)
                    and any(RECOVERY_LINE.search(x) for x in lines)
                ),
                START_S,
            )
        except TimeoutError:
            pytest.fail("boutik serve --simulator printed:\n" + "\n".join(lines[-40:]))
        output = list(lines)
    finally:
        processes.stop(proc)
    url_at = next(i for i, x in enumerate(output) if URL_LINE.match(x))
    recovery_at = next(i for i, x in enumerate(output) if RECOVERY_LINE.search(x))
    assert recovery_at < url_at, "\n".join(output)
    assert URL_LINE.match(output[-1]), "\n".join(output)
