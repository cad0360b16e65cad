"""The periodic market information report (市场信息周报/月报/季报, 篇四 §14–§15): exact Decimal aggregates.

Numbers:
- an average price is sum(price) / count(priced entries) of one price type, rounded half-up to 0.01
  (prices of different types or currencies are never averaged together);
- volumes are exact sums (no rounding);
- a change is (current − base) / base × 100 percent, computed from the *displayed* (rounded) averages or the
  exact volume sums, rounded half-up to 0.01; ``None`` ("—") when the base period has no figure or it is 0.
Every comparison is per price type: against the previous period (环比) and the same period last year (同比).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from models.market import REPORT_KIND_LABELS, ReportKind
from zhidu.db import utcnow
from zhidu.market.effects import (
    ChangeKey,
    Effect,
    EffectRules,
    evaluate_effects,
    fmt_pct,
    load_rules,
    pct_change,
    price_type_label,
)
from zhidu.market.periods import Period

CENT = Decimal("0.01")
OWN = "本公司"
DIMENSIONS: dict[str, str] = {"region": "地区", "product": "产品", "competitor": "企业"}


class EntryRow(NamedTuple):
    """The columns of one entry that a report reads (light enough for 500,000 rows)."""

    entry_date: date
    region: str
    product: str
    price_type: str
    price: Decimal | None
    volume: Decimal | None
    competitor: str


# (region, product, competitor, price type) → [entries, priced entries, price sum, volume sum]
CubeKey = tuple[str, str, str, str]
Cube = dict[CubeKey, list[Any]]


def aggregate(rows: Iterable[EntryRow]) -> Cube:
    """One pass over the rows into exact sums per region, product, company and price type."""
    cube: Cube = {}
    zero = Decimal(0)
    for row in rows:
        key = (row.region, row.product, row.competitor, row.price_type)
        acc = cube.get(key)
        if acc is None:
            acc = cube[key] = [0, 0, zero, zero]
        acc[0] += 1
        if row.price is not None:
            acc[1] += 1
            acc[2] += row.price
        if row.volume is not None:
            acc[3] += row.volume
    return cube


def average(total: Decimal, count: int) -> Decimal | None:
    """total / count rounded half-up to 0.01; None for no entries."""
    return (total / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None


Rollup = dict[tuple[str, str], list[Any]]  # (key, price type) → [entries, priced, price sum, volume sum]


def rollup(cube: Cube, dimension: str) -> Rollup:
    """Sum the cube over everything but ``dimension`` (``region``/``product``/``competitor``/``all``)."""
    out: Rollup = {}
    zero = Decimal(0)
    for (region, product, competitor, ptype), acc in cube.items():
        if dimension == "region":
            key = region
        elif dimension == "product":
            key = product
        elif dimension == "competitor":
            key = competitor or OWN
        else:
            key = "合计"
        target = out.get((key, ptype))
        if target is None:
            target = out[(key, ptype)] = [0, 0, zero, zero]
        target[0] += acc[0]
        target[1] += acc[1]
        target[2] += acc[2]
        target[3] += acc[3]
    return out


@dataclass(frozen=True)
class GroupStat:
    """One row of a breakdown: a key (region, product or company) and one price type."""

    dimension: str
    key: str
    price_type: str  # PriceType value
    count: int
    avg_price: Decimal | None
    volume: Decimal
    prev_avg_price: Decimal | None
    prev_volume: Decimal | None
    yoy_avg_price: Decimal | None
    yoy_volume: Decimal | None

    @property
    def price_type_label(self) -> str:
        return price_type_label(self.price_type)

    @property
    def price_change_pct(self) -> Decimal | None:
        return pct_change(self.avg_price, self.prev_avg_price)

    @property
    def price_yoy_pct(self) -> Decimal | None:
        return pct_change(self.avg_price, self.yoy_avg_price)

    @property
    def volume_change_pct(self) -> Decimal | None:
        return pct_change(self.volume, self.prev_volume)

    @property
    def volume_yoy_pct(self) -> Decimal | None:
        return pct_change(self.volume, self.yoy_volume)


def breakdown(dimension: str, cur: Cube, prev: Cube, yoy: Cube) -> list[GroupStat]:
    """Rows for every (key, price type) seen in the current period, sorted by key then price type."""
    now, before, year_ago = rollup(cur, dimension), rollup(prev, dimension), rollup(yoy, dimension)
    rows: list[GroupStat] = []
    for (key, ptype), acc in sorted(now.items()):
        p = before.get((key, ptype))
        y = year_ago.get((key, ptype))
        rows.append(
            GroupStat(
                dimension,
                key,
                ptype,
                acc[0],
                average(acc[2], acc[1]),
                acc[3],
                average(p[2], p[1]) if p else None,
                p[3] if p else None,
                average(y[2], y[1]) if y else None,
                y[3] if y else None,
            )
        )
    return rows


def subject_changes(cur: Cube, prev: Cube) -> dict[ChangeKey, Decimal | None]:
    """Percent changes per (product, price type, subject, metric) for the effect rules."""
    def by_subject(cube: Cube) -> dict[tuple[str, str, str], list[Any]]:
        out: dict[tuple[str, str, str], list[Any]] = {}
        zero = Decimal(0)
        for (_region, product, competitor, ptype), acc in cube.items():
            for subject in ("market", "competitor" if competitor else "own"):
                t = out.get((product, ptype, subject))
                if t is None:
                    t = out[(product, ptype, subject)] = [0, zero, zero]
                t[0] += acc[1]
                t[1] += acc[2]
                t[2] += acc[3]
        return out

    now, before = by_subject(cur), by_subject(prev)
    changes: dict[ChangeKey, Decimal | None] = {}
    for key, acc in now.items():
        base = before.get(key)
        product, ptype, subject = key
        changes[(product, ptype, subject, "avg_price")] = pct_change(
            average(acc[1], acc[0]), average(base[1], base[0]) if base else None
        )
        changes[(product, ptype, subject, "volume")] = pct_change(acc[2], base[2] if base else None)
    return changes


@dataclass
class MarketReport:
    """Everything a periodic report says; rendered by ``zhidu.market.render`` and ``zhidu.market.workbook``."""

    kind: ReportKind
    period: Period
    entry_count: int
    previous_count: int
    last_year_count: int
    overall: list[GroupStat]
    by_region: list[GroupStat]
    by_product: list[GroupStat]
    by_competitor: list[GroupStat]
    effects: list[Effect]
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def empty(self) -> bool:
        return self.entry_count == 0

    @property
    def title(self) -> str:
        return f"{REPORT_KIND_LABELS[self.kind]} {self.period.label}"

    @property
    def subject(self) -> str:
        """The email subject, e.g. ``市场信息周报 2026-W48（2026-11-23 至 2026-11-29）``."""
        return f"{self.title}（{self.period.span}）"

    @property
    def xlsx_name(self) -> str:
        return f"{REPORT_KIND_LABELS[self.kind]}_{self.period.label}.xlsx"

    @property
    def favourable(self) -> list[Effect]:
        return [e for e in self.effects if e.effect == "favourable"]

    @property
    def unfavourable(self) -> list[Effect]:
        return [e for e in self.effects if e.effect == "unfavourable"]

    def sections(self) -> list[tuple[str, list[GroupStat]]]:
        return [("总体", self.overall), ("按地区", self.by_region), ("按产品", self.by_product),
                ("按企业（本公司与竞争对手）", self.by_competitor)]

    def to_table_rows(self) -> list[dict[str, str]]:
        """Flat rows (Chinese column names, text values) for a Prefect table artifact."""
        rows: list[dict[str, str]] = []
        for section, stats in self.sections():
            for s in stats:
                rows.append(stat_row(section, s))
        return rows

    def to_markdown(self) -> str:
        """The report as markdown (Prefect artifact and archive text)."""
        from zhidu.market.render import render_markdown

        return render_markdown(self)


def fmt_dec(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,}"


def stat_row(section: str, s: GroupStat) -> dict[str, str]:
    return {
        "分类": section,
        "项目": s.key,
        "价格类型": s.price_type_label,
        "条数": str(s.count),
        "均价": fmt_dec(s.avg_price),
        "均价环比": fmt_pct(s.price_change_pct),
        "均价同比": fmt_pct(s.price_yoy_pct),
        "数量": fmt_dec(s.volume),
        "数量环比": fmt_pct(s.volume_change_pct),
        "数量同比": fmt_pct(s.volume_yoy_pct),
    }


def build_report(
    kind: ReportKind | str,
    period: Period,
    current: Iterable[EntryRow],
    previous: Iterable[EntryRow] = (),
    last_year: Iterable[EntryRow] = (),
    *,
    rules: EffectRules | None = None,
) -> MarketReport:
    """Compute the report of ``period`` from its rows and those of the previous period and last year's."""
    return report_from_cubes(kind, period, aggregate(current), aggregate(previous), aggregate(last_year), rules=rules)


def report_from_cubes(
    kind: ReportKind | str, period: Period, cur: Cube, prev: Cube, yoy: Cube, *, rules: EffectRules | None = None
) -> MarketReport:
    """The report from exact sums already made (``aggregate`` in Python, or ``zhidu.market.cube`` in the database)."""
    rules = rules or load_rules()

    def count(cube: Cube) -> int:
        return sum(acc[0] for acc in cube.values())

    return MarketReport(
        kind=ReportKind(kind),
        period=period,
        entry_count=count(cur),
        previous_count=count(prev),
        last_year_count=count(yoy),
        overall=breakdown("all", cur, prev, yoy),
        by_region=breakdown("region", cur, prev, yoy),
        by_product=breakdown("product", cur, prev, yoy),
        by_competitor=breakdown("competitor", cur, prev, yoy),
        effects=evaluate_effects(subject_changes(cur, prev), rules),
    )
