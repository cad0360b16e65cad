"""Investigation deadlines (§7, §13): 3 working days, and before the 犹豫期回访; National Day 2025."""

from datetime import UTC, date, datetime

from zhidu.customers.deadlines import cooling_off_end, investigation_deadline


def utc(y: int, m: int, d: int, h: int = 16) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)  # 16:00 UTC = 24:00 Asia/Shanghai


def test_three_working_days_across_national_day_end_on_the_make_up_saturday() -> None:
    # 10-01..10-08 holidays; 10-09, 10-10, then Saturday 10-11 is a make-up working day.
    assert investigation_deadline(date(2025, 9, 30), None, "L101") == utc(2025, 10, 11)


def test_make_up_sunday_before_national_day_counts() -> None:
    # Sunday 2025-09-28 is a working day: Fri 09-26 + 3 = 09-28, 09-29, 09-30.
    assert investigation_deadline(date(2025, 9, 26), None, "L101") == utc(2025, 9, 30)


def test_cooling_off_end_comes_first() -> None:
    # Receipt 09-20: day 15 is 10-05 (holiday) → the period ends at 24:00 on 10-09; the return visit needs 2 days.
    assert cooling_off_end(date(2025, 9, 20), "L101") == utc(2025, 10, 9)
    assert investigation_deadline(date(2025, 9, 30), date(2025, 9, 20), "L101") == utc(2025, 10, 7)


def test_working_days_come_first_when_the_receipt_is_recent() -> None:
    # Monday 11-03 + 3 = Thursday 11-06; the 犹豫期 of a receipt of 11-01 lasts until 11-17 (11-16 is a Sunday).
    assert cooling_off_end(date(2025, 11, 1), "L101") == utc(2025, 11, 17)
    assert investigation_deadline(date(2025, 11, 3), date(2025, 11, 1), "L101") == utc(2025, 11, 6)


def test_per_product_cooling_off_and_return_visit_days() -> None:
    # L104: 20 days, return visit needs 3 → receipt 10-20: day 20 = 11-09 (Sunday) → 11-10, minus 3 days.
    assert investigation_deadline(date(2025, 11, 5), date(2025, 10, 20), "L104") == utc(2025, 11, 7)
    # A302 has no 犹豫期: only the working days count.
    assert investigation_deadline(date(2025, 11, 5), date(2025, 10, 1), "A302") == utc(2025, 11, 10)
    # an unknown product gets the defaults (15 days, 2 for the visit): day 15 = 10-16 → 10-14.
    assert investigation_deadline(date(2025, 10, 13), date(2025, 10, 1), "ZZ99") == utc(2025, 10, 14)
