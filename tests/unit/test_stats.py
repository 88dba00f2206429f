"""Seller statistics and the next-month forecast: a range always, a method named; the chart
is drawn by a worker, so the web process never imports matplotlib."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

from commerce import clock
from commerce.stats import forecast_next_month, seller_stats
from tests.support import ROOT, Db
from tests.timing import START_S
from tests.unit import flows


def test_no_sales_no_forecast() -> None:
    f = forecast_next_month([0, 0, 0])
    assert (f.method, f.low, f.high, f.expected) == ("none", 0, 0, None)


def test_short_history_gives_a_range_not_a_number() -> None:
    f = forecast_next_month([0, 0, 100_000, 300_000])
    assert f.method == "average" and f.months_used == 2 and f.expected is None
    assert (f.low, f.high) == (100_000, 300_000)


def test_trend_with_enough_history() -> None:
    f = forecast_next_month([100_000, 200_000, 300_000, 400_000])
    assert f.method == "trend" and f.expected == 500_000
    assert f.low < 500_000 < f.high


def test_seller_stats_count_delivered_revenue_and_low_stock(db: Db) -> None:
    p = flows.place(db, price=100_000, quantity=2, stock=4)
    flows.deliver(db, p)
    with db.session() as s:
        stats = seller_stats(s, seller_id=p.seller_id, now=clock.now())
    assert stats.revenue_by_month[-1][1] == 200_000
    assert stats.top_products[0][1] == 2
    assert stats.low_stock and stats.low_stock[0][1] == 2
    assert stats.orders_by_day[-1] == (clock.now().date(), 1)
    assert len(stats.orders_by_day) == 30
    assert stats.forecast.method == "none"  # the current month is not complete yet
    with db.session() as s:
        later = seller_stats(s, seller_id=p.seller_id, now=clock.now() + dt.timedelta(days=40))
    assert later.forecast.method == "average"


# The web process never loads matplotlib: the chart is drawn by a worker job. Run in a fresh
# interpreter, because this test run has long imported it. The webhook turn is a real /stats
# from a seller; the dispatcher records the job instead of running it, as RQ would.
_WEB_PROCESS = """
import json, sys
from settings.config import load_config
from boutik.runtime import Runtime
from channels_adapters.web import create_app
from tests.support import make_seller, open_db
from tests.webhooks import (
    ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_SECRET, TELEGRAM_TOKEN, post_telegram, telegram_message,
)

url, media = sys.argv[1], sys.argv[2]
env = {
    "DATABASE_URL": url,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
}
config = load_config(environ=env).replace(media__dir=media, queue__redis_url="")

class Recorder:
    jobs = []
    def enqueue(self, fn, *args, delay_s=0.0):
        self.jobs.append(f"{fn.__module__}.{fn.__name__}")
    def dispatch(self, ids):
        pass
    def schedule(self, outbox_id, delay_s):
        pass

rt = Runtime(config)
rt.dispatcher = Recorder()
app = create_app(config, runtime=rt)
after_app = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")
db = open_db(url)
seller_id, _shop = make_seller(db)
from commerce.users.models import User
with db.session() as s:
    tg = s.get(User, seller_id).telegram_id
status = post_telegram(app.test_client(), telegram_message(tg, "/stats")).status_code
print(json.dumps({
    "after_app": after_app,
    "after_stats": sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"),
    "status": status,
    "jobs": Recorder.jobs,
}))
"""


def test_the_web_process_never_imports_matplotlib(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "boutik.db"
    shutil.copy(sqlite_template, database)
    done = subprocess.run(
        [sys.executable, "-c", _WEB_PROCESS, f"sqlite:///{database}", str(tmp_path / "media")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=START_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert result["jobs"] == ["workers.seller_charts.send_seller_chart"]
    assert result["after_app"] == [] and result["after_stats"] == []
    assert not (tmp_path / "media" / "charts").exists()
