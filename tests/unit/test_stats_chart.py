"""Issue 17, /stats on a phone: the chart is read about 360-400 px wide, so it is drawn for that.

The Figure `seller_figure` builds is inspected directly: integer count axes, months by name in the
seller's language, the forecast on the next month's row, no empty bar for a sold-out product,
every text inside the picture, and the forecast's method and range in words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from PIL import Image
from sqlalchemy import update

from bot.seller.charts import draw_seller_chart, forecast_caption, seller_figure
from commerce import clock
from commerce.orders.models import Order
from commerce.stats import SellerStats, forecast_next_month, seller_stats
from tests.support import Db
from tests.unit import flows

MONTHS = ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]
REVENUE = [0, 0, 0, 350_000, 420_000, 0, 610_000, 780_000, 1_250_000, 980_000, 1_430_000, 390_000]
TODAY = dt.date(2026, 11, 20)
LONG_NAME = "Téléphone Samsung Galaxy A15 noir 128 Go"


def _stats(**changes: object) -> SellerStats:
    days = [(TODAY - dt.timedelta(days=i), [0, 1, 2, 0, 3, 1, 0][i % 7]) for i in range(29, -1, -1)]
    stats = SellerStats(
        revenue_by_month=list(zip(MONTHS, REVENUE, strict=True)),
        orders_by_day=days,
        top_products=[(LONG_NAME, 7), ("Sac à main en cuir", 4), ("Tongs", 3)],
        rating_counts={1: 0, 2: 1, 3: 0, 4: 3, 5: 6},
        low_stock=[(LONG_NAME, 0, 3), ("Tongs", 1, 5), ("Pagne wax", 2, 2)],
        forecast=forecast_next_month(REVENUE[:-1], ahead=2),
        total_orders=sum(n for _d, n in days),
    )
    return dataclasses.replace(stats, **changes)  # type: ignore[arg-type]


def _panels(fig: Figure) -> dict[str, Axes]:
    """The figure's axes by panel: revenue, days, top, ratings, low."""
    axes = [ax for sub in fig.subfigs for ax in sub.axes]
    return dict(zip(("revenue", "days", "top", "ratings", "low"), axes, strict=True))


def _labels(texts: list[Text]) -> list[str]:
    return [t.get_text() for t in texts]


def test_count_axes_have_whole_numbers_only() -> None:
    axes = _panels(seller_figure(_stats(), "fr"))
    for name, axis in [
        ("days", axes["days"].yaxis),
        ("top", axes["top"].xaxis),
        ("ratings", axes["ratings"].yaxis),
        ("low", axes["low"].xaxis),
    ]:
        locator = axis.get_major_locator()
        assert isinstance(locator, MaxNLocator) and locator._integer, name  # type: ignore[attr-defined]
        ticks = [v for v in axis.get_majorticklocs()]
        assert all(float(v).is_integer() for v in ticks), (name, ticks)


@pytest.mark.parametrize(
    ("lang", "first", "last", "day"),
    [("fr", "déc. 2025", "déc. 2026", "20 nov."), ("en", "Dec 2025", "Dec 2026", "Nov 20")],
)
def test_months_and_days_are_named_in_the_sellers_language(
    lang: str, first: str, last: str, day: str
) -> None:
    axes = _panels(seller_figure(_stats(), lang))
    months = _labels(axes["revenue"].get_yticklabels())
    assert months[0] == first and months[-1] == last
    assert len(months) == 13 and not any("-" in m for m in months)  # no "26-01"
    days = _labels(axes["days"].get_xticklabels())
    assert days[-1] == day and len(days) == 5


def test_the_forecast_is_drawn_on_the_next_months_row() -> None:
    stats = _stats()
    f = stats.forecast
    assert f.method == "trend"
    ax = _panels(seller_figure(stats, "fr"))["revenue"]
    assert _labels(ax.get_yticklabels())[-1] == "déc. 2026"  # November is the current month
    row = len(MONTHS)
    [bar] = [
        p
        for p in ax.patches
        if isinstance(p, Rectangle) and abs(p.get_y() + p.get_height() / 2 - row) < 1e-9
    ]
    assert (bar.get_x(), bar.get_x() + bar.get_width()) == pytest.approx(
        (f.low / 1000, f.high / 1000)
    )
    assert ax.xaxis.get_label().get_text() == "milliers de GNF"
    # No sales yet: no forecast row, and the note says so.
    empty = _stats(
        revenue_by_month=[(m, 0) for m in MONTHS], forecast=forecast_next_month([0] * 11)
    )
    ax = _panels(seller_figure(empty, "fr"))["revenue"]
    assert _labels(ax.get_yticklabels())[-1] == "nov. 2026"


def test_a_sold_out_product_is_labelled_not_an_empty_bar() -> None:
    ax = _panels(seller_figure(_stats(), "fr"))["low"]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 and all(b.get_width() > 0 for b in bars)
    [sold_out] = [t for t in ax.texts if t.get_text() == "épuisé"]
    assert sold_out.get_position()[1] == 0  # on the first row, the sold-out product's
    assert _labels(ax.get_yticklabels())[0].startswith("Téléphone Samsung")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_text_is_inside_the_picture(lang: str) -> None:
    fig = seller_figure(_stats(), lang)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box = fig.bbox
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    note = [t for t in texts if "Méthode" in t.get_text() or "Method" in t.get_text()]
    assert note, "the forecast note is drawn"
    for ax in _panels(fig).values():  # only the ticks drawn: inside the view
        lo, hi = sorted(ax.get_xlim())
        texts = [
            t
            for t in texts
            if t not in ax.get_xticklabels() or lo - 1e-9 <= t.get_position()[0] <= hi + 1e-9
        ]
    for t in texts:
        extent = t.get_window_extent(renderer)
        inside = (
            extent.x0 >= box.x0 - 1
            and extent.x1 <= box.x1 + 1
            and extent.y0 >= box.y0 - 1
            and extent.y1 <= box.y1 + 1
        )
        assert inside, (t.get_text(), extent, box)
    tight = fig.get_tightbbox(renderer)
    assert tight.x0 >= -0.01 and tight.x1 <= fig.get_figwidth() + 0.01
    assert tight.y0 >= -0.01 and tight.y1 <= fig.get_figheight() + 0.01


def test_the_png_is_drawn_for_a_phone(tmp_path: Path) -> None:
    """At most 5 inches wide at its resolution, so 9-point text is about 10 px of a 380-px-wide
    screen; at most 2.4 times as tall as wide, so a phone shows it at its full width."""
    relative = draw_seller_chart(_stats(), media_dir=tmp_path, user_id=1, lang="fr")
    with Image.open(tmp_path / relative) as png:
        (width, height), (dpi, _dpi) = png.size, png.info["dpi"]
    assert width / dpi <= 5 and width >= 720
    assert height <= 2.4 * width


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Prévision pour décembre 2026", "environ", "entre", "Méthode", "tendance"]),
        ("en", ["Forecast for December 2026", "about", "between", "Method", "trend"]),
    ],
)
def test_the_forecast_method_and_range_are_said_plainly(lang: str, words: list[str]) -> None:
    stats = _stats()
    text = forecast_caption(stats, lang)
    for word in [*words, f"{stats.forecast.low:,}".replace(",", " ") + " GNF"]:
        assert word in text, (word, text)
    few = [0] * 9 + [300_000, 500_000]
    average = forecast_caption(_stats(forecast=forecast_next_month(few, ahead=2)), lang)
    assert ("moyenne de vos 2 mois" if lang == "fr" else "average of your 2 months") in average
    one = forecast_caption(_stats(forecast=forecast_next_month([0] * 10 + [300_000])), lang)
    assert ("votre seul mois" if lang == "fr" else "your only month") in one


def test_the_forecast_is_for_the_month_after_the_current_one(db: Db) -> None:
    """The trend runs over complete months, which end with last month: "next month" is two
    steps on (100k, 200k, 300k in the last three months → 500k next month, not 400k)."""
    now = clock.now()
    first = now.replace(day=15, hour=12)
    seller = None
    for back, amount in ((3, 100_000), (2, 200_000), (1, 300_000)):
        p = flows.place(db, seller=seller)
        seller = (p.seller_id, p.shop_id)
        flows.deliver(db, p)
        when = first
        for _ in range(back):
            when = (when.replace(day=1) - dt.timedelta(days=1)).replace(day=15)
        with db.uow() as s:
            s.execute(
                update(Order)
                .where(Order.id == p.order_id)
                .values(created_at=when, delivered_at=when, subtotal=amount, discount=0)
            )
    assert seller is not None
    with db.session() as s:
        stats = seller_stats(s, seller_id=seller[0], now=now)
    assert stats.forecast.method == "trend" and stats.forecast.expected == 500_000
    assert forecast_next_month([100_000, 200_000, 300_000]).expected == 400_000  # one step
