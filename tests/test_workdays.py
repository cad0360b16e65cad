"""The working-day calendar against the official 2025 and 2026 arrangements (国务院办公厅通知)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from zhidu import ROOT
from zhidu.settings import get_settings
from zhidu.workdays import (
    CalendarOverrideError,
    CalendarYearMissing,
    WorkCalendar,
    YearOverride,
    get_calendar,
    load_override,
)

SH = ZoneInfo("Asia/Shanghai")


def make_calendar(overrides: dict[int, YearOverride] | None = None, path: Path | None = None) -> WorkCalendar:
    return WorkCalendar(
        tz=SH, office_start=time(9, 0), office_end=time(17, 30), overrides=overrides or {}, override_path=path
    )


@pytest.fixture
def cal() -> WorkCalendar:
    return make_calendar()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- official days ------------------------------------------------------------------------------------------


def test_national_day_2025(cal: WorkCalendar) -> None:
    assert [cal.is_workday(d) for d in days(date(2025, 9, 27), date(2025, 10, 12))] == [
        False,  # Sat 09-27
        True,  # Sun 09-28 调休上班
        True,
        True,  # Tue 09-30
        *[False] * 8,  # Wed 10-01 .. Wed 10-08 国庆节、中秋节
        True,  # Thu 10-09
        True,  # Fri 10-10
        True,  # Sat 10-11 调休上班
        False,  # Sun 10-12
    ]


def test_spring_festival_2026_matches_the_official_notice(cal: WorkCalendar) -> None:
    off = [d for d in days(date(2026, 2, 9), date(2026, 3, 1)) if not cal.is_workday(d)]
    assert off == days(date(2026, 2, 15), date(2026, 2, 23)) + [date(2026, 3, 1)]
    assert cal.is_workday(date(2026, 2, 14)) is True  # Saturday 调休上班
    assert cal.is_workday(date(2026, 2, 28)) is True  # Saturday 调休上班


def test_make_up_saturdays_and_sundays(cal: WorkCalendar) -> None:
    make_up = [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2026, 1, 4), date(2026, 5, 9)]
    assert [(d.strftime("%a"), cal.is_workday(d)) for d in make_up] == [
        ("Sun", True),
        ("Sat", True),
        ("Sun", True),
        ("Sun", True),
        ("Sat", True),
    ]
    assert cal.is_workday(date(2025, 9, 20)) is False  # an ordinary Saturday


def test_a_datetime_is_not_a_day(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError) as exc:
        cal.is_workday(sh(2025, 10, 9, 10))
    assert str(exc.value) == "day must be a date (use local_date() for an instant), got datetime"


# --- counting days ----------------------------------------------------------------------------------------


def test_next_workday_is_t_plus_1_across_national_day(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2025, 10, 1)) == date(2025, 10, 9)  # find_workday would say 10-10
    assert cal.next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert cal.next_workday(date(2025, 9, 27)) == date(2025, 9, 28)
    assert cal.next_workday(date(2025, 10, 10)) == date(2025, 10, 11)


def test_add_workdays(cal: WorkCalendar) -> None:
    assert cal.add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert cal.add_workdays(date(2025, 12, 31), 3) == date(2026, 1, 6)
    assert cal.add_workdays(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert cal.add_workdays(date(2025, 10, 4), 0) == date(2025, 10, 4)


def test_add_workdays_refuses_negative(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError) as exc:
        cal.add_workdays(date(2025, 10, 9), -1)
    assert str(exc.value) == "n must be >= 0, got -1"


# --- instants and deadlines -------------------------------------------------------------------------------


def test_end_of_day_and_local_date(cal: WorkCalendar) -> None:
    assert cal.end_of_day(date(2025, 10, 9)) == datetime(2025, 10, 9, 16, 0, tzinfo=UTC)
    assert cal.end_of_day(date(2025, 10, 9)).tzinfo is UTC
    assert cal.local_date(datetime(2025, 9, 30, 16, 30, tzinfo=UTC)) == date(2025, 10, 1)
    assert cal.local_date(datetime(2025, 9, 30, 15, 59, tzinfo=UTC)) == date(2025, 9, 30)


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    naive = datetime(2025, 10, 9, 10, 0)
    with pytest.raises(ValueError) as exc:
        cal.local_date(naive)
    assert str(exc.value) == "instant is a naive datetime (2025-10-09T10:00:00); zhidu accepts aware datetimes only"
    for call in (
        lambda: cal.workday_deadline(naive, 1),
        lambda: cal.working_hours_between(naive, sh(2025, 10, 10, 10)),
        lambda: cal.working_hours_between(sh(2025, 10, 8, 10), naive),
        lambda: cal.add_working_hours(naive, 1.0),
    ):
        with pytest.raises(ValueError, match="naive datetime") as exc:
            call()
        assert str(exc.value).endswith("(2025-10-09T10:00:00); zhidu accepts aware datetimes only")


def test_civil_deadline_last_day_in_a_holiday_moves_to_next_workday(cal: WorkCalendar) -> None:
    # Event 09-26, 5 days: 09-27 .. 10-01; 10-01 is 国庆节, so the period ends at 24:00 on 10-09.
    assert cal.civil_deadline(date(2025, 9, 26), 5) == datetime(2025, 10, 9, 16, 0, tzinfo=UTC)


def test_civil_deadline_on_a_working_day_or_make_up_saturday_stays(cal: WorkCalendar) -> None:
    assert cal.civil_deadline(date(2025, 10, 9), 1) == datetime(2025, 10, 10, 16, 0, tzinfo=UTC)
    # Event 10-01, 10 days: last day Saturday 10-11, a 调休上班 working day, so it does not move.
    assert cal.civil_deadline(date(2025, 10, 1), 10) == datetime(2025, 10, 11, 16, 0, tzinfo=UTC)
    # Last day an ordinary Sunday (2025-10-19) moves to Monday 10-20.
    assert cal.civil_deadline(date(2025, 10, 12), 7) == datetime(2025, 10, 20, 16, 0, tzinfo=UTC)


def test_civil_deadline_refuses_non_positive_days(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError) as exc:
        cal.civil_deadline(date(2025, 10, 9), 0)
    assert str(exc.value) == "days must be >= 1, got 0"


def test_workday_deadline_counts_from_the_local_date(cal: WorkCalendar) -> None:
    # 2025-10-10T17:00Z is Saturday 10-11 01:00 in Shanghai (a make-up working day): T+1 is Monday 10-13.
    assert cal.workday_deadline(datetime(2025, 10, 10, 17, 0, tzinfo=UTC), 1) == datetime(
        2025, 10, 13, 16, 0, tzinfo=UTC
    )
    assert cal.workday_deadline(sh(2025, 9, 30, 10, 0), 3) == datetime(2025, 10, 11, 16, 0, tzinfo=UTC)


# --- office hours -----------------------------------------------------------------------------------------


def test_working_hours_across_a_weekend(cal: WorkCalendar) -> None:
    # Fri 09-19 16:00 .. Mon 09-22 10:00: 1.5 h Friday + 1 h Monday.
    assert cal.working_hours_between(sh(2025, 9, 19, 16, 0), sh(2025, 9, 22, 10, 0)) == timedelta(hours=2.5)


def test_working_hours_across_national_day(cal: WorkCalendar) -> None:
    # Tue 09-30 17:00 .. Thu 10-09 09:30, instants given in UTC: 0.5 h + 0.5 h, nothing during 10-01..10-08.
    start = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)
    end = datetime(2025, 10, 9, 1, 30, tzinfo=UTC)
    assert cal.working_hours_between(start, end) == timedelta(hours=1)


def test_working_hours_count_a_make_up_sunday(cal: WorkCalendar) -> None:
    assert cal.working_hours_between(sh(2025, 9, 27, 0, 0), sh(2025, 9, 29, 0, 0)) == timedelta(hours=8.5)
    assert cal.working_hours_between(sh(2025, 10, 9, 12, 0), sh(2025, 10, 9, 12, 0)) == timedelta(0)
    assert cal.working_hours_between(sh(2025, 10, 9, 18, 0), sh(2025, 10, 9, 23, 0)) == timedelta(0)


def test_working_hours_refuse_end_before_start(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError) as exc:
        cal.working_hours_between(sh(2025, 10, 9, 12, 0), sh(2025, 10, 9, 11, 0))
    assert str(exc.value) == "end 2025-10-09T11:00:00+08:00 is before start 2025-10-09T12:00:00+08:00"


def test_add_working_hours(cal: WorkCalendar) -> None:
    # 1.5 h left on 09-30, then 2.5 h from 09:00 on 10-09 -> 11:30 Shanghai.
    assert cal.add_working_hours(sh(2025, 9, 30, 16, 0), 4) == datetime(2025, 10, 9, 3, 30, tzinfo=UTC)
    assert cal.add_working_hours(sh(2025, 10, 9, 7, 0), 1) == datetime(2025, 10, 9, 2, 0, tzinfo=UTC)
    assert cal.add_working_hours(sh(2025, 9, 19, 9, 0), 8.5) == datetime(2025, 9, 19, 9, 30, tzinfo=UTC)
    assert cal.add_working_hours(sh(2025, 9, 27, 10, 0), 0) == datetime(2025, 9, 27, 2, 0, tzinfo=UTC)
    # Saturday 09-27 is a rest day; Sunday 09-28 (调休上班) is not.
    assert cal.add_working_hours(sh(2025, 9, 27, 10, 0), 2) == datetime(2025, 9, 28, 3, 0, tzinfo=UTC)


def test_add_working_hours_round_trips_with_working_hours_between(cal: WorkCalendar) -> None:
    start = sh(2026, 2, 13, 15, 0)
    end = cal.add_working_hours(start, 12)
    # 2.5 h Fri 02-13, 8.5 h Sat 02-14 (调休上班), none 02-15..02-23 (春节), 1 h Tue 02-24 -> 10:00 Shanghai.
    assert end == datetime(2026, 2, 24, 2, 0, tzinfo=UTC)
    assert cal.working_hours_between(start, end) == timedelta(hours=12)


def test_office_hours_must_be_ordered() -> None:
    with pytest.raises(ValueError) as exc:
        WorkCalendar(tz=SH, office_start=time(18, 0), office_end=time(9, 0))
    assert str(exc.value) == "office_start 18:00:00 must be before office_end 09:00:00"


def test_calendar_is_frozen(cal: WorkCalendar) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.office_end = time(18, 0)  # type: ignore[misc]
    assert cal.office_end == time(17, 30)


# --- years without data and the override file -------------------------------------------------------------


def test_missing_year_is_a_clear_error() -> None:
    path = Path("/srv/zhidu/data/calendar_override.yaml")
    cal = make_calendar(path=path)
    with pytest.raises(CalendarYearMissing) as exc:
        cal.is_workday(date(2027, 1, 4))
    assert isinstance(exc.value, LookupError)
    assert exc.value.year == 2027
    assert str(exc.value) == (
        "no working-day calendar for 2027: chinese-calendar has official data for 2004-2026 only. "
        "Add 2027 to the calendar override file /srv/zhidu/data/calendar_override.yaml from the State Council "
        "notice (国务院办公厅关于2027年部分节假日安排的通知), in this format:\n"
        "2027:\n"
        "  holidays: [2027-MM-DD, ...]  # 法定节假日 and 调休 rest days\n"
        "  workdays: [2027-MM-DD, ...]  # 调休上班\n"
        "then restart zhidu (or call zhidu.workdays.get_calendar.cache_clear())."
    )


def test_counting_into_a_missing_year_fails_instead_of_guessing(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2026, 12, 30)) == date(2026, 12, 31)
    with pytest.raises(CalendarYearMissing) as exc:
        cal.next_workday(date(2026, 12, 31))
    assert exc.value.year == 2027
    with pytest.raises(CalendarYearMissing) as exc:
        cal.is_workday(date(2003, 12, 31))
    assert exc.value.year == 2003


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar_override.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# Test data for the mechanism only, not the official 2027 arrangement.
OVERRIDE_2027 = """\
2027:
  holidays: [2027-01-01, 2027-02-08, 2027-02-09]
  workdays: [2027-02-20]
2026:
  holidays: [2026-02-13]
  workdays: [2026-03-01]
"""


def test_override_file_makes_2027_work(tmp_path: Path) -> None:
    overrides = load_override(write(tmp_path, OVERRIDE_2027))
    assert overrides[2027] == YearOverride(
        holidays=frozenset({date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9)}),
        workdays=frozenset({date(2027, 2, 20)}),
    )
    cal = make_calendar(overrides)
    assert cal.next_workday(date(2026, 12, 31)) == date(2027, 1, 4)  # Fri 01-01 holiday, then the weekend
    assert cal.is_workday(date(2027, 2, 20)) is True  # a Saturday declared 调休上班
    assert cal.is_workday(date(2027, 2, 21)) is False  # an undeclared Sunday
    assert cal.add_workdays(date(2027, 2, 5), 2) == date(2027, 2, 11)  # skips 02-08, 02-09 (Mon, Tue)


def test_override_entries_take_precedence_over_the_library(tmp_path: Path) -> None:
    cal = make_calendar(load_override(write(tmp_path, OVERRIDE_2027)))
    assert cal.is_workday(date(2026, 2, 13)) is False  # library: working Friday
    assert cal.is_workday(date(2026, 3, 1)) is True  # library: Sunday
    assert cal.is_workday(date(2026, 2, 14)) is True  # not overridden: library's 调休上班
    assert cal.add_workdays(date(2026, 2, 12), 1) == date(2026, 2, 14)


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_override(tmp_path / "absent.yaml") == {}
    assert load_override(write(tmp_path, "# only comments\n")) == {}


def test_shipped_override_file_is_an_empty_mapping() -> None:
    assert load_override(ROOT / "data" / "calendar_override.yaml") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2027:\n  holidays: [2027-02-30]\n  workdays: []\n",
            "2027 holidays entry '2027-02-30': not a real date",
        ),
        (
            "2027:\n  holidays: [2027-1-5]\n  workdays: []\n",
            "2027 holidays entry '2027-1-5': not a date in the form YYYY-MM-DD",
        ),
        (
            "2027:\n  holidays: []\n  workdays: [2026-02-28]\n",
            "2027 workdays entry '2026-02-28': the date is not in 2027",
        ),
        (
            "2027:\n  holidays: [2027-02-20, 2027-01-01]\n  workdays: [2027-02-20]\n",
            "2027: 2027-02-20 is listed both in holidays and in workdays",
        ),
        (
            "2027:\n  holidays: [2027-01-01]\n",
            "2027 must have exactly the keys holidays and workdays (missing: ['workdays'], unknown: [])",
        ),
        (
            "2027:\n  holidays: []\n  workdays: []\n  notes: []\n",
            "2027 must have exactly the keys holidays and workdays (missing: [], unknown: ['notes'])",
        ),
        (
            "2027:\n  holidays: 2027-01-01\n  workdays: []\n",
            "2027 holidays must be a list of dates such as [2027-01-01]",
        ),
        ("2027:\n", "2027 must be a mapping with the keys holidays and workdays"),
        (
            "next year:\n  holidays: []\n  workdays: []\n",
            "'next year' is not a year (expected a four-digit year such as 2027)",
        ),
        ("- 2027-01-01\n", "the top level must be a mapping of year to holidays/workdays"),
    ],
)
def test_override_validation_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CalendarOverrideError) as exc:
        load_override(path)
    assert isinstance(exc.value, ValueError)
    assert str(exc.value) == f"{path}: {message}"


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "2027: [unclosed\n")
    with pytest.raises(CalendarOverrideError) as exc:
        load_override(path)
    assert str(exc.value).startswith(f"{path}: not valid YAML: ")


# --- get_calendar ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    get_settings.cache_clear()
    get_calendar.cache_clear()
    yield
    get_settings.cache_clear()
    get_calendar.cache_clear()


def test_get_calendar_is_built_from_settings_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    path = write(tmp_path, OVERRIDE_2027)
    monkeypatch.setenv("ZHIDU_CALENDAR_OVERRIDE_PATH", str(path))
    monkeypatch.setenv("ZHIDU_OFFICE_END", "18:00")
    cal = get_calendar()
    assert get_calendar() is cal
    assert (cal.tz, cal.office_start, cal.office_end, cal.override_path) == (SH, time(9, 0), time(18, 0), path)
    assert cal.is_workday(date(2027, 2, 20)) is True
    path.write_text("{}\n", encoding="utf-8")
    assert get_calendar().is_workday(date(2027, 2, 20)) is True  # still the cached calendar
    get_calendar.cache_clear()
    with pytest.raises(CalendarYearMissing):
        get_calendar().is_workday(date(2027, 2, 20))
