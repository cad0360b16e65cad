"""The one working-day calendar (工作日历): every deadline in zhidu goes through ``get_calendar()``.

Working days come from the official Chinese calendar (package ``chinese_calendar``: 法定节假日 public holidays and
调休上班 make-up working days on weekends), which has official data for a fixed range of years only (2004–2026 in
1.11.0). An administrator adds a later year, or corrects a day, in the override file (``calendar_override_path``;
format in ``data/calendar_override.yaml``). An override entry takes precedence over the library for that day. A
date in a year known to neither is an error (``CalendarYearMissing``), never a weekday guess.

Periods follow the Civil Code (民法典): counting starts the day after the event (Art. 201); a last day that is a
rest day moves to the next working day, and the period ends at 24:00 of the last day (Art. 203). Instants are
timezone-aware; returned instants are in UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from zhidu.settings import get_settings

ONE_DAY = timedelta(days=1)
LIBRARY_FIRST_YEAR: int = min(chinese_calendar.holidays).year
LIBRARY_LAST_YEAR: int = max(chinese_calendar.holidays).year
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
_OVERRIDE_KEYS = ("holidays", "workdays")
OVERRIDE_FORMAT = (
    "YYYY:\n  holidays: [YYYY-MM-DD, ...]  # 法定节假日 and 调休 rest days\n  workdays: [YYYY-MM-DD, ...]  # 调休上班"
)


class CalendarYearMissing(LookupError):
    """A date in a year for which neither chinese_calendar nor the override file has data."""

    def __init__(self, year: int, override_path: Path | None) -> None:
        self.year = year
        where = str(override_path) if override_path else "the file named by ZHIDU_CALENDAR_OVERRIDE_PATH"
        super().__init__(
            f"no working-day calendar for {year}: chinese-calendar has official data for "
            f"{LIBRARY_FIRST_YEAR}-{LIBRARY_LAST_YEAR} only. Add {year} to the calendar override file {where} "
            f"from the State Council notice (国务院办公厅关于{year}年部分节假日安排的通知), in this format:\n"
            f"{OVERRIDE_FORMAT.replace('YYYY', str(year))}\n"
            "then restart zhidu (or call zhidu.workdays.get_calendar.cache_clear())."
        )


class CalendarOverrideError(ValueError):
    """The override file is malformed; the message names the file, the year and the entry."""


@dataclass(frozen=True)
class YearOverride:
    """One year's declared days: rest days (holidays) and working days (workdays)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


# --- loading the override file -------------------------------------------------------------------------------


def load_override(path: Path) -> dict[int, YearOverride]:
    """Read and validate the override file; a missing or empty file means no overrides."""
    if not path.exists():
        return {}
    try:
        # BaseLoader keeps every scalar a string, so a bad date is reported by us with its year and entry.
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise CalendarOverrideError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise CalendarOverrideError(f"{path}: the top level must be a mapping of year to holidays/workdays")
    return dict(_parse_year(path, key, value) for key, value in raw.items())


def _parse_year(path: Path, key: Any, value: Any) -> tuple[int, YearOverride]:
    if not isinstance(key, str) or not _YEAR.fullmatch(key):
        raise CalendarOverrideError(f"{path}: {key!r} is not a year (expected a four-digit year such as 2027)")
    year = int(key)
    if not isinstance(value, dict):
        raise CalendarOverrideError(f"{path}: {year} must be a mapping with the keys holidays and workdays")
    unknown = sorted(set(value) - set(_OVERRIDE_KEYS))
    missing = [k for k in _OVERRIDE_KEYS if k not in value]
    if unknown or missing:
        raise CalendarOverrideError(
            f"{path}: {year} must have exactly the keys holidays and workdays (missing: {missing}, unknown: {unknown})"
        )
    holidays = _parse_days(path, year, "holidays", value["holidays"])
    workdays = _parse_days(path, year, "workdays", value["workdays"])
    both = sorted(holidays & workdays)
    if both:
        raise CalendarOverrideError(f"{path}: {year}: {both[0].isoformat()} is listed both in holidays and in workdays")
    return year, YearOverride(holidays=holidays, workdays=workdays)


def _parse_days(path: Path, year: int, name: str, items: Any) -> frozenset[date]:
    if not isinstance(items, list):
        raise CalendarOverrideError(f"{path}: {year} {name} must be a list of dates such as [{year}-01-01]")
    return frozenset(_parse_day(path, year, name, item) for item in items)


def _parse_day(path: Path, year: int, name: str, item: Any) -> date:
    where = f"{path}: {year} {name} entry {item!r}"
    if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
        raise CalendarOverrideError(f"{where}: not a date in the form YYYY-MM-DD")
    try:
        day = date.fromisoformat(item)
    except ValueError:
        raise CalendarOverrideError(f"{where}: not a real date") from None
    if day.year != year:
        raise CalendarOverrideError(f"{where}: the date is not in {year}")
    return day


# --- the calendar ----------------------------------------------------------------------------------------------


def _require_aware(instant: datetime, name: str) -> None:
    if not isinstance(instant, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({instant.isoformat()}); zhidu accepts aware datetimes only")


def _require_date(day: date, name: str = "day") -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{name} must be a date (use local_date() for an instant), got {type(day).__name__}")


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and office hours in one timezone, with the administrator's overrides."""

    tz: ZoneInfo
    office_start: time
    office_end: time
    overrides: Mapping[int, YearOverride] = field(default_factory=dict)
    override_path: Path | None = None  # named in CalendarYearMissing's message

    def __post_init__(self) -> None:
        if self.office_start >= self.office_end:
            raise ValueError(f"office_start {self.office_start} must be before office_end {self.office_end}")

    # days

    def is_workday(self, day: date) -> bool:
        """True on a working day (including 调休上班 weekend days), False on rest days."""
        _require_date(day)
        override = self.overrides.get(day.year)
        if override is not None and day in override.holidays:
            return False
        if override is not None and day in override.workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if override is None:
                raise CalendarYearMissing(day.year, self.override_path) from None
            return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day`` (T+1)."""
        _require_date(day)
        candidate = day + ONE_DAY
        while not self.is_workday(candidate):
            candidate += ONE_DAY
        return candidate

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` itself not counted); n == 0 returns ``day``."""
        _require_date(day)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        for _ in range(n):
            day = self.next_workday(day)
        return day

    # instants

    def local_date(self, instant: datetime) -> date:
        """The calendar date of ``instant`` in the calendar's timezone."""
        _require_aware(instant, "instant")
        return instant.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """24:00 local of ``day`` (= 00:00 of the next day), as an aware UTC instant."""
        _require_date(day)
        return datetime.combine(day + ONE_DAY, time(0), tzinfo=self.tz).astimezone(UTC)

    def civil_deadline(self, event_day: date, days: int) -> datetime:
        """End of a ``days``-day period counted from the day after ``event_day`` (民法典 Art. 201, 203)."""
        _require_date(event_day, "event_day")
        if days < 1:
            raise ValueError(f"days must be >= 1, got {days}")
        last = event_day + timedelta(days=days)
        if not self.is_workday(last):
            last = self.next_workday(last)
        return self.end_of_day(last)

    def workday_deadline(self, start: datetime, n: int) -> datetime:
        """End (24:00 local, in UTC) of the n-th working day after the local date of ``start``."""
        return self.end_of_day(self.add_workdays(self.local_date(start), n))

    # office hours

    def _office_windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Office hours of each working day from ``first`` on, as aware local (open, close) pairs."""
        day = first
        while True:
            if self.is_workday(day):
                yield (
                    datetime.combine(day, self.office_start, tzinfo=self.tz),
                    datetime.combine(day, self.office_end, tzinfo=self.tz),
                )
            day += ONE_DAY

    def working_hours_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time (office_start–office_end on working days) between two instants; ``end`` >= ``start``."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        total = timedelta(0)
        for opens, closes in self._office_windows(self.local_date(start)):
            if opens >= end:
                break
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        return total

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant (UTC) when ``hours`` of office time have passed after ``start``."""
        _require_aware(start, "start")
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be a finite number >= 0, got {hours}")
        remaining = timedelta(hours=hours)
        if not remaining:
            return start.astimezone(UTC)
        for opens, closes in self._office_windows(self.local_date(start)):
            begin = max(opens, start)
            available = closes - begin
            if available <= timedelta(0):
                continue
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise AssertionError("unreachable: _office_windows is endless")  # pragma: no cover


@lru_cache
def get_calendar() -> WorkCalendar:
    """The process-wide calendar from settings (``get_calendar.cache_clear()`` after changing the override file)."""
    settings = get_settings()
    return WorkCalendar(
        tz=settings.tz,
        office_start=settings.office_start,
        office_end=settings.office_end,
        overrides=load_override(settings.calendar_override_path),
        override_path=settings.calendar_override_path,
    )
