"""The review step's deadline and people, and the form reminders through a real SMTP sink (篇四 §15, 篇七 §二)."""

from __future__ import annotations

from datetime import UTC, datetime

from models.market import MarketReportRecord, ReportKind, Secrecy
from tasks.market import send_reminders
from tests.conftest import Zhidu
from zhidu.market.periods import period_for
from zhidu.market.review import distribution_list, review_deadline, review_spec


def test_review_deadline_is_one_week_after_the_period_or_two_workdays_when_late() -> None:
    week = period_for("weekly", "2026-W48")  # ends Sunday 2026-11-29; +7 = Sunday 12-06 → Monday 12-07, 24:00
    on_time = review_deadline(period_end=week.end, now=datetime(2026, 11, 30, 0, 5, tzinfo=UTC))
    assert on_time == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    late = review_deadline(period_end=week.end, now=datetime(2026, 12, 17, 2, 0, tzinfo=UTC))  # Thursday
    assert late == datetime(2026, 12, 21, 16, 0, tzinfo=UTC)  # two working days: Friday, Monday (24:00)


def test_review_step_goes_to_the_deputy_gm_and_escalates_to_the_gm(zhidu: Zhidu) -> None:
    week = period_for("weekly", "2026-W48")
    record = MarketReportRecord(id="r1", kind=ReportKind.weekly, label=week.label, title="市场信息周报 2026-W48",
                                period_start=week.start, period_end=week.end)
    spec = review_spec(record, None, now=datetime(2026, 11, 30, 0, 5, tzinfo=UTC))
    assert [(a.name, a.email) for a in spec.approvers] == [("冯建军", "dgm.market@hb-oil.example.com")]
    assert [a.name for a in spec.escalation[0].approvers] == ["郑国华"]
    assert (spec.case_id, spec.instructions_label, spec.remind_before_hours) == ("市场信息周报 2026-W48", "批示", 24)
    assert spec.details["报告全文"].startswith("http://testserver/market/reports/r1?t=")


def test_distribution_list_respects_the_secrecy_level(zhidu: Zhidu) -> None:
    internal = MarketReportRecord(kind=ReportKind.weekly, label="x", secrecy=Secrecy.internal)
    secret = MarketReportRecord(kind=ReportKind.weekly, label="y", secrecy=Secrecy.secret)
    assert sorted(p.id for p in distribution_list(internal)) == [
        "mk-analyst", "mk-fin-head", "mk-head", "mk-hn-head", "mk-hz-head", "mk-info", "mk-logi-head"]
    assert sorted(p.id for p in distribution_list(secret)) == ["mk-head", "mk-info"]


def test_form_reminders_are_sent_once_to_whoever_owes_them(zhidu: Zhidu) -> None:
    # 2026-01-29 … 2026-02-01: return visits (Jan 27–31), January's and week 5's sales feedback, week 4's summary
    due = send_reminders.fn("2026-01-29", 3)
    subjects = sorted((m.recipients[0], m.subject) for m in zhidu.inbox.list())
    assert len(subjects) == due
    for who in ("hz.sales@hb-oil.example.com", "hn.sales@hb-oil.example.com"):
        assert (who, "提醒：客户回访征询表（2026-Q1）请于2026-01-31前完成") in subjects
        assert (who, "提醒：销售信息反馈表（月）（2026-01）请于2026-01-31前完成") in subjects
        assert (who, "提醒：销售信息反馈表（周）（2026-W05）请于2026-02-01前完成") in subjects
    assert ("market.head@hb-oil.example.com",
            "提醒：销售信息分析汇总（周），上报主管副总经理（2026-W04）请于2026-02-01前完成") in subjects
    assert send_reminders.fn("2026-01-29", 3) == due  # run again (a retry, a second schedule): nothing new sent
    assert len(zhidu.inbox.list()) == due


def test_an_immediate_report_is_due_the_next_working_day(zhidu: Zhidu) -> None:
    record = MarketReportRecord(id="r2", kind=ReportKind.immediate, label="x", title="华北乙能源95#汽油现货价价格异动")
    spec = review_spec(record, None, now=datetime(2026, 12, 4, 2, 0, tzinfo=UTC))  # Friday 10:00 Shanghai
    assert spec.deadline == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # Monday 24:00
    assert "期间" not in spec.details
