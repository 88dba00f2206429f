"""Downloading the photos buyers attach to a return request into the media storage.

Why the database is the to-do list: a webhook turn only sees a Twilio `MediaUrl0` (fetchable
with the account credentials), a Telegram `file_id` or a Cloud API media id (Meta), and
handlers never call a provider. So the buyer flow records the reference on the return itself
(`photo_path="twilio:<url>"`, `"telegram:<file_id>"` or `"meta:<media id>"`) in the request's
own transaction. A sweep enqueues `fetch_return_photo` for returns still holding a reference;
the job downloads, checks it is an image, writes `media/returns/<return id>.<ext>` and swaps
the path with a conditional UPDATE. Twice, or in two workers, is harmless: same file name,
and the row changes only while it still holds the reference. A refusal for good (not an image,
too large, untrusted URL) clears the reference rather than retrying forever; a retryable error
(Twilio's media lagging behind its webhook: 404) leaves it for the next sweep.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from channels_adapters.senders import SendError
from commerce.db import unit_of_work
from commerce.returns.models import Return
from workers.images import image_extension

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)

TWILIO, TELEGRAM, META = "twilio:", "telegram:", "meta:"
PREFIXES = (TWILIO, TELEGRAM, META)
MAX_BYTES = 5 * 1024 * 1024  # WhatsApp's own media limit


def pending_return_ids(rt: Runtime, *, limit: int = 100) -> list[int]:
    with unit_of_work(rt.session_factory) as session:
        return list(
            session.scalars(
                select(Return.id)
                .where(or_(*(Return.photo_path.startswith(prefix) for prefix in PREFIXES)))
                .order_by(Return.id)
                .limit(limit)
            )
        )


def sweep_return_photos(rt: Runtime) -> int:
    """Enqueue a fetch for every return still holding a provider reference (a sweeper step)."""
    ids = pending_return_ids(rt)
    for return_id in ids:
        rt.dispatcher.enqueue(fetch_return_photo, return_id)
    return len(ids)


def _download(rt: Runtime, reference: str) -> bytes:
    if reference.startswith(TWILIO):
        data, _type = rt.twilio_sender.fetch_media(
            reference.removeprefix(TWILIO), max_bytes=MAX_BYTES
        )
        return data
    if reference.startswith(META):
        # The Graph API gives the media's URL, then the bytes, both with the token; the
        # declared size and the bytes read are held to MAX_BYTES.
        data, _type = rt.meta_sender.fetch_media(reference.removeprefix(META), max_bytes=MAX_BYTES)
        return data
    data = rt.telegram_sender.get_file_bytes(reference.removeprefix(TELEGRAM))
    if len(data) > MAX_BYTES:
        raise SendError(False, "too_large", "photo larger than the limit")
    return data


def fetch_return_photo(rt: Runtime, return_id: int) -> str:
    """Download one return's photo; returns the stored path ('' if none). An RQ job."""
    with unit_of_work(rt.session_factory) as session:
        reference = session.scalar(select(Return.photo_path).where(Return.id == return_id)) or ""
    if not reference.startswith(PREFIXES):
        return reference  # already fetched, or no photo
    try:
        data = _download(rt, reference)
    except SendError as err:
        if err.retryable:
            log.info("return %s photo not yet fetchable: %s", return_id, err.code)
            return ""
        log.warning("return %s photo refused for good: %s", return_id, err.code)
        _swap(rt, return_id, reference, "")
        return ""
    ext = image_extension(data)
    if ext is None:
        log.warning("return %s photo is not an image: dropped", return_id)
        _swap(rt, return_id, reference, "")
        return ""
    relative = f"returns/{return_id}.{ext}"
    target = rt.config.media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    _swap(rt, return_id, reference, relative)
    return relative


def _swap(rt: Runtime, return_id: int, reference: str, path: str) -> None:
    with unit_of_work(rt.session_factory) as session:
        session.execute(
            update(Return)
            .where(Return.id == return_id, Return.photo_path == reference)
            .values(photo_path=path)
            .execution_options(synchronize_session=False)
        )
