"""When forms are due and summaries are owed (篇七 §二): plain date rules, calendar days as the regulation says.

- 销售信息反馈表: per week, month and quarter, handed in by the period's last day; the market department
  summarises within one week (一周内) and reports to the deputy general manager in charge.
- 顾客意见征询表: once a quarter, handed in one week before quarter end (季度末前一星期); summary
  (顾客意见处理报告) within one week.
- 客户回访征询表: once a quarter, done within the last 5 days of January, April, July and October
  (一月、四月、七月、十月的月末5日内); summary within one week after the window.

``adjust`` (optional, e.g. a working-day calendar's "previous working day") moves each due date; the default
keeps the regulation's calendar dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from zhidu.market.periods import Period, PeriodKind, period_containing

ONE_WEEK = timedelta(days=7)
RETURN_VISIT_MONTHS = (1, 4, 7, 10)
RETURN_VISIT_DAYS = 5

Adjust = Callable[[date], date]


@dataclass(frozen=True)
class Reminder:
    """One obligation: ``code`` names it, ``title`` says it in Chinese, ``opens`` … ``due`` is the window."""

    code: str
    title: str
    period_label: str
    opens: date
    due: date


def _same(day: date) -> date:
    return day


def summary_due(received: date, adjust: Adjust = _same) -> date:
    """The market department's summary (分析汇总) is owed one week after the forms are in."""
    return adjust(received + ONE_WEEK)


def sales_feedback_due(period: Period, adjust: Adjust = _same) -> date:
    """销售信息反馈表 for a week, month or quarter: by the period's last day."""
    return adjust(period.end)


def customer_opinion_due(quarter: Period, adjust: Adjust = _same) -> date:
    """顾客意见征询表: one week before the quarter's last day (Q1 → March 24)."""
    if quarter.kind != "quarterly":
        raise ValueError("customer opinion surveys are quarterly")
    return adjust(quarter.end - ONE_WEEK)


def return_visit_window(year: int, quarter: int) -> tuple[date, date]:
    """客户回访: the last 5 days of the quarter's first month (Jan 27–31, Apr 26–30, Jul 27–31, Oct 27–31)."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1–4, not {quarter}")
    month = RETURN_VISIT_MONTHS[quarter - 1]
    month_end = period_containing("monthly", date(year, month, 1)).end
    return month_end - timedelta(days=RETURN_VISIT_DAYS - 1), month_end


def reminders_between(first: date, last: date, adjust: Adjust = _same) -> list[Reminder]:
    """Every obligation whose due date falls in ``first`` … ``last`` (inclusive), sorted by due date."""
    found: list[Reminder] = []
    titles: dict[PeriodKind, str] = {"weekly": "周", "monthly": "月", "quarterly": "季度"}
    for kind in ("weekly", "monthly", "quarterly"):
        period = period_containing(kind, first - ONE_WEEK - ONE_WEEK)
        while period.start <= last + ONE_WEEK + ONE_WEEK:
            due = sales_feedback_due(period, adjust)
            found.append(
                Reminder(f"sales_feedback_{kind}", f"销售信息反馈表（{titles[kind]}）", period.label, period.start, due)
            )
            found.append(
                Reminder(
                    f"sales_feedback_summary_{kind}",
                    f"销售信息分析汇总（{titles[kind]}），上报主管副总经理",
                    period.label,
                    period.end,
                    summary_due(period.end, adjust),
                )
            )
            if kind == "quarterly":
                opinion_due = customer_opinion_due(period, adjust)
                found.append(
                    Reminder("customer_opinion", "顾客意见征询表", period.label, period.start, opinion_due)
                )
                found.append(
                    Reminder(
                        "customer_opinion_summary", "顾客意见处理报告", period.label, opinion_due,
                        summary_due(opinion_due, adjust),
                    )
                )
                quarter = (period.start.month - 1) // 3 + 1
                opens, closes = return_visit_window(period.start.year, quarter)
                found.append(Reminder("return_visit", "客户回访征询表", period.label, opens, adjust(closes)))
                found.append(
                    Reminder(
                        "return_visit_summary", "客户回访分析汇总（客户意见处理报告）", period.label, closes,
                        summary_due(closes, adjust),
                    )
                )
            period = period_containing(kind, period.end + timedelta(days=1))
    return sorted((r for r in found if first <= r.due <= last), key=lambda r: (r.due, r.code, r.period_label))
