"""The delivery QR image: a PNG of the signed link the courier scans at the door.

The content is exactly `<public base URL>/q/<token>` (served by the courier side): no amount,
no name, no phone. The file name carries the order id and a short hash of the token, so a
re-sent QR reuses its file and a guessed file name reveals nothing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage

QR_DIR = "qr"


def qr_content(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/q/{token}"


def qr_path(*, order_id: int, token: str) -> str:
    """Where the QR PNG of a token lives in the media dir (a reissued code gets a new file)."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:12]
    return f"{QR_DIR}/{order_id}-{digest}.png"


def write_qr(media_dir: Path, *, order_id: int, token: str, public_base_url: str) -> str:
    """Write (once) the QR PNG for an order's delivery token; return its path in `media_dir`."""
    relative = qr_path(order_id=order_id, token=token)
    target = Path(media_dir) / relative
    if target.exists():
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
    image = qrcode.make(
        qr_content(public_base_url, token),
        error_correction=ERROR_CORRECT_M,
        box_size=8,
        border=4,
        image_factory=PilImage,  # what qrcode picks when Pillow is there; said, so it is typed
    )
    # Write beside, then rename: a reader (the /media route) never sees half a file.
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        image.save(f, format="PNG")
    os.replace(tmp, target)
    return relative
