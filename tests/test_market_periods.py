"""Report periods and form due dates (篇四 §15, 篇七 §二)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from zhidu.market.periods import iso_weeks_in_year, period_containing, period_for, previous_period
from zhidu.market.reminders import (
    customer_opinion_due,
    reminders_between,
    return_visit_window,
    sales_feedback_due,
    summary_due,
)

SHANGHAI = timezone(timedelta(hours=8))


def test_monday_just_after_midnight_shanghai_reports_the_previous_local_week() -> None:
    now = datetime(2026, 1, 5, 0, 5, tzinfo=SHANGHAI)  # still Sunday 2026-01-04 16:05 in UTC
    week = previous_period("weekly", now.astimezone(UTC))
    assert (week.label, week.start, week.end) == ("2026-W01", date(2025, 12, 29), date(2026, 1, 4))
    assert week.title == "2026年第1周"
    assert week.previous.label == "2025-W52"


def test_first_of_month_and_quarter_just_after_midnight_shanghai() -> None:
    month = previous_period("monthly", datetime(2026, 2, 28, 16, 30, tzinfo=UTC))  # 2026-03-01 00:30 Shanghai
    assert (month.label, month.start, month.end) == ("2026-02", date(2026, 2, 1), date(2026, 2, 28))
    quarter = previous_period("quarterly", datetime(2025, 12, 31, 16, 10, tzinfo=UTC))  # 2026-01-01 00:10
    assert (quarter.label, quarter.start, quarter.end) == ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))
    assert quarter.previous.label == "2025-Q3"
    assert quarter.same_last_year.label == "2024-Q4"
    assert month.same_last_year.label == "2025-02"
    assert month.title == "2026年2月"


def test_iso_week_53_exists_in_2026_and_not_in_2025() -> None:
    assert iso_weeks_in_year(2026) == 53
    assert iso_weeks_in_year(2025) == 52
    week = period_for("weekly", "2026-W53")
    assert (week.start, week.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert period_for("weekly", "2027-W01").previous == week
    assert week.same_last_year.label == "2025-W52"  # 2025 has no week 53
    assert period_for("weekly", "2021-W01").same_last_year.label == "2020-W01"
    with pytest.raises(ValueError, match="2025 has 52 ISO weeks"):
        period_for("weekly", "2025-W53")


def test_weeks_crossing_a_month_and_a_year() -> None:
    assert period_containing("weekly", date(2026, 2, 1)).label == "2026-W05"
    assert period_for("weekly", "2026-W05").start == date(2026, 1, 26)
    assert period_containing("weekly", date(2024, 12, 30)).label == "2025-W01"
    assert period_containing("weekly", date(2027, 1, 1)).label == "2026-W53"


def test_period_for_labels_and_errors() -> None:
    assert period_for("monthly", "2024-02").end == date(2024, 2, 29)
    assert period_for("quarterly", "2026-Q3").span == "2026-07-01 至 2026-09-30"
    with pytest.raises(ValueError, match="expected like 2026-03"):
        period_for("monthly", "2026-3")
    with pytest.raises(ValueError, match="month must be"):
        period_for("monthly", "2026-13")
    with pytest.raises(ValueError, match="unknown period kind"):
        period_for("yearly", "2026")  # type: ignore[arg-type]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        previous_period("weekly", datetime(2026, 1, 5, 0, 5))


def test_due_dates() -> None:
    q1 = period_for("quarterly", "2026-Q1")
    assert customer_opinion_due(q1) == date(2026, 3, 24)
    assert sales_feedback_due(period_for("weekly", "2026-W10")) == date(2026, 3, 8)
    assert summary_due(date(2026, 3, 8)) == date(2026, 3, 15)
    assert return_visit_window(2026, 1) == (date(2026, 1, 27), date(2026, 1, 31))
    assert return_visit_window(2026, 2) == (date(2026, 4, 26), date(2026, 4, 30))
    assert return_visit_window(2026, 4) == (date(2026, 10, 27), date(2026, 10, 31))
    assert customer_opinion_due(q1, adjust=lambda d: d + timedelta(days=1)) == date(2026, 3, 25)


def test_reminders_between_lists_every_obligation_due() -> None:
    found = [(r.code, r.period_label, r.due) for r in reminders_between(date(2026, 3, 24), date(2026, 3, 31))]
    assert found == [
        ("customer_opinion", "2026-Q1", date(2026, 3, 24)),
        ("sales_feedback_summary_weekly", "2026-W12", date(2026, 3, 29)),
        ("sales_feedback_weekly", "2026-W13", date(2026, 3, 29)),
        ("customer_opinion_summary", "2026-Q1", date(2026, 3, 31)),
        ("sales_feedback_monthly", "2026-03", date(2026, 3, 31)),
        ("sales_feedback_quarterly", "2026-Q1", date(2026, 3, 31)),
    ]
    visits = [(r.code, r.opens, r.due) for r in reminders_between(date(2026, 4, 30), date(2026, 4, 30))]
    assert ("return_visit", date(2026, 4, 26), date(2026, 4, 30)) in visits
