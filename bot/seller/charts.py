"""The seller's /stats picture: one tall PNG for a phone's width, drawn with matplotlib (Agg).

Five panels one under the other (revenue by month ending with the forecast month, orders by day,
best sellers, ratings, low stock) and the forecast in words; see `seller_figure`.

Drawn by a worker job (`workers.seller_charts`), never in a webhook turn: a chart takes seconds
and the first import of matplotlib adds about 50 MB to the process. matplotlib is therefore
imported inside `seller_figure`, so the handler can use `stats_text` from this module
without loading it (tests/unit/test_stats.py checks that a web process queuing the job never
does).

Why Agg and a file: workers have no display, and replies travel through the outbox as a media
path, so the chart is written under media_dir/charts/ and sent from there.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from bot import i18n
from commerce import clock
from commerce.stats import Forecast, SellerStats

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

# Phone width: the PNG is seen about 360-400 px wide. On a figure 4.5 inches wide, 9-point text
# is about 10-11 of those pixels, and the whole picture stays under ~2.3 times as tall as wide,
# so Telegram's viewer shows it at the phone's full width.
WIDTH_IN = 4.5
DPI = 200
TITLE_PT, TICK_PT, LEGEND_PT, NOTE_PT = 10.5, 9, 8, 9
CAPTION_CHARS = 56  # characters per line of the forecast note at NOTE_PT across WIDTH_IN
SALES, SO_FAR, FORECAST, FORECAST_FILL = "#2a9d8f", "#94d2bd", "#6a3d9a", "#e2d4f0"
ORDERS, TOP, RATINGS, LOW = "#e76f51", "#264653", "#f4a261", "#e63946"

# One chart at a time per seller: /stats stores the request's reference (its time in epoch
# milliseconds) under this key of the conversation's data; the job clears it once the PNG is in
# the outbox. A marker older than CHART_PENDING_S is ignored, so a job lost with its worker never
# blocks /stats for good (the job's retries end well within it: 5 + 30 + 120 s).
CHART_PENDING_KEY = "stats_chart"
CHART_PENDING_S = 300


def chart_pending(marker: object, now_ms: int) -> bool:
    """Whether `marker` (the conversation's CHART_PENDING_KEY value) is a chart still coming."""
    return type(marker) is int and 0 <= now_ms - marker < CHART_PENDING_S * 1000


def _figure(height_in: float) -> Figure:
    """A matplotlib Figure on the Agg canvas (no pyplot: no global figure registry to guard),
    imported on first use (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _lang(lang: str) -> str:
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT


def _month_start(key: str) -> dt.date:
    """ "2026-03" (SellerStats' month keys) → 1 March 2026."""
    year, month = key.split("-")
    return dt.date(int(year), int(month), 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_name(day: dt.date, lang: str, *, long: bool = False) -> str:
    """The month as the seller's language writes it (Babel, CLDR): "janv. 2026" / "Jan 2026",
    or "janvier 2026" / "January 2026" when `long`."""
    return format_skeleton("yMMMM" if long else "yMMM", day, locale=_lang(lang))


def forecast_month(stats: SellerStats) -> dt.date:
    """The month the forecast is for: the one after the current (last, partial) month."""
    return _next_month(_month_start(stats.revenue_by_month[-1][0]))


def forecast_caption(stats: SellerStats, lang: str) -> str:
    """The chart's forecast note: for which month, the range, and how it was worked out."""
    month = month_name(forecast_month(stats), lang, long=True)
    return _forecast_text(stats.forecast, lang, "seller.chart", month=month)


def forecast_line(forecast: Forecast, lang: str) -> str:
    """One line: the method by name, then a range (and a central value for the trend)."""
    return _forecast_text(forecast, lang, "seller.stats")


def _forecast_text(forecast: Forecast, lang: str, section: str, **extra: str) -> str:
    """The sentence `<section>.forecast_<method>` ("none", "average" or "trend"): each sentence
    takes the figures it names (`count` picks an entry's plural form)."""
    return i18n.t(
        lang,
        f"{section}.forecast_{forecast.method}",
        months=forecast.months_used,
        count=forecast.months_used,
        expected_gnf=forecast.expected or 0,
        low_gnf=forecast.low,
        high_gnf=forecast.high,
        **extra,
    )


def stats_text(stats: SellerStats, lang: str) -> str:
    """The figures in words (this month, orders, rating, low stock) and the forecast line."""
    avg = stats.rating_average
    summary = i18n.t(
        lang,
        "seller.stats.summary",
        month_gnf=stats.revenue_by_month[-1][1],
        orders=stats.total_orders,
        rating=f"{avg:.1f}" if avg is not None else "—",
        low=len(stats.low_stock),
    )
    return summary + "\n" + forecast_line(stats.forecast, lang)


def seller_figure(stats: SellerStats, lang: str) -> Figure:
    """The /stats chart as one tall Figure, one panel under the other, for a phone's width.

    Revenue by month ends with the forecast month (a hatched range, its central value as a
    diamond when there is one); counts are on integer axes; months and days are written as the
    seller's language writes them; an out-of-stock product is labelled, not drawn as an empty
    bar; the forecast's month, range and method close the picture in plain words.
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    lang = _lang(lang)
    t = lambda key, **kw: i18n.t(lang, f"seller.chart.{key}", **kw)  # noqa: E731
    f = stats.forecast
    months = [_month_start(m) for m, _v in stats.revenue_by_month]
    caption = _wrap(forecast_caption(stats, lang))
    rows = len(months) + (f.method != "none")
    heights = [
        1.15 + 0.165 * rows,  # revenue and forecast, and the legend under them
        1.45,  # orders by day
        0.65 + 0.24 * max(1, len(stats.top_products)),
        1.2,  # ratings
        0.75 + 0.27 * max(1, len(stats.low_stock)),
        0.12 + 0.17 * (caption.count("\n") + 1),  # the forecast note
    ]
    fig = _figure(sum(heights))
    # One sub-figure per panel: each lays its own labels out, so a long product name does not
    # narrow the monthly bars.
    panels: list[SubFigure] = list(
        fig.subfigures(len(heights), 1, height_ratios=heights).flat  # type: ignore[union-attr]
    )
    ax_rev, ax_day, ax_top, ax_rat, ax_low = (panel.subplots() for panel in panels[:-1])
    for ax in (ax_rev, ax_day, ax_top, ax_rat, ax_low):
        ax.tick_params(labelsize=TICK_PT)
        ax.spines[["top", "right"]].set_visible(False)
    integer = lambda: MaxNLocator(nbins=4, integer=True)  # noqa: E731
    grouped = FuncFormatter(lambda v, _pos: format_decimal(v, locale=lang))

    # Revenue by month, oldest at the top, then the forecast month.
    labels = [month_name(m, lang) for m in months]
    values = [v / 1000 for _m, v in stats.revenue_by_month]
    colors = [SALES] * (len(values) - 1) + [SO_FAR]
    ax_rev.barh(range(len(values)), values, color=colors)
    legend: list[Artist] = [
        Patch(color=SALES, label=t("sales")),
        Patch(color=SO_FAR, label=t("month_so_far")),
    ]
    if f.method != "none":
        y = len(values)
        legend.append(
            ax_rev.barh(
                [y],
                [(f.high - f.low) / 1000],
                left=[f.low / 1000],
                color=FORECAST_FILL,
                edgecolor=FORECAST,
                hatch="///",
                label=t("forecast_range"),
            )[0]
        )
        if f.expected is not None:
            legend.extend(
                ax_rev.plot(
                    [f.expected / 1000], [y], "D", color=FORECAST, label=t("forecast_expected")
                )
            )
        labels.append(month_name(forecast_month(stats), lang))
    ax_rev.set_yticks(range(len(labels)), labels)
    if f.method != "none":
        ax_rev.get_yticklabels()[-1].set_color(FORECAST)
    ax_rev.invert_yaxis()
    ax_rev.set_xlim(0, max([*values, f.high / 1000]) * 1.04 or 100)
    ax_rev.xaxis.set_major_formatter(grouped)
    ax_rev.set_xlabel(t("thousand_gnf"), fontsize=TICK_PT)
    ax_rev.set_title(t("revenue"), fontsize=TITLE_PT, loc="left")
    panels[0].legend(
        handles=legend, fontsize=LEGEND_PT, loc="outside lower center", ncols=2, frameon=False
    )

    # Orders by day: bars (whole orders), a date every week ending with today.
    counts = [n for _d, n in stats.orders_by_day]
    ax_day.bar(range(len(counts)), counts, color=ORDERS, width=0.8)
    ticks = list(range(len(counts) - 1, -1, -7))[::-1]
    ax_day.set_xticks(ticks, [_day(stats.orders_by_day[i][0], lang) for i in ticks])
    ax_day.yaxis.set_major_locator(integer())
    ax_day.set_ylim(0, max([1, *counts]) * 1.1)
    ax_day.set_ylabel(t("orders_axis"), fontsize=TICK_PT)
    ax_day.set_title(t("orders"), fontsize=TITLE_PT, loc="left")

    # Best sellers.
    if stats.top_products:
        names = [_short(n) for n, _q in stats.top_products]
        bars = ax_top.barh(names, [q for _n, q in stats.top_products], color=TOP)
        ax_top.bar_label(bars, padding=3, fontsize=TICK_PT)
        ax_top.invert_yaxis()
        ax_top.xaxis.set_major_locator(integer())
        ax_top.set_xlabel(t("units_axis"), fontsize=TICK_PT)
    else:
        _empty(ax_top, t("empty"))
    ax_top.set_title(t("top"), fontsize=TITLE_PT, loc="left")

    # Ratings: how many reviews gave each number of stars.
    stars = list(range(1, 6))
    bars = ax_rat.bar(
        [f"{s}★" for s in stars], [stats.rating_counts.get(s, 0) for s in stars], color=RATINGS
    )
    ax_rat.bar_label(bars, padding=2, fontsize=TICK_PT)
    ax_rat.yaxis.set_major_locator(integer())
    ax_rat.set_ylim(0, max([1, *stats.rating_counts.values()]) * 1.25)
    ax_rat.set_ylabel(t("reviews_axis"), fontsize=TICK_PT)
    avg = stats.rating_average
    ax_rat.set_title(
        t("ratings", avg=avg if avg is not None else "—"), fontsize=TITLE_PT, loc="left"
    )

    # Low stock: a bar for what is left, the threshold as a tick; none at all when sold out.
    if stats.low_stock:
        names = [_short(n) for n, _s, _t in stats.low_stock]
        rows_y = range(len(names))
        left = [(y, s) for y, (_n, s, _t) in zip(rows_y, stats.low_stock, strict=True) if s > 0]
        ax_low.barh([y for y, _s in left], [s for _y, s in left], color=LOW)
        for y, (_n, s, _t) in zip(rows_y, stats.low_stock, strict=True):
            if s <= 0:
                ax_low.text(
                    0.05,
                    y,
                    t("out_of_stock"),
                    va="center",
                    ha="left",
                    color=LOW,
                    fontsize=TICK_PT,
                    fontweight="bold",
                )
        ax_low.scatter(
            [th for _n, _s, th in stats.low_stock],
            list(rows_y),
            marker="|",
            s=250,
            linewidths=2,
            color="black",
            zorder=3,
        )
        ax_low.set_yticks(list(rows_y), names)
        ax_low.set_ylim(len(names) - 0.4, -0.7)  # top row clear of the title
        ax_low.set_xlim(0, max(max(s, th) for _n, s, th in stats.low_stock) + 1)
        ax_low.xaxis.set_major_locator(integer())
        ax_low.set_xlabel(t("stock_axis"), fontsize=TICK_PT)
    else:
        _empty(ax_low, t("no_low_stock"))
    ax_low.set_title(t("low_stock"), fontsize=TITLE_PT, loc="left")

    # The forecast in words: month, range, method.
    panels[-1].text(0.03, 0.95, caption, va="top", ha="left", fontsize=NOTE_PT, color="#333333")
    return fig


def _wrap(text: str) -> str:
    """Lines that fit the figure's width, never breaking inside an amount ("600 000 GNF")."""
    kept = re.sub(r"(?<=\d) (?=\d)| (?=GNF\b)", "\u00a0", text)  # textwrap splits ASCII spaces
    return textwrap.fill(kept, CAPTION_CHARS)


def _day(day: dt.date, lang: str) -> str:
    return format_skeleton("MMMd", day, locale=lang)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=TICK_PT, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def draw_seller_chart(stats: SellerStats, *, media_dir: Path, user_id: int, lang: str) -> str:
    """Write the chart; returns its path relative to `media_dir`."""
    relative = f"charts/seller-{user_id}-{clock.now():%Y%m%d%H%M%S%f}.png"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fig = seller_figure(stats, lang)
    fig.savefig(target, format="png", dpi=DPI, facecolor="white")
    return relative
