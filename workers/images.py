"""Checking downloaded images before they are stored: only real JPEG, PNG or WebP files."""

from __future__ import annotations

import io

from PIL import Image

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def image_extension(data: bytes) -> str | None:
    """The file extension for `data` if Pillow reads it as an allowed image, else None.

    Why: a photo URL or Telegram file can hold anything; what lands in the media directory and
    is later served to providers must be an image of a known kind.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            return FORMATS.get(img.format or "")
    except Exception:  # any unreadable payload is simply "not an image"
        return None
