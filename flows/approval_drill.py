"""Approval drill (审批演练): one approval step end to end — mail, click, resume — for operators checking a
deployment and for the load tests and latency benchmarks of the production footing (docs/deploy.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow, task

from tasks.approvals import OUTCOME_TEXT, await_approval
from zhidu.approvals.schemas import ApprovalSpec, Approver, Decision
from zhidu.db import session_scope, utcnow
from zhidu.mail import send_email


@task(task_run_name="演练期限-{case_id}", persist_result=True)
def drill_deadline(case_id: str, within_hours: float) -> datetime:
    """The step's deadline, fixed at the first run (a resumed run reads the stored one)."""
    return utcnow() + timedelta(hours=within_hours)


@task(task_run_name="演练结果-{case_id}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def mail_result(case_id: str, approver: Approver, decision: Decision) -> str:
    """Tell the approver the drill's flow received their decision (once)."""
    context = {"case_id": case_id, "name": approver.name, "outcome": OUTCOME_TEXT[decision.outcome],
               "decided_at": decision.decided_at}
    with session_scope() as session:
        send_email(to=[approver.email], subject=f"【审批演练】{case_id} 已收到您的决定",
                   template="approval_drill_result", context=context,
                   idempotency_key=f"drill:{case_id}:result", session=session)
    return decision.outcome.value


@flow(name="approval-drill", flow_run_name="审批演练-{case_id}")
def approval_drill(case_id: str, approver_email: str, approver_name: str = "演练审批人",
                   within_hours: float = 24.0) -> str:
    """Open one approval step for ``approver_email``, wait for the click, confirm by mail; the outcome."""
    approver = Approver(email=approver_email, name=approver_name)
    spec = ApprovalSpec(process="drill", case_id=case_id, step="drill", title=f"审批演练 {case_id}",
                        details={"说明": "这是一次审批链路演练，请点击链接并提交任一决定。"},
                        approvers=[approver], deadline=drill_deadline(case_id, within_hours))
    return mail_result(case_id, approver, await_approval(spec))
