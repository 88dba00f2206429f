"""The demo's product photos, drawn with PIL: category colour, a shape for the category, the name.

No file ships with the demo: each photo is drawn at seed time from the product's name (the same
name always gives the same picture) and written under the media directory.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from commerce.text import fold
from devtools.seed.data import RGB, CategorySpec

PHOTO_SIZE = 480
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def photo_slug(name: str) -> str:
    return fold(name).replace(" ", "-")


def _jitter(colour: RGB, rng: random.Random, amount: int) -> RGB:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)  # type: ignore[return-value]


def _lighter(colour: RGB, by: float) -> RGB:
    return tuple(int(c + (255 - c) * by) for c in colour)  # type: ignore[return-value]


def _darker(colour: RGB, by: float) -> RGB:
    return tuple(int(c * (1 - by)) for c in colour)  # type: ignore[return-value]


def _draw_phone(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.rounded_rectangle((cx - 55, cy - 105, cx + 55, cy + 105), radius=18, fill=(25, 25, 30))
    d.rounded_rectangle((cx - 45, cy - 88, cx + 45, cy + 80), radius=6, fill=accent)
    d.line((cx - 15, cy - 97, cx + 15, cy - 97), fill=(90, 90, 100), width=3)
    d.ellipse((cx - 8, cy + 86, cx + 8, cy + 100), outline=(90, 90, 100), width=2)
    for i in range(3):
        y = cy - 70 + i * 28
        d.rounded_rectangle((cx - 35, y, cx - 13, y + 20), radius=4, fill=_lighter(accent, 0.5))
        d.rounded_rectangle((cx - 5, y, cx + 17, y + 20), radius=4, fill=_lighter(bg, 0.6))


def _draw_screen(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [(cx - 20, cy + 55), (cx + 20, cy + 55), (cx + 40, cy + 90), (cx - 40, cy + 90)],
        fill=(30, 30, 35),
    )
    d.rounded_rectangle((cx - 120, cy - 85, cx + 120, cy + 60), radius=8, fill=(20, 20, 25))
    d.rectangle((cx - 110, cy - 75, cx + 110, cy + 48), fill=accent)
    d.polygon(
        [
            (cx - 110, cy + 48),
            (cx - 30, cy - 40),
            (cx + 20, cy + 10),
            (cx + 60, cy - 20),
            (cx + 110, cy + 30),
            (cx + 110, cy + 48),
        ],
        fill=_lighter(accent, 0.45),
    )
    d.ellipse((cx + 50, cy - 65, cx + 80, cy - 35), fill=_lighter(bg, 0.8))


def _draw_dress(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 30, cy - 100),
            (cx - 15, cy - 100),
            (cx, cy - 80),
            (cx + 15, cy - 100),
            (cx + 30, cy - 100),
            (cx + 35, cy - 40),
            (cx + 95, cy + 100),
            (cx - 95, cy + 100),
            (cx - 35, cy - 40),
        ],
        fill=accent,
    )
    d.rectangle((cx - 36, cy - 45, cx + 36, cy - 33), fill=_darker(accent, 0.35))
    dot = _lighter(accent, 0.6)
    for row in range(4):
        for col in range(-3, 4):
            x, y = cx + col * 24 + (row % 2) * 12, cy - 10 + row * 28
            if abs(x - cx) < 35 + (y - cy + 40) * 0.42:
                d.ellipse((x - 5, y - 5, x + 5, y + 5), fill=dot)


def _draw_shirt(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 35, cy - 95),
            (cx - 100, cy - 65),
            (cx - 80, cy - 15),
            (cx - 60, cy - 25),
            (cx - 60, cy + 100),
            (cx + 60, cy + 100),
            (cx + 60, cy - 25),
            (cx + 80, cy - 15),
            (cx + 100, cy - 65),
            (cx + 35, cy - 95),
            (cx, cy - 70),
        ],
        fill=accent,
    )
    d.polygon(
        [(cx - 35, cy - 95), (cx, cy - 70), (cx + 35, cy - 95), (cx, cy - 55)],
        fill=_darker(accent, 0.3),
    )
    for i in range(4):
        d.ellipse((cx - 4, cy - 40 + i * 32, cx + 4, cy - 32 + i * 32), fill=_lighter(accent, 0.7))


def _draw_shoe(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 115, cy - 25),
            (cx - 70, cy - 35),
            (cx - 45, cy - 5),
            (cx + 30, cy + 5),
            (cx + 95, cy + 20),
            (cx + 120, cy + 40),
            (cx + 120, cy + 55),
            (cx - 120, cy + 55),
        ],
        fill=accent,
    )
    d.chord((cx - 125, cy - 30, cx - 95, cy + 55), start=90, end=270, fill=accent)
    d.rounded_rectangle((cx - 125, cy + 50, cx + 128, cy + 70), radius=8, fill=(245, 245, 240))
    for i in range(4):
        x = cx - 45 + i * 20
        d.line((x, cy - 2 + i * 3, x + 14, cy - 12 + i * 3), fill=(250, 250, 250), width=4)
    d.arc(
        (cx - 20, cy + 5, cx + 80, cy + 60), start=200, end=300, fill=_darker(accent, 0.4), width=5
    )


def _draw_bottle(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.rectangle((cx - 20, cy - 110, cx + 20, cy - 80), fill=(40, 40, 45))
    d.rectangle((cx - 14, cy - 80, cx + 14, cy - 55), fill=_lighter(accent, 0.4))
    d.rounded_rectangle((cx - 55, cy - 60, cx + 55, cy + 100), radius=22, fill=accent)
    d.rounded_rectangle((cx - 40, cy - 10, cx + 40, cy + 55), radius=6, fill=(250, 248, 240))
    d.line((cx - 25, cy + 10, cx + 25, cy + 10), fill=accent, width=4)
    d.line((cx - 25, cy + 28, cx + 15, cy + 28), fill=_lighter(accent, 0.3), width=3)
    # a small jar beside the bottle
    d.rounded_rectangle((cx + 65, cy + 40, cx + 125, cy + 100), radius=10, fill=_lighter(bg, 0.7))
    d.rectangle((cx + 62, cy + 28, cx + 128, cy + 42), fill=_darker(accent, 0.3))


def _draw_pot(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    steam = _lighter(bg, 0.7)
    for dx in (-30, 0, 30):
        d.arc(
            (cx + dx - 10, cy - 110, cx + dx + 10, cy - 80), start=90, end=270, fill=steam, width=4
        )
        d.arc(
            (cx + dx - 10, cy - 85, cx + dx + 10, cy - 55), start=270, end=90, fill=steam, width=4
        )
    d.rounded_rectangle((cx - 135, cy - 30, cx - 95, cy - 15), radius=6, fill=(40, 40, 45))
    d.rounded_rectangle((cx + 95, cy - 30, cx + 135, cy - 15), radius=6, fill=(40, 40, 45))
    d.chord((cx - 100, cy - 90, cx + 100, cy + 100), start=0, end=180, fill=accent)
    d.rectangle((cx - 100, cy - 40, cx + 100, cy + 6), fill=accent)
    d.ellipse((cx - 105, cy - 55, cx + 105, cy - 25), fill=_darker(accent, 0.25))
    d.ellipse((cx - 15, cy - 68, cx + 15, cy - 50), fill=(40, 40, 45))


def _draw_sack(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    sack = (236, 224, 196)
    d.polygon(
        [(cx - 40, cy - 110), (cx + 40, cy - 110), (cx + 20, cy - 75), (cx - 20, cy - 75)],
        fill=sack,
    )
    d.rounded_rectangle((cx - 90, cy - 80, cx + 90, cy + 100), radius=30, fill=sack)
    d.line((cx - 25, cy - 78, cx + 25, cy - 78), fill=(120, 90, 50), width=6)
    d.rectangle((cx - 60, cy - 25, cx + 60, cy + 45), fill=accent)
    d.ellipse((cx - 20, cy - 12, cx + 20, cy + 28), fill=_lighter(accent, 0.6))
    for i in range(5):
        x = cx - 70 + i * 35
        d.ellipse((x - 4, cy + 65, x + 4, cy + 73), fill=(200, 180, 140))


SHAPES: dict[str, Callable[[ImageDraw.ImageDraw, int, int, RGB, RGB], None]] = {
    "phone": _draw_phone,
    "screen": _draw_screen,
    "dress": _draw_dress,
    "shirt": _draw_shirt,
    "shoe": _draw_shoe,
    "bottle": _draw_bottle,
    "pot": _draw_pot,
    "sack": _draw_sack,
}


def _wrap_name(d: ImageDraw.ImageDraw, name: str, max_width: int) -> tuple[list[str], int]:
    """The name in at most 3 lines that fit the width, at the largest size that allows it.

    A number stays with its unit ("25 kg", "6 yards"): textwrap never breaks a no-break space.
    """
    name = re.sub(r"(\d) (?=\w)", "\\1\u00a0", name)
    for size, width in ((38, 16), (34, 18), (30, 21), (26, 24), (22, 28)):
        font = _font(size)
        lines = textwrap.wrap(name, width=width)
        fits = all(d.textlength(line, font=font) <= max_width for line in lines)
        if len(lines) <= 3 and fits:
            return lines, size
    return textwrap.wrap(name, width=30)[:3], 20


def render_product_photo(name: str, category: CategorySpec, path: Path) -> None:
    """A 480×480 JPEG: category colour, a drawn shape for the category, the name, "Boutik"."""
    rng = random.Random(f"boutik:{name}")
    bg = _jitter(category.background, rng, 18)
    img = Image.new("RGB", (PHOTO_SIZE, PHOTO_SIZE), bg)
    d = ImageDraw.Draw(img)
    for _ in range(4):  # soft circles behind the object
        r = rng.randint(40, 120)
        x, y = rng.randint(0, PHOTO_SIZE), rng.randint(0, 300)
        d.ellipse((x - r, y - r, x + r, y + r), fill=_lighter(bg, rng.uniform(0.06, 0.16)))
    accent = _jitter(_lighter(category.background, 0.35), rng, 40)
    SHAPES[category.shape](d, PHOTO_SIZE // 2, 160, accent, bg)

    panel_top = 300
    d.rectangle((0, panel_top, PHOTO_SIZE, PHOTO_SIZE), fill=_darker(bg, 0.45))
    lines, size = _wrap_name(d, name, PHOTO_SIZE - 40)
    font = _font(size)
    line_h = int(size * 1.2)
    y = panel_top + (PHOTO_SIZE - 40 - panel_top - line_h * len(lines)) // 2 + 4
    for line in lines:
        w = d.textlength(line, font=font)
        x = (PHOTO_SIZE - w) / 2
        d.text((x + 2, y + 2), line, font=font, fill=(0, 0, 0))
        d.text((x, y), line, font=font, fill=(255, 255, 255))
        y += line_h
    small = _font(16)
    label = "Boutik"
    d.text(
        (PHOTO_SIZE - 14 - d.textlength(label, font=small), PHOTO_SIZE - 28),
        label,
        font=small,
        fill=_lighter(bg, 0.7),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=85)
