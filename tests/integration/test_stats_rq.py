"""/stats with Redis: the webhook answers, the chart job waits in RQ, a worker draws and sends it.

- the Telegram webhook turn replies with the figures and queues `send_seller_chart` in RQ (the
  web process draws nothing);
- a second /stats meanwhile queues nothing;
- a RuntimeWorker burst runs the chart job, which queues the photo's outbox row; a second burst
  sends it: the PNG reaches the Telegram emulator with its caption.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from PIL import Image as PILImage
from rq import Queue

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.users.models import User
from tests.e2e.conftest import boutik_config
from tests.services import Emulator
from tests.support import REDIS_URL, Db, make_seller
from tests.webhooks import post_telegram, telegram_message
from workers.dispatch import SLOW_QUEUE
from workers.runner import RuntimeWorker, queues


@pytest.fixture
def rq_runtime(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, tmp_path: Path
) -> Iterator[Runtime]:
    emulator.store.reset()
    config = boutik_config(
        emulator,
        tmp_path / "media",
        queue__redis_url=REDIS_URL,
        telegram__rate_per_chat_per_s=1000.0,
    )
    rt = Runtime(config)
    yield rt
    rt.dispose()


def _burst(conn: redis.Redis, rt: Runtime) -> None:
    """What `boutik worker --burst` runs: SimpleWorker on both queues, its runtime to each job."""
    RuntimeWorker(queues(conn), connection=conn, runtime=rt).work(burst=True)


def test_stats_chart_is_drawn_by_an_rq_worker(
    rq_runtime: Runtime, pg: Db, redis_conn: redis.Redis, emulator: Emulator
) -> None:
    client = create_app(rq_runtime.config, runtime=rq_runtime).test_client()
    seller_id, _shop = make_seller(pg)
    with pg.session() as s:
        tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
    assert post_telegram(client, telegram_message(tg, "/stats")).status_code == 200
    queue = Queue(SLOW_QUEUE, connection=redis_conn)  # a chart takes seconds: not beside the sends
    charts = [j for j in queue.get_jobs() if j.func_name.endswith("send_seller_chart")]
    assert len(charts) == 1 and charts[0].args[0] == seller_id
    assert post_telegram(client, telegram_message(tg, "/stats")).status_code == 200
    assert [j for j in queue.get_jobs() if j.func_name.endswith("send_seller_chart")] == charts
    assert not (rq_runtime.config.media_dir / "charts").exists()  # nothing drawn in the web
    # The replies, then the chart job, then the photo's own delivery job.
    _burst(redis_conn, rq_runtime)
    _burst(redis_conn, rq_runtime)
    [photo] = emulator.store.telegram_calls(method="sendPhoto", chat_id=tg)
    assert photo.params["caption"] == "Vos statistiques"
    texts = [
        str(c.params.get("text", ""))
        for c in emulator.store.telegram_calls(method="sendMessage", chat_id=tg)
    ]
    assert any("Je prépare votre graphique" in t for t in texts)
    assert any("déjà en préparation" in t for t in texts)
    [png] = (rq_runtime.config.media_dir / "charts").glob("*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    with PILImage.open(png) as picture:  # drawn for a phone's width (issue 17)
        (width, height), (dpi, _dpi) = picture.size, picture.info["dpi"]
    assert width / dpi <= 5 and height <= 2.4 * width
