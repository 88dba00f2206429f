"""Downloading the photos sellers send on Telegram into the media storage.

The design, and why: a webhook turn only sees a Telegram `file_id`, and handlers never call a
provider. So the seller flow records the photo as `ProductPhoto(path="telegram:<file_id>")` in
the product's own transaction — the database is the to-do list. Until it is fetched, Telegram
re-sends it by file_id (workers/outbox/providers), so the seller's preview and the admin's card show
it at once. Each sweep (workers/sweeper.py, every few seconds in `boutik serve` and in every
`boutik worker`) enqueues `fetch_product_photo` for products with such photos; the job calls
getFile, writes `media/products/<product>-<photo>.<ext>` and rewrites the path with a
conditional UPDATE. Running it twice, or in two workers at once, is harmless: same file name,
and the row only changes while it still names the file_id. A file Telegram refuses for good, or
that is not an image, is dropped from the product rather than retried forever.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from channels_adapters.senders import SendError
from commerce.catalog.models import ProductPhoto
from commerce.db import unit_of_work
from workers.images import image_extension

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)

PREFIX = "telegram:"
MAX_BYTES = 10 * 1024 * 1024


def pending_product_ids(rt: Runtime, *, limit: int = 100) -> list[int]:
    with unit_of_work(rt.session_factory) as session:
        return list(
            session.scalars(
                select(ProductPhoto.product_id)
                .where(ProductPhoto.path.startswith(PREFIX))
                .distinct()
                .order_by(ProductPhoto.product_id)
                .limit(limit)
            )
        )


def sweep_photos(rt: Runtime) -> int:
    """Enqueue a fetch for every product still holding Telegram file ids (a sweeper step)."""
    ids = pending_product_ids(rt)
    for product_id in ids:
        rt.dispatcher.enqueue(fetch_product_photo, product_id)
    return len(ids)


def fetch_product_photo(rt: Runtime, product_id: int) -> int:
    """Download this product's Telegram photos; returns how many were stored (an RQ job)."""
    with unit_of_work(rt.session_factory) as session:
        pending = [
            (p.id, p.path)
            for p in session.scalars(
                select(ProductPhoto).where(
                    ProductPhoto.product_id == product_id, ProductPhoto.path.startswith(PREFIX)
                )
            )
        ]
    stored = 0
    for photo_id, old_path in pending:
        file_id = old_path.removeprefix(PREFIX)
        try:
            data = rt.telegram_sender.get_file_bytes(file_id)
        except SendError as exc:
            if exc.code != "400":  # only "wrong file_id" is final; throttling, 5xx… wait
                log.info("photo %s of product %s: retry later (%s)", photo_id, product_id, exc)
                continue
            data = b""
        ext = image_extension(data) if 0 < len(data) <= MAX_BYTES else None
        with unit_of_work(rt.session_factory) as session:
            if ext is None:
                log.warning("photo %s of product %s unusable: dropped", photo_id, product_id)
                session.execute(
                    delete(ProductPhoto).where(
                        ProductPhoto.id == photo_id, ProductPhoto.path == old_path
                    )
                )
                continue
            relative = f"products/{product_id}-{photo_id}.{ext}"
            target = rt.config.media_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            done = session.execute(
                update(ProductPhoto)
                .where(ProductPhoto.id == photo_id, ProductPhoto.path == old_path)
                .values(path=relative)
                .execution_options(synchronize_session=False)
            ).rowcount
            stored += done
    return stored
