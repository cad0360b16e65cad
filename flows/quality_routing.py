"""Quality-information routing by class (质量信息分级处理, 篇五 §4–§10).

A: the top leader decides (§8.1), QA transmits the 信息反馈单 and every executing department confirms.
B: the competent department decides (§8.2), QA transmits and follows up.
C: the department decides and handles it, then reports the result to QA (§8.3).
Abnormal or sudden major items first get QA's written feedback within 24 hours (§9), escalated when missed.
"""

from __future__ import annotations

from prefect import flow

from models.quality import QClass
from tasks.approvals import await_approval
from tasks.quality import (
    close_item,
    load_item,
    mark_feedback_sent,
    record_decision,
    record_execution,
    report_to_qa,
    send_feedback_form,
)
from zhidu.quality.classify import decision_table
from zhidu.quality.routing import decision_step, execution_step, feedback_step
from zhidu.workdays import get_calendar


@flow(name="quality-routing", flow_run_name="质量信息-{number}", log_prints=True)
def quality_routing(number: str) -> str:
    """Carry one registered quality item from classification to closure."""
    item = load_item(number)
    if item.feedback_due is not None:
        written = await_approval(feedback_step(item))
        if written.approved:
            send_feedback_form(number, "24小时书面反馈", str(written.fields.get("feedback", "")))
            mark_feedback_sent(number, written.decided_at)
    decision = await_approval(decision_step(item))
    record_decision(number, decision)
    if not decision.approved:
        return close_item(number)
    if item.qclass in (QClass.A, QClass.B):
        send_feedback_form(number, "决策传递", decision.comment)
    due = get_calendar().workday_deadline(decision.decided_at, decision_table().sla.execution_workdays)
    item.decision = decision.comment
    execution = await_approval(execution_step(item, due))
    record_execution(number, execution)
    if item.qclass == QClass.C:
        report_to_qa(number, execution)
    return close_item(number)
