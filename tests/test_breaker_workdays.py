"""Breaker: the calendar at its edges: UTC vs Shanghai day boundaries, office hours to the minute, holidays with
make-up days, the year end into a year without data, and numbers that are not numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.test_workdays import cal  # noqa: F401  (fixture)
from zhidu.workdays import CalendarYearMissing, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def test_23_30_utc_is_already_the_next_local_day(cal: WorkCalendar) -> None:  # noqa: F811
    # 2026-10-09 23:30 UTC is Saturday 10-10 07:30 in Shanghai (a make-up working day after National Day): one
    # working day later is Monday 10-12. Eight hours earlier it is still Friday 10-09 local: the next is 10-10.
    instant = datetime(2026, 10, 9, 23, 30, tzinfo=UTC)
    assert cal.local_date(instant) == date(2026, 10, 10) and cal.is_workday(date(2026, 10, 10))
    assert cal.workday_deadline(instant, 1) == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)
    assert cal.workday_deadline(instant - timedelta(hours=8), 1) == datetime(2026, 10, 10, 16, 0, tzinfo=UTC)
    assert cal.workday_deadline(datetime(2026, 9, 30, 23, 30, tzinfo=UTC), 1) == datetime(2026, 10, 8, 16, tzinfo=UTC)


def test_office_start_and_end_to_the_minute(cal: WorkCalendar) -> None:  # noqa: F811
    start, end = datetime(2026, 12, 3, 9, 0, tzinfo=SH), datetime(2026, 12, 3, 17, 30, tzinfo=SH)
    assert cal.working_hours_between(start, end) == timedelta(hours=8, minutes=30)
    assert cal.working_hours_between(end, datetime(2026, 12, 4, 9, 0, tzinfo=SH)) == timedelta(0)
    assert cal.add_working_hours(end, 1) == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Fri 10:00 local
    assert cal.add_working_hours(start, 8.5) == end.astimezone(UTC)  # the last minute of the day, not the next day


def test_spring_festival_2026_make_up_saturday_counts(cal: WorkCalendar) -> None:  # noqa: F811
    # Friday 2026-02-13: the next working day is the make-up Saturday 02-14, then 02-24 after the holiday.
    friday = datetime(2026, 2, 13, 10, tzinfo=SH)
    assert cal.workday_deadline(friday, 1) == datetime(2026, 2, 14, 16, tzinfo=UTC)
    assert cal.workday_deadline(friday, 2) == datetime(2026, 2, 24, 16, tzinfo=UTC)
    assert cal.civil_deadline(date(2026, 2, 10), 5) == datetime(2026, 2, 24, 16, tzinfo=UTC)


def test_a_deadline_from_late_december_2026_needs_2027_and_says_so(cal: WorkCalendar) -> None:  # noqa: F811
    late = datetime(2026, 12, 30, 10, tzinfo=SH)
    assert cal.workday_deadline(late, 1) == datetime(2026, 12, 31, 16, tzinfo=UTC)
    with pytest.raises(CalendarYearMissing, match="no working-day calendar for 2027") as err:
        cal.workday_deadline(late, 2)
    assert err.value.year == 2027 and "2027:\n  holidays:" in str(err.value)


@pytest.mark.parametrize("hours", [float("nan"), float("inf"), -0.5])
def test_hours_that_are_not_a_finite_positive_number_are_refused(cal: WorkCalendar, hours: float) -> None:  # noqa: F811
    # Was: "cannot convert float NaN to integer" / OverflowError from deep inside timedelta.
    with pytest.raises(ValueError, match="hours must be a finite number >= 0"):
        cal.add_working_hours(datetime(2026, 12, 3, 9, tzinfo=SH), hours)
