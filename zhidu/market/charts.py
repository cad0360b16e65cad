"""Report charts as PNG bytes (matplotlib, Agg) with Content-IDs for inline images in the report email.

Chinese labels need a CJK font (``fonts-noto-cjk``); without one the charts still render, with English titles,
and a warning is logged (category labels may then show as boxes).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from zhidu.market.report import GroupStat, MarketReport  # noqa: E402

log = logging.getLogger(__name__)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")
TOP_N = 12  # at most this many bars per chart


@dataclass(frozen=True)
class InlineImage:
    """A PNG to show inline: the HTML refers to it as ``cid:{cid}``."""

    cid: str
    filename: str
    title: str
    content: bytes
    content_type: str = "image/png"


@lru_cache
def cjk_font() -> str | None:
    """The first installed CJK font family, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(CJK_FONTS):  # matplotlib's font cache predates the font's installation
        for path in font_manager.findSystemFonts():
            if any(mark in path for mark in ("CJK", "wqy", "WenQuanYi", "SimHei", "msyh")):
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning("no CJK font found (install fonts-noto-cjk): market charts use English titles")
    return None


Bars = list[tuple[str, Decimal, Decimal]]  # (label, current, previous)


def _bar_chart(title: str, fallback: str, bars: Bars, unit: str) -> bytes:
    font = cjk_font()
    chosen = sorted(bars, key=lambda b: b[1], reverse=True)[:TOP_N]
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with plt.rc_context({"font.family": families, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
        try:
            xs = range(len(chosen))
            width = 0.4
            ax.bar([x - width / 2 for x in xs], [float(b[2]) for b in chosen], width,
                   label="上期" if font else "previous", color="#94a3b8")
            ax.bar([x + width / 2 for x in xs], [float(b[1]) for b in chosen], width,
                   label="本期" if font else "current", color="#1d4ed8")
            ax.set_xticks(list(xs), [b[0] for b in chosen], fontsize=9)
            ax.set_title(title if font else fallback)
            ax.set_ylabel(unit if font else "")
            ax.legend()
            ax.grid(axis="y", alpha=0.3)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
        finally:
            plt.close(fig)
    return buf.getvalue()


def _volume_by_key(stats: list[GroupStat]) -> Bars:
    totals: dict[str, list[Decimal]] = {}
    for s in stats:
        t = totals.setdefault(s.key, [Decimal(0), Decimal(0)])
        t[0] += s.volume
        t[1] += s.prev_volume or 0
    return [(key, now, before) for key, (now, before) in totals.items() if now or before]


def report_charts(report: MarketReport) -> list[InlineImage]:
    """Volume by region and average price by product, this period against the previous one; none when empty."""
    if report.empty:
        return []
    label = report.period.label
    charts: list[InlineImage] = []
    volumes = _volume_by_key(report.by_region)
    if volumes:
        charts.append(
            InlineImage(
                f"market-volume-region-{label}@zhidu",
                f"volume_by_region_{label}.png",
                "各地区数量（本期与上期）",
                _bar_chart("各地区数量（本期与上期）", "Volume by region", volumes, "数量"),
            )
        )
    priced = [s for s in report.by_product if s.avg_price is not None]
    types = [s.price_type for s in priced]
    # one price type per chart (never CNY beside USD): spot if present, else the most common
    main = "spot" if "spot" in types else max(set(types), key=types.count, default="")
    prices = [s for s in priced if s.price_type == main]
    if prices:
        charts.append(
            InlineImage(
                f"market-price-product-{label}@zhidu",
                f"price_by_product_{label}.png",
                f"各产品{prices[0].price_type_label}均价（本期与上期）",
                _bar_chart(
                    f"各产品{prices[0].price_type_label}均价（本期与上期）",
                    "Average price by product",
                    [(s.key, s.avg_price or Decimal(0), s.prev_avg_price or Decimal(0)) for s in prices],
                    "均价",
                ),
            )
        )
    return charts
