"""Prefect tasks of quality-information routing (篇五): each one step or one side effect."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from sqlmodel import select

from models.quality import ItemStatus, QClass, QualityExecution, QualityItem
from zhidu.approvals.schemas import Decision
from zhidu.db import session_scope, utcnow
from zhidu.directory import load_directory
from zhidu.mail import send_email
from zhidu.quality.routing import CLASS_TEXT, feedback_recipients


def _item(session: object, number: str) -> QualityItem:
    return session.exec(select(QualityItem).where(QualityItem.number == number)).one()  # type: ignore[attr-defined]


@task(task_run_name="载入-{number}", persist_result=True)
def load_item(number: str) -> QualityItem:
    """Read the item from the register and note which flow run carries it."""
    with session_scope() as session:
        item = _item(session, number)
        ctx = FlowRunContext.get()
        if ctx and ctx.flow_run and item.flow_run_id is None:
            item.flow_run_id = str(ctx.flow_run.id)
            session.add(item)
        session.flush()
        return QualityItem.model_validate(item.model_dump())


@task(task_run_name="信息反馈单-{number}-{purpose}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def send_feedback_form(number: str, purpose: str, text: str) -> int:
    """Mail the 信息反馈单 (feedback form) to the leader and every department concerned; once per person."""
    with session_scope() as session:
        item = _item(session, number)
        people = feedback_recipients(item)
        for person in people:
            send_email(
                to=[person.email], subject=f"【质量信息反馈单】{item.number} {item.title}",
                template="quality_feedback_form",
                context={"item": item, "class_text": CLASS_TEXT[item.qclass], "purpose": purpose, "text": text,
                         "recipient": person.name, "now": utcnow()},
                idempotency_key=f"quality:{number}:form:{purpose}:{person.email}", session=session,
            )
    return len(people)


@task(task_run_name="书面反馈已发-{number}", persist_result=True)
def mark_feedback_sent(number: str, at: datetime) -> None:
    """Record when the 24-hour written feedback went out."""
    with session_scope() as session:
        item = _item(session, number)
        item.feedback_sent_at = item.feedback_sent_at or at
        session.add(item)


@task(task_run_name="记录决策-{number}", persist_result=True)
def record_decision(number: str, decision: Decision) -> None:
    """Write the decision into the register."""
    with session_scope() as session:
        item = _item(session, number)
        item.decision = decision.comment or ("同意处理" if decision.approved else "不予处理")
        item.decided_by, item.decided_at = decision.decided_by_name or decision.decided_by, decision.decided_at
        item.status = ItemStatus.executing if decision.approved else ItemStatus.rejected
        session.add(item)


@task(task_run_name="记录执行-{number}", persist_result=True)
def record_execution(number: str, decision: Decision) -> None:
    """Keep each executing department's confirmation (or the C-class result report)."""
    with session_scope() as session:
        item = _item(session, number)
        assert item.id is not None
        directory = load_directory("quality")
        dept_of = {p.email: p.department for p in directory.people}
        for vote in decision.votes:
            result = str(vote.fields.get("result", "")) or vote.comment
            session.add(QualityExecution(item_id=item.id, department=dept_of.get(vote.approver, vote.name),
                                         confirmed_by=vote.approver, result=result, confirmed_at=vote.at))


@task(task_run_name="C类结果报质量管理部-{number}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def report_to_qa(number: str, decision: Decision) -> str:
    """C class: the department reports its handling result to QA (§8.3)."""
    qa = load_directory("quality").by_role("qa_manager")[0]
    with session_scope() as session:
        item = _item(session, number)
        return send_email(
            to=[qa.email], subject=f"【处理结果报告】{item.number} {item.title}", template="quality_result_report",
            context={"item": item, "decision": decision, "recipient": qa.name},
            idempotency_key=f"quality:{number}:result-report", session=session,
        )


@task(task_run_name="办结-{number}", persist_result=True)
def close_item(number: str) -> str:
    """Close the item and leave a summary artifact in the Prefect UI."""
    with session_scope() as session:
        item = _item(session, number)
        if item.status != ItemStatus.rejected:
            item.status = ItemStatus.closed
        item.closed_at = item.closed_at or utcnow()
        session.add(item)
        session.flush()
        overdue = item.decided_at is not None and item.decided_at > item.decision_due
        md = "\n".join([
            f"# 质量信息 {item.number} 已办结", "", f"- 标题：{item.title}",
            f"- 分级：{CLASS_TEXT[QClass(item.qclass)]}",
            f"- 状态：{'已办结' if item.status == ItemStatus.closed else '不予处理'}",
            f"- 决策：{item.decision or ''}（{item.decided_by or ''}）", f"- 决策逾期：{'是' if overdue else '否'}",
        ])
    create_markdown_artifact(markdown=md, key=f"quality-{number.lower()}", description=f"质量信息 {number} 办结")
    return item.status.value
