"""The seller's /stats picture: one PNG with five panels, drawn with matplotlib (Agg).

Drawn by a worker job (`workers.seller_charts`), never in a webhook turn: a chart takes seconds
and the first import of matplotlib adds about 50 MB to the process. matplotlib is therefore
imported inside `draw_seller_chart`, so the handler can use `stats_text` from this module
without loading it (tests/unit/test_stats.py checks that a web process queuing the job never
does).

Why Agg and a file: workers have no display, and replies travel through the outbox as a media
path, so the chart is written under media_dir/charts/ and sent from there.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType

from bot import i18n
from commerce import clock
from commerce.stats import Forecast, SellerStats

_LOCK = threading.Lock()  # pyplot's figure registry is not thread-safe

# One chart at a time per seller: /stats stores the request's reference (its time in epoch
# milliseconds) under this key of the conversation's data; the job clears it once the PNG is in
# the outbox. A marker older than CHART_PENDING_S is ignored, so a job lost with its worker never
# blocks /stats for good (the job's retries end well within it: 5 + 30 + 120 s).
CHART_PENDING_KEY = "stats_chart"
CHART_PENDING_S = 300


def chart_pending(marker: object, now_ms: int) -> bool:
    """Whether `marker` (the conversation's CHART_PENDING_KEY value) is a chart still coming."""
    return type(marker) is int and 0 <= now_ms - marker < CHART_PENDING_S * 1000


def _pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend, imported on first use (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def forecast_line(forecast: Forecast, lang: str) -> str:
    """One line: the method by name, then a range (and a central value for the trend)."""
    if forecast.method == "none":
        return i18n.t(lang, "seller.stats.forecast_none")
    if forecast.method == "average":
        return i18n.t(
            lang,
            "seller.stats.forecast_average",
            months=forecast.months_used,
            low_gnf=forecast.low,
            high_gnf=forecast.high,
        )
    return i18n.t(
        lang,
        "seller.stats.forecast_trend",
        months=forecast.months_used,
        expected_gnf=forecast.expected or 0,
        low_gnf=forecast.low,
        high_gnf=forecast.high,
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


def draw_seller_chart(stats: SellerStats, *, media_dir: Path, user_id: int, lang: str) -> str:
    """Write the chart; returns its path relative to `media_dir`."""
    plt = _pyplot()
    relative = f"charts/seller-{user_id}-{clock.now():%Y%m%d%H%M%S%f}.png"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    t = lambda key, **kw: i18n.t(lang, f"seller.chart.{key}", **kw)  # noqa: E731
    with _LOCK:
        fig, axes = plt.subplots(3, 2, figsize=(11, 12))
        try:
            ax = axes[0][0]
            months = [m[2:] for m, _v in stats.revenue_by_month]
            values = [v / 1000 for _m, v in stats.revenue_by_month]
            ax.bar(months, values, color="#2a9d8f")
            ax.set_title(t("revenue"))
            ax.set_ylabel(t("thousand_gnf"))
            ax.tick_params(axis="x", rotation=60, labelsize=7)

            ax = axes[0][1]
            days = [d.strftime("%d/%m") for d, _n in stats.orders_by_day]
            ax.plot(days, [n for _d, n in stats.orders_by_day], marker="o", color="#e76f51")
            ax.set_title(t("orders"))
            ax.set_xticks(days[::5])
            ax.tick_params(axis="x", rotation=60, labelsize=7)

            ax = axes[1][0]
            if stats.top_products:
                names = [_short(n) for n, _q in reversed(stats.top_products)]
                ax.barh(names, [q for _n, q in reversed(stats.top_products)], color="#264653")
            else:
                ax.text(0.5, 0.5, t("empty"), ha="center", va="center")
            ax.set_title(t("top"))

            ax = axes[1][1]
            stars = list(range(1, 6))
            ax.bar([f"{s}★" for s in stars], [stats.rating_counts.get(s, 0) for s in stars],
                   color="#f4a261")  # fmt: skip
            avg = stats.rating_average
            ax.set_title(t("ratings", avg=f"{avg:.1f}" if avg is not None else "—"))

            ax = axes[2][0]
            if stats.low_stock:
                names = [_short(n) for n, _s, _t in stats.low_stock]
                ax.barh(names, [s for _n, s, _t in stats.low_stock], color="#e63946")
                ax.scatter([th for _n, _s, th in stats.low_stock], names, marker="|", s=200,
                           color="black", label=t("threshold"))  # fmt: skip
                ax.legend(loc="lower right", fontsize=7)
            else:
                ax.text(0.5, 0.5, t("no_low_stock"), ha="center", va="center")
            ax.set_title(t("low_stock"))

            ax = axes[2][1]
            f = stats.forecast
            recent = [v / 1000 for _m, v in stats.revenue_by_month[-6:]]
            ax.plot(range(len(recent)), recent, marker="o", color="#2a9d8f")
            if f.method != "none":
                x = len(recent)
                ax.errorbar([x], [(f.low + f.high) / 2000],
                            yerr=[[(f.high - f.low) / 2000]], fmt="s", color="#8338ec",
                            capsize=6)  # fmt: skip
            ax.set_title(t("forecast"))
            ax.set_xlabel(forecast_line(f, lang), fontsize=7, wrap=True)
            fig.tight_layout()
            fig.savefig(target, format="png", dpi=80)
        finally:
            plt.close(fig)
    return relative
