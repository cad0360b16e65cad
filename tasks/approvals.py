"""The approval step inside a flow: open the request, mail the links, wait (suspended), take the decision."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from pydantic import BaseModel

from models.approval import Outcome
from zhidu.approvals.delivery import mark_taken, pause_key
from zhidu.approvals.notify import send_approval_mail
from zhidu.approvals.schemas import ApprovalSpec, Decision
from zhidu.approvals.service import decision_from_db, links_of, open_request
from zhidu.db import session_scope, utcnow
from zhidu.masking import mask_text

OUTCOME_TEXT = {
    Outcome.approve: "同意",
    Outcome.reject: "不同意",
    Outcome.escalated: "超时升级",
    Outcome.expired: "逾期未决",
}


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(value: object) -> str:
    """Text typed by people, safe inside one markdown list item: masked, HTML-escaped, markdown characters
    backslash-escaped, and on one line (a comment cannot add lines that look like the decision)."""
    text = html.escape(mask_text(str(value)), quote=False)
    return " ⏎ ".join(_MARKDOWN.sub(r"\\\1", line).strip() for line in text.splitlines() if line.strip())


class OpenedStep(BaseModel):
    request_id: str
    timeout_seconds: int
    decided: Decision | None = None


def _current_run_id() -> str | None:
    ctx = FlowRunContext.get()
    return str(ctx.flow_run.id) if ctx and ctx.flow_run else None


@task(task_run_name="审批-开启-{spec.step}-L{level}", persist_result=True)
def open_approval(spec: ApprovalSpec, level: int) -> OpenedStep:
    """Create (or find) the approval request of this step and level, with one link per approver."""
    now = utcnow()
    with session_scope() as session:
        request = open_request(session=session, spec=spec, level=level, flow_run_id=_current_run_id(), now=now)
        decided = decision_from_db(session=session, request_id=request.id)
        timeout = request.expires_at - now + timedelta(days=1)
    return OpenedStep(request_id=request.id, timeout_seconds=max(int(timeout.total_seconds()), 3600), decided=decided)


@task(task_run_name="审批-发信-{request_id}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def mail_approvers(request_id: str) -> int:
    """Mail each approver their link (one refused address does not keep the others from theirs); a resend after a
    retry or a resume sends nothing twice."""
    from models.approval import ApprovalRequest

    errors: list[str] = []
    with session_scope() as session:
        request = session.get(ApprovalRequest, request_id)
        assert request is not None
        links = links_of(session=session, request_id=request_id)
        for link in links:
            try:
                send_approval_mail(session=session, request=request, link=link, kind="request")
            except Exception as exc:  # noqa: BLE001 — tried for every approver, then raised for the retry
                session.rollback()
                errors.append(f"{link.approver_email}: {type(exc).__name__}: {exc}")
    if errors:
        raise RuntimeError(f"approval mail not sent to {len(errors)} of {len(links)} approvers: {'; '.join(errors)}")
    return len(links)


@task(task_run_name="审批-结果-{decision.request_id}", persist_result=True)
def take_decision(spec: ApprovalSpec, decision: Decision) -> Decision:
    """Mark the decision as taken by the flow and show it in the Prefect UI."""
    with session_scope() as session:
        mark_taken(session=session, request_id=decision.request_id, now=utcnow())
    who = decision.decided_by_name or decision.decided_by
    lines = [f"# {md_text(spec.title)}", "", f"- 案件：{md_text(spec.case_id)}",
             f"- 环节：{md_text(spec.step)}（第 {decision.level} 级）",
             f"- 决定：**{OUTCOME_TEXT[decision.outcome]}**", f"- 决定人：{md_text(who)}",
             f"- 时间：{md_text(decision.decided_at.isoformat())}"]
    if decision.comment:
        lines.append(f"- 意见：{md_text(decision.comment)}")
    labels = {f.name: f.label for f in spec.fields}
    lines += [f"- {md_text(labels.get(k, k))}：{md_text(v)}" for k, v in decision.fields.items()]
    create_markdown_artifact(markdown="\n".join(lines), key=pause_key(decision.request_id),
                             description=f"{spec.process} {spec.case_id} {spec.step}")
    get_run_logger().info("approval %s: %s by %s", decision.request_id, decision.outcome.value, decision.decided_by)
    return decision


def await_approval(spec: ApprovalSpec) -> Decision:
    """Run one approval step to its end: through escalation levels, until someone decides or it expires.

    The flow suspends (no process held) while it waits; on resume Prefect runs the flow again from the top,
    and every task above is idempotent by a database key, so nothing is written or mailed twice.
    """
    level = 0
    while True:
        opened = open_approval(spec, level)
        if opened.decided is None:
            mail_approvers(opened.request_id)
            decision = suspend_flow_run(
                wait_for_input=Decision, key=pause_key(opened.request_id), timeout=opened.timeout_seconds
            )
        else:
            decision = opened.decided
        decision = take_decision(spec, decision)
        if decision.outcome == Outcome.escalated and level < len(spec.escalation):
            level += 1
            continue
        return decision
