"""The review step (审阅批示, 篇七 §二.1) and the distribution list, as plain functions.

The deputy general manager in charge (主管副总经理) reads each report and gives an instruction (批示, the approval
comment); the report then goes back down to the departments with the instruction on top. The market
department's analysis is due one week after the period ends (一周内): that is the step's deadline, with a reminder
one day before and escalation to the general manager, who gets two working days. A report produced late (a
period caught up by hand) still gives the reviewer two working days; an immediate report, one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from models.market import (
    IMPORTANCE_LABELS,
    REPORT_KIND_LABELS,
    SECRECY_LABELS,
    MarketReportRecord,
    ReportKind,
)
from zhidu.approvals.schemas import ApprovalSpec, Approver, EscalationLevel
from zhidu.directory import Person, load_directory
from zhidu.market.access import PROCESS, reader_url
from zhidu.market.records import can_read, reader_for
from zhidu.workdays import get_calendar

STEP = "主管副总经理批示"
REVIEW_DAYS = 7  # 一周内
REMIND_BEFORE_HOURS = 24
ESCALATION_WORKDAYS = 2
LATE_MIN_WORKDAYS = 2
IMMEDIATE_WORKDAYS = 1  # an immediate report (即时上报) is read the next working day at the latest
DISTRIBUTION_ROLES = ("report_recipient", "market_head", "market_info")
RETURN_ROLES = ("market_head", "market_info")


@dataclass(frozen=True)
class ReviewSummary:
    """What the reviewer's mail says about the report (besides the link to read it in full)."""

    entry_count: int
    unfavourable: list[str]
    favourable: list[str]


def _approvers(role: str) -> list[Approver]:
    return [Approver(email=p.email, name=p.name) for p in load_directory(PROCESS).by_role(role)]


def review_deadline(*, period_end: date, now: datetime) -> datetime:
    """One week after the period's end (its last day a working day, 24:00 local), and never less than two working
    days from ``now``."""
    calendar = get_calendar()
    due = calendar.civil_deadline(period_end, REVIEW_DAYS)
    return max(due, calendar.workday_deadline(now, LATE_MIN_WORKDAYS))


def review_spec(record: MarketReportRecord, summary: ReviewSummary | None, *, now: datetime) -> ApprovalSpec:
    """The approval step for one report; the instruction is the comment."""
    reviewer = load_directory(PROCESS).by_role("deputy_gm_market")[0]
    details = {
        "报告": record.title,
        "类型": REPORT_KIND_LABELS[ReportKind(record.kind)],
        "重要程度": IMPORTANCE_LABELS[record.importance],
        "密级": SECRECY_LABELS[record.secrecy],
    }
    if record.period_start and record.period_end:
        details["期间"] = f"{record.period_start.isoformat()} 至 {record.period_end.isoformat()}"
    if summary is not None:
        details["本期信息"] = f"{summary.entry_count} 条"
        details["不利影响"] = "；".join(summary.unfavourable) or "无"
        details["有利影响"] = "；".join(summary.favourable) or "无"
    details["报告全文"] = reader_url(reviewer.id, record.id)
    if record.kind == ReportKind.immediate:
        deadline = get_calendar().workday_deadline(now, IMMEDIATE_WORKDAYS)
    else:
        deadline = review_deadline(period_end=record.period_end or get_calendar().local_date(now), now=now)
    return ApprovalSpec(
        process=PROCESS,
        case_id=f"{REPORT_KIND_LABELS[record.kind]} {record.label}",  # what people read as 案件编号
        step=STEP,
        title=f"{record.title} 请批示",
        details=details,
        approvers=[Approver(email=reviewer.email, name=reviewer.name)],
        deadline=deadline,
        remind_before_hours=REMIND_BEFORE_HOURS,
        escalation=[EscalationLevel(approvers=_approvers("general_manager"), within_workdays=ESCALATION_WORKDAYS)],
        choice_labels={"approve": "批示并下发", "reject": "退回市场部"},
        instructions_label="批示",
    )


def distribution_list(record: MarketReportRecord) -> list[Person]:
    """The departments' recipients (and the market department) cleared for the report's secrecy level."""
    directory = load_directory(PROCESS)
    people: dict[str, Person] = {}
    for role in DISTRIBUTION_ROLES:
        for person in directory.by_role(role):
            if can_read(reader_for(person).level, record.secrecy):
                people.setdefault(person.id, person)
    return list(people.values())


def return_list() -> list[Person]:
    """Who hears that a report was sent back (退回): the market department."""
    directory = load_directory(PROCESS)
    return list({p.id: p for role in RETURN_ROLES for p in directory.by_role(role)}.values())
