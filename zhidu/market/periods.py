"""Report periods (篇四 §15): ISO weeks, calendar months and quarters, always in local (Asia/Shanghai) dates.

Labels: ``2026-W01`` (ISO week, so 2025-12-29 … 2026-01-04 is ``2026-W01`` and 2026 has a ``2026-W53``),
``2026-03`` (month), ``2026-Q1`` (quarter). The end date is inclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args

from zhidu.settings import get_settings

PeriodKind = Literal["weekly", "monthly", "quarterly"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)
KIND_LABELS: dict[str, str] = {"weekly": "周报", "monthly": "月报", "quarterly": "季报"}

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """One week, month or quarter: ``start`` … ``end`` inclusive, local dates."""

    kind: PeriodKind
    start: date
    end: date
    label: str

    @property
    def previous(self) -> Period:
        """The period just before this one (环比)."""
        return period_containing(self.kind, self.start - timedelta(days=1))

    @property
    def same_last_year(self) -> Period:
        """The same period one year earlier (同比); ISO week 53 maps to week 52 when that year has none."""
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return _week(year - 1, min(week, iso_weeks_in_year(year - 1)))
        return period_containing(self.kind, self.start.replace(year=self.start.year - 1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def title(self) -> str:
        """The Chinese name of the period, e.g. ``2026年第1周``, ``2026年3月``, ``2026年第1季度``."""
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year}年第{week}周"
        if self.kind == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"

    @property
    def span(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def bounds(self) -> tuple[datetime, datetime]:
        """The local instants [start 00:00, day after end 00:00) in the configured zone (Asia/Shanghai)."""
        tz = get_settings().tz
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz),
        )


def iso_weeks_in_year(year: int) -> int:
    """52 or 53: December 28 always lies in the last ISO week of its year."""
    return date(year, 12, 28).isocalendar().week


def _week(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period("weekly", start, start + timedelta(days=6), f"{year}-W{week:02d}")


def _month(year: int, month: int) -> Period:
    start = date(year, month, 1)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return Period("monthly", start, nxt - timedelta(days=1), f"{year}-{month:02d}")


def _quarter(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    start = date(year, first, 1)
    nxt = date(year + 1, 1, 1) if quarter == 4 else date(year, first + 3, 1)
    return Period("quarterly", start, nxt - timedelta(days=1), f"{year}-Q{quarter}")


def _check_kind(kind: str) -> PeriodKind:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")
    return kind  # type: ignore[return-value]


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The week, month or quarter that contains the local date ``day``."""
    kind = _check_kind(kind)
    if kind == "weekly":
        year, week, _ = day.isocalendar()
        return _week(year, week)
    if kind == "monthly":
        return _month(day.year, day.month)
    return _quarter(day.year, (day.month - 1) // 3 + 1)


def local_date(now: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant; naive datetimes are refused."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware instant")
    return now.astimezone(get_settings().tz).date()


def previous_period(kind: PeriodKind, now: datetime) -> Period:
    """The last complete period before the local date of ``now`` (a run at 00:05 Monday Shanghai → last week)."""
    return period_containing(kind, local_date(now)).previous


def period_for(kind: PeriodKind, label: str) -> Period:
    """The period named by ``label`` (``2026-W53``, ``2026-03``, ``2026-Q1``), to produce a past report by hand."""
    kind = _check_kind(kind)
    pattern = {"weekly": _WEEK, "monthly": _MONTH, "quarterly": _QUARTER}[kind]
    match = pattern.match(label.strip())
    if not match:
        examples = {"weekly": "2026-W01", "monthly": "2026-03", "quarterly": "2026-Q1"}
        raise ValueError(f"bad {kind} label {label!r}; expected like {examples[kind]}")
    year, number = int(match.group(1)), int(match.group(2))
    if kind == "weekly":
        if not 1 <= number <= iso_weeks_in_year(year):
            raise ValueError(f"{label}: {year} has {iso_weeks_in_year(year)} ISO weeks")
        return _week(year, number)
    if kind == "monthly":
        if not 1 <= number <= 12:
            raise ValueError(f"{label}: month must be 01–12")
        return _month(year, number)
    return _quarter(year, number)
