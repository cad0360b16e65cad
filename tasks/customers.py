"""Prefect tasks of the suspicious-customer review (篇九): each one step or one side effect."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from sqlmodel import select

from models.customers import CaseMember, Party, Policy, SuspiciousCase
from zhidu.approvals.schemas import Decision
from zhidu.customers import outcomes
from zhidu.customers.display import STATUS_LABEL
from zhidu.customers.review import RESULT_STATUS, CaseView, case_view
from zhidu.db import session_scope
from zhidu.masking import mask_text


@task(task_run_name="载入案件-{case_id}", persist_result=True)
def load_case(case_id: int) -> CaseView:
    """Read the case (masked) and note which flow run investigates it."""
    with session_scope() as session:
        case = session.get(SuspiciousCase, case_id)
        ctx = FlowRunContext.get()
        if case is not None and ctx and ctx.flow_run and case.flow_run_id is None:
            case.flow_run_id = str(ctx.flow_run.id)
            session.add(case)
            session.flush()
        return case_view(session=session, case_id=case_id)


def _member_party(session: object, case_id: int, policy_no: str) -> int:
    query = (select(Party.id, Party.role).join(CaseMember, CaseMember.party_id == Party.id)  # type: ignore[arg-type]
             .join(Policy, Policy.id == Party.policy_id)  # type: ignore[arg-type]
             .where(CaseMember.case_id == case_id, Policy.policy_no == policy_no))
    rows = sorted(session.exec(query).all(), key=lambda r: r[1] != "holder")  # type: ignore[attr-defined]
    return int(rows[0][0])


@task(task_run_name="记录排查结果-{case_id}-第{attempt}次", persist_result=True)
def apply_result(case_id: int, attempt: int, decision: Decision) -> str:
    """Apply the investigation's result (§13): clear, correct (with audit of old and new) or confirm false."""
    f, by = decision.fields, decision.decided_by_name or decision.decided_by
    evidence, result = str(f.get("evidence", "")).strip(), str(f["result"])
    with session_scope() as session:
        if RESULT_STATUS[result].value == "cleared":
            outcomes.record_cleared(session=session, case_id=case_id, by=by, evidence=evidence, at=decision.decided_at)
        elif RESULT_STATUS[result].value == "corrected":
            party = _member_party(session, case_id, str(f["policy_no"]))
            outcomes.apply_correction(session=session, case_id=case_id, party_id=party, by=by,
                                      confirmation=str(f["confirmation"]).strip(), at=decision.decided_at,
                                      phone=str(f.get("new_phone") or "").strip() or None,
                                      bank_account=str(f.get("new_account") or "").strip() or None)
        else:
            outcomes.record_confirmed_false(session=session, case_id=case_id, by=by, note=evidence,
                                            at=decision.decided_at)
    get_run_logger().info("case %s: %s by %s", case_id, RESULT_STATUS[result].value, by)
    return result


@task(task_run_name="退回重查-{case_id}-第{attempt}次", persist_result=True)
def reopen_case(case_id: int, attempt: int, decision: Decision, reason: str) -> None:
    """Compliance sent the result back, or the answer was incomplete: the case is open again."""
    with session_scope() as session:
        outcomes.reopen_case(session=session, case_id=case_id, by=decision.decided_by_name or decision.decided_by,
                             note=reason, at=decision.decided_at)


@task(task_run_name="合规复核通过-{case_id}", persist_result=True)
def mark_checked(case_id: int, decision: Decision) -> None:
    """Record compliance's confirmation of the result."""
    with session_scope() as session:
        outcomes.mark_checked(session=session, case_id=case_id, at=decision.decided_at,
                              by=decision.decided_by_name or decision.decided_by)


@task(task_run_name="案件小结-{case_id}", persist_result=True)
def finish_case(case_id: int, remark: str) -> str:
    """Leave the case's summary (masked) in the Prefect UI; returns the case status."""
    with session_scope() as session:
        case = session.get(SuspiciousCase, case_id)
        assert case is not None
        view = case_view(session=session, case_id=case_id)
        lines = [f"# 可疑客户案件 {view.number}", "", f"- 可疑类型：{view.kind_label}（{view.value_masked}）",
                 f"- 涉及保单：{'、'.join(view.policy_nos)}", f"- 状态：{STATUS_LABEL[case.status.value]}",
                 f"- 排查人：{case.closed_by or '-'}", f"- 合规复核：{case.checked_by or '未复核'}",
                 f"- 说明：{mask_text(case.note or '')}", f"- 备注：{remark}"]
        status = case.status.value
    create_markdown_artifact(markdown="\n".join(lines), key=f"customers-case-{case_id}-r{view.round}",
                             description=f"可疑客户案件 {view.number}")
    return status


def local_today() -> date:
    from zhidu.db import utcnow
    from zhidu.workdays import get_calendar

    return get_calendar().local_date(utcnow())
