"""Prefect tasks of the market reports (篇四 §14–§16, 篇七 §二): each one step or one side effect."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from pydantic import BaseModel
from sqlmodel import Session

from models.market import MarketReportRecord, ReportKind, ReportStatus
from zhidu.approvals.schemas import ApprovalSpec, Decision
from zhidu.db import session_scope, utcnow
from zhidu.directory import load_directory
from zhidu.mail import send_email
from zhidu.market.access import PROCESS, reader_url
from zhidu.market.periods import period_for, previous_period
from zhidu.market.prepared import load_prepared, save_prepared
from zhidu.market.queries import compute_report
from zhidu.market.records import advance, claim_report
from zhidu.market.reminders import reminders_between
from zhidu.market.render import Instruction, MarketEmail, immediate_email, reminder_email, report_email
from zhidu.market.review import ReviewSummary, distribution_list, return_list, review_spec
from zhidu.templating import local_dt


def reminder_role(code: str) -> str:
    """Forms are handed in by the sales staff (营销人员); summaries are the market department head's."""
    return "market_head" if "summary" in code else "sales_reporter"


class Claimed(BaseModel):
    report_id: str
    status: ReportStatus


def artifact_key(record: MarketReportRecord) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) for a report."""
    return f"market-{record.kind}-{record.id[:12]}"


def _record(session: Session, report_id: str) -> MarketReportRecord:
    record = session.get(MarketReportRecord, report_id)
    if record is None:
        raise KeyError(f"no market report {report_id!r}")
    return record


def scheduled_time() -> datetime:
    """When this flow run was first scheduled (fixed for the run, also after a resume), else now."""
    when = flow_run.scheduled_start_time
    return when if isinstance(when, datetime) and when.tzinfo is not None else utcnow()


@task(task_run_name="确定期间-{kind}", persist_result=True)
def resolve_period(kind: str, period: str) -> str:
    """The period label: the one given, else the last complete local period before the run's scheduled time
    (a run at 00:05 Monday Shanghai, or one started late, reports the week its schedule meant)."""
    if period:
        return period_for(kind, period).label  # type: ignore[arg-type]
    return previous_period(kind, scheduled_time()).label  # type: ignore[arg-type]


@task(task_run_name="登记报告-{kind}-{label}", persist_result=True)
def claim(kind: str, label: str) -> Claimed:
    """Find or create the one report record of this type and period (exactly once per type and period)."""
    with session_scope() as session:
        record, _ = claim_report(session=session, kind=kind, label=label, period=period_for(kind, label))  # type: ignore[arg-type]
        return Claimed(report_id=record.id, status=record.status)


@task(task_run_name="生成报告-{label}", persist_result=True)
def prepare_report(report_id: str, label: str) -> ReviewSummary:
    """Compute the report, keep its mail (charts, xlsx) for the distribution, publish markdown and table artifacts."""
    with session_scope() as session:
        record = _record(session, report_id)
        report = compute_report(session=session, period=period_for(record.kind, label))  # type: ignore[arg-type]
        key = artifact_key(record)
    save_prepared(report_id, report_email(report))
    markdown = report.to_markdown()
    create_markdown_artifact(markdown=markdown, key=key, description=report.title)
    create_table_artifact(table=report.to_table_rows(), key=f"{key}-table", description=f"{report.title} 明细")
    with session_scope() as session:
        _record(session, report_id).body_md = markdown
    return ReviewSummary(entry_count=report.entry_count, unfavourable=[e.text for e in report.unfavourable[:3]],
                         favourable=[e.text for e in report.favourable[:3]])


@task(task_run_name="审阅步骤-{report_id}", persist_result=True)
def build_review(report_id: str, summary: ReviewSummary | None) -> ApprovalSpec:
    """The review step of this report, fixed once (a resumed run gets the same deadline)."""
    with session_scope() as session:
        return review_spec(_record(session, report_id), summary, now=utcnow())


@task(task_run_name="即时报告-{report_id}", persist_result=True)
def publish_immediate(report_id: str) -> str:
    """Show the immediate report in the Prefect UI; its title."""
    with session_scope() as session:
        record = _record(session, report_id)
        markdown = f"# {record.title}\n\n- 上报人：{record.filed_by or ''}\n\n{record.body_md}"
        create_markdown_artifact(markdown=markdown, key=artifact_key(record), description=record.title)
        return record.title


@task(task_run_name="报送审阅-{report_id}", persist_result=True)
def submit(report_id: str) -> bool:
    """Move the report draft → in review; True only for the one run that made the move (it owns the review)."""
    with session_scope() as session:
        return advance(session=session, report_id=report_id, to=ReportStatus.in_review)


def _instruction(decision: Decision) -> Instruction:
    text = decision.comment or ("（逾期未批示，按原报告下发）" if not decision.approved else "阅。")
    return Instruction(text, decision.decided_by_name or decision.decided_by or "—", local_dt(decision.decided_at))


def _mail_for(record: MarketReportRecord, instruction: Instruction, person_id: str) -> MarketEmail:
    url = reader_url(person_id, record.id)
    if record.kind == ReportKind.immediate:
        return immediate_email(record, instruction=instruction, archive_url=url)
    mail = load_prepared(record.id)
    context = mail.context | {"instruction": instruction.text, "instructed_by": instruction.by,
                              "instructed_at": instruction.at, "archive_url": url}
    return MarketEmail(f"【批示下发】{mail.subject}", mail.template, context, mail.attachments, mail.inline_images)


@task(task_run_name="下发-{report_id}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def distribute(report_id: str, decision: Decision) -> int:
    """Send the report with the instruction on top to each recipient once, then mark it distributed."""
    instruction = _instruction(decision)
    with session_scope() as session:
        record = _record(session, report_id)
        people = distribution_list(record)
        for person in people:
            mail = _mail_for(record, instruction, person.id)
            send_email(to=[person.email], subject=mail.subject, template=mail.template,
                       context=mail.context, attachments=mail.attachments,
                       inline_images={c.cid: c.content for c in mail.inline_images},
                       idempotency_key=f"market:report:{report_id}:distribute:{person.email}", session=session)
        advance(session=session, report_id=report_id, to=ReportStatus.distributed,
                approver=decision.decided_by_name or decision.decided_by, instruction=instruction.text)
    get_run_logger().info("report %s distributed to %d people", report_id, len(people))
    return len(people)


@task(task_run_name="退回-{report_id}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def send_back(report_id: str, decision: Decision) -> int:
    """The reviewer sent the report back: tell the market department why (it is not distributed)."""
    with session_scope() as session:
        record = _record(session, report_id)
        people = return_list()
        for person in people:
            send_email(to=[person.email], subject=f"【退回】{record.title}", template="market_returned",
                       context={"name": person.name, "title": record.title, "comment": decision.comment or "（无）",
                                "by": decision.decided_by_name or decision.decided_by,
                                "at": local_dt(decision.decided_at)},
                       idempotency_key=f"market:report:{report_id}:returned:{person.email}", session=session)
    return len(people)


@task(task_run_name="表单提醒-{day}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def send_reminders(day: str, days_ahead: int) -> int:
    """Remind whoever owes a form or a summary due within ``days_ahead`` days; once per obligation and person."""
    from datetime import date, timedelta

    first = date.fromisoformat(day)
    directory = load_directory(PROCESS)
    due = 0
    with session_scope() as session:
        for reminder in reminders_between(first, first + timedelta(days=days_ahead)):
            for person in directory.by_role(reminder_role(reminder.code)):
                mail = reminder_email(reminder, name=person.name)
                send_email(to=[person.email], subject=mail.subject, template=mail.template, context=mail.context,
                           idempotency_key=f"market:reminder:{reminder.code}:{reminder.period_label}:{person.email}",
                           session=session)
                due += 1
    return due


@task(task_run_name="启动待审即时报告", retries=2, retry_delay_seconds=[10, 60])
def start_pending_immediate(grace_minutes: int = 10) -> int:
    """Start the review of immediate reports filed more than ``grace_minutes`` ago and still in draft."""
    from datetime import timedelta

    from zhidu.market.records import pending_immediate
    from zhidu.market.runs import start_immediate_run

    with session_scope() as session:
        pending = [(r.id, r.title) for r in pending_immediate(
            session=session, filed_before=utcnow() - timedelta(minutes=grace_minutes))]
    for report_id, title in pending:
        start_immediate_run(report_id, title, "catch-up")
    return len(pending)
