"""How the case flow moves a purchase: apply each emailed decision once, and see whether data entry is done.

Every decision the flow applies leaves a ``procurement_decision`` row whose ``fields`` carry the approval
``request_id``; applying the same decision again (a resumed flow runs from the top) finds that row and does
nothing. Data entry (CLI) closes the waiting to-do (待办) through the approval mechanism, so the flow wakes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.approval import ApprovalRequest, Outcome, RequestStatus
from models.procurement import Claim, ClaimStatus, Decision, PurchaseCase, ReturnRecord, Stage
from zhidu.approvals.delivery import PrefectResumer, ResumeOutcome, deliver_one
from zhidu.approvals.schemas import Decision as StepDecision
from zhidu.approvals.service import close_request, links_of, lock_pending
from zhidu.db import utcnow
from zhidu.directory import Directory
from zhidu.masking import mask_account
from zhidu.procurement.acceptance import apply_acceptance_decision, line_state, record_check
from zhidu.procurement.case import PROCESS, case_order, directory_or_default, order_line, record
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.reimbursement import apply_reimbursement_decision, record_payment
from zhidu.procurement.requests import apply_request_decision
from zhidu.procurement.steps import TODO_LABELS, case_by_number

LIVE = (ClaimStatus.pending, ClaimStatus.approved, ClaimStatus.paid)


def person_id(directory: Directory, email: str) -> str:
    """The directory id of the person with ``email`` (the approval mechanism knows people by email)."""
    return next((p.id for p in directory.people if str(p.email) == email), email or "system")


def _applied(session: Session, case_id: str, request_id: str) -> Decision | None:
    for row in session.exec(select(Decision).where(Decision.case_id == case_id)):
        if row.fields.get("request_id") == request_id:
            return row
    return None


def _outcome(decision: StepDecision) -> Outcome:
    """escalated can only come back from a step without a further level: nobody decided, like expired."""
    return Outcome.expired if decision.outcome is Outcome.escalated else decision.outcome


def _reason(decision: StepDecision) -> str:
    return str(decision.fields.get("reason", "")).strip() or decision.comment.strip()


def _fields(decision: StepDecision) -> dict[str, Any]:
    return {k: str(v) for k, v in decision.fields.items()} | {"request_id": decision.request_id}


def _mark(session: Session, case: PurchaseCase, subject: str, decision: StepDecision, by: str) -> None:
    session.add(Decision(case_id=case.id, subject=subject, outcome=_outcome(decision).value, approver=by,
                         comment=_reason(decision) or None, fields=_fields(decision),
                         decided_at=decision.decided_at))  # fmt: skip
    session.flush()


def apply_request(*, session: Session, number: str, version: int, decision: StepDecision,
                  config: ProcurementConfig | None = None, directory: Directory | None = None) -> bool:  # fmt: skip
    """申请审批: apply the decision on version ``version``; True when approved (→ order)."""
    case = case_by_number(session, number)
    done = _applied(session, case.id, decision.request_id)
    if done is not None:
        return done.outcome == Outcome.approve.value
    dir_ = directory_or_default(directory)
    outcome = _outcome(decision)
    comment = _reason(decision)
    if outcome is Outcome.approve and len(decision.votes) > 1:
        comment = "会签：" + "、".join(f"{v.name}同意" for v in decision.votes) + (f"；{comment}" if comment else "")
    apply_request_decision(session=session, case_id=case.id, outcome=outcome,
                           approver=person_id(dir_, decision.decided_by), decided_at=decision.decided_at,
                           comment=comment or None, fields=_fields(decision),
                           version=version, config=config)  # fmt: skip
    return outcome is Outcome.approve


def line_status(*, session: Session, number: str, line: int) -> str:
    """``unchecked`` (units to check), ``returned`` (waiting for a replacement) or ``done``."""
    case = case_by_number(session, number)
    state = line_state(session, order_line(session, case.id, line))
    return "unchecked" if state.unchecked else "returned" if state.open_returns else "done"


def _bad_count(raw: str, unchecked: int) -> tuple[int, str]:
    if not raw.strip():
        return unchecked, ""
    try:
        bad = int(raw.strip())
    except ValueError:
        bad = 0
    if 1 <= bad <= unchecked:
        return bad, ""
    return unchecked, f"（不合格数量「{raw}」无效，按全部 {unchecked} 件处理）"


def apply_check(*, session: Session, number: str, line: int, decision: StepDecision,
                directory: Directory | None = None) -> str:  # fmt: skip
    """验收 / 退换复验: the receiver's form for one line; returns the line's status afterwards."""
    case = case_by_number(session, number)
    if _applied(session, case.id, decision.request_id) is None:
        dir_ = directory_or_default(directory)
        by, outcome, reason = person_id(dir_, decision.decided_by), _outcome(decision), _reason(decision)
        item = order_line(session, case.id, line)
        state = line_state(session, item)
        at = decision.decided_at
        if outcome not in (Outcome.approve, Outcome.reject):
            record(session, case, actor="system", action="check_unanswered", at=at,
                   message=f"第{line}项验收超期无人办理，重新派发")  # fmt: skip
        elif state.unchecked:
            bad, note = (0, "") if outcome is Outcome.approve else _bad_count(
                str(decision.fields.get("nonconforming", "")), state.unchecked)
            if state.unchecked - bad:
                record_check(session=session, case_id=case.id, line=line, quantity=state.unchecked - bad,
                             conforming=True, by=by, at=at)  # fmt: skip
            if bad:
                record_check(session=session, case_id=case.id, line=line, quantity=bad, conforming=False,
                             reason=(reason or "未说明") + note, by=by, at=at)  # fmt: skip
        elif state.open_returns:
            returned = session.get(ReturnRecord, state.open_returns[0])
            assert returned is not None
            record_check(session=session, case_id=case.id, line=line, quantity=returned.quantity,
                         conforming=outcome is Outcome.approve, reason=reason or "未说明", replaces=returned.id,
                         by=by, at=at)  # fmt: skip
        _mark(session, case, "check", decision, by)
    return line_status(session=session, number=number, line=line)


def apply_signoff(*, session: Session, number: str, decision: StepDecision, config: ProcurementConfig | None = None,
                  directory: Directory | None = None) -> bool:  # fmt: skip
    """验收签认: True when the IT centre signed the acceptance record (→ registration)."""
    case = case_by_number(session, number)
    done = _applied(session, case.id, decision.request_id)
    if done is not None:
        return done.outcome == Outcome.approve.value
    dir_ = directory_or_default(directory)
    outcome = _outcome(decision)
    apply_acceptance_decision(session=session, case_id=case.id, outcome=outcome,
                              approver=person_id(dir_, decision.decided_by), decided_at=decision.decided_at,
                              comment=_reason(decision) or None, fields=_fields(decision), config=config)  # fmt: skip
    return outcome is Outcome.approve


def apply_finance(*, session: Session, number: str, decision: StepDecision,
                  directory: Directory | None = None) -> bool:  # fmt: skip
    """报销审批: True when finance approved the claim (→ payment); a rejection returns it to the claimant."""
    case = case_by_number(session, number)
    done = _applied(session, case.id, decision.request_id)
    if done is not None:
        return done.outcome == Outcome.approve.value
    dir_ = directory_or_default(directory)
    outcome = _outcome(decision)
    apply_reimbursement_decision(session=session, case_id=case.id, outcome=outcome,
                                 approver=person_id(dir_, decision.decided_by), decided_at=decision.decided_at,
                                 comment=_reason(decision) or None, fields=_fields(decision))  # fmt: skip
    return outcome is Outcome.approve


def apply_payment(*, session: Session, number: str, decision: StepDecision, config: ProcurementConfig | None = None,
                  directory: Directory | None = None) -> bool:  # fmt: skip
    """付款: True when finance paid (the case closes); the payee's account is kept masked in the history."""
    case = case_by_number(session, number)
    done = _applied(session, case.id, decision.request_id)
    if done is not None:
        return done.outcome == Outcome.approve.value
    dir_ = directory_or_default(directory)
    by, outcome = person_id(dir_, decision.decided_by), _outcome(decision)
    if outcome is Outcome.approve:
        ref = str(decision.fields.get("payment_ref", "")).strip()
        record_payment(session=session, case_id=case.id, paid_by=by, payment_ref=ref, at=decision.decided_at,
                       config=config)  # fmt: skip
        account = mask_account(str(decision.fields.get("account", "")))
        record(session, case, actor=by, action="payee_account", at=decision.decided_at, data={"account": account},
               message=f"付款至「{_supplier(session, case)}」账号 {account}")  # fmt: skip
    else:
        word = "暂缓付款" if outcome is Outcome.reject else "付款超期无人办理"
        record(session, case, actor=by, action="payment_deferred", at=decision.decided_at,
               message=f"财务部{word}：{_reason(decision) or '未说明原因'}")  # fmt: skip
    _mark(session, case, "payment", decision, by)
    return outcome is Outcome.approve


def _supplier(session: Session, case: PurchaseCase) -> str:
    order = case_order(session, case.id)
    return order.supplier if order else ""


# --- data entry: to-dos ------------------------------------------------------------------------------------


def entry_done(*, session: Session, number: str, kind: str, key: int) -> bool:
    """Whether the data a to-do asks for is in: the amended version, the contract, the registration, the claim."""
    case = case_by_number(session, number)
    if kind == "amend":
        return case.current_version > key
    if kind == "order":
        return case_order(session, case.id) is not None
    if kind == "register":
        return case.stage in (Stage.reimbursement, Stage.paid)
    if kind == "claim":
        stmt = select(Claim).where(Claim.case_id == case.id, col(Claim.status).in_(LIVE))
        return session.exec(stmt).first() is not None
    raise ValueError(f"unknown to-do kind {kind!r}")


def note_todo(*, session: Session, number: str, kind: str, decision: StepDecision,
              directory: Directory | None = None) -> None:  # fmt: skip
    """A to-do answered without the data (无法办理, or nobody in time) is kept in the history with the reason."""
    case = case_by_number(session, number)
    if _applied(session, case.id, decision.request_id) is not None:
        return
    dir_ = directory_or_default(directory)
    by, outcome = person_id(dir_, decision.decided_by), _outcome(decision)
    if outcome is Outcome.reject:
        message = f"{TODO_LABELS[kind]}待办：{decision.decided_by_name}表示无法办理：{_reason(decision)}"
    elif outcome is Outcome.expired:
        message = f"{TODO_LABELS[kind]}待办超期未办理，重新派发"
    else:
        message = f"{TODO_LABELS[kind]}待办标记为已办理，但系统中尚无录入数据，重新派发"
    record(session, case, actor=by, action=f"todo_{outcome.value}", at=decision.decided_at, message=message)
    _mark(session, case, f"todo_{kind}", decision, by)


def close_todos(*, session: Session, number: str, kind: str, by_email: str | None,
                now: datetime | None = None) -> list[int]:  # fmt: skip
    """Close the case's pending to-dos of ``kind`` as done (the data is in); the outbox rows to deliver."""
    now = now or utcnow()
    stmt = select(ApprovalRequest).where(
        ApprovalRequest.process == PROCESS, ApprovalRequest.case_id == number,
        ApprovalRequest.status == RequestStatus.pending, col(ApprovalRequest.step).startswith(f"{kind}_"),
    )  # fmt: skip
    outbox: list[int] = []
    for request in list(session.exec(stmt)):
        if not lock_pending(session, request.id):
            session.rollback()
            continue
        actor = next((lk for lk in links_of(session=session, request_id=request.id) if lk.approver_email == by_email),
                     None)  # fmt: skip
        if actor is not None and actor.used_at is None:
            actor.used_at, actor.decision, actor.comment = now, Outcome.approve, "已在系统中录入"
            session.add(actor)
            session.flush()
        outbox.append(close_request(session=session, request=request, outcome=Outcome.approve, actor=actor, now=now))
        session.commit()
    return outbox


def deliver_now(outbox_ids: list[int]) -> list[ResumeOutcome | None]:
    """Wake the waiting flow now; what cannot be delivered yet the approval sweeper delivers later."""
    return [deliver_one(outbox_id=i, resumer=PrefectResumer(), now=utcnow()) for i in outbox_ids]


def finish_entry(*, session: Session, number: str, kind: str, key: int | None, by: str,
                 directory: Directory | None = None) -> list[int]:  # fmt: skip
    """After data entry: when the to-do's data is complete, close the to-do (outbox ids; commit, then deliver)."""
    case = case_by_number(session, number)
    if kind == "amend":
        key = case.current_version - 1
    if not entry_done(session=session, number=number, kind=kind, key=key or 0):
        return []
    dir_ = directory_or_default(directory)
    email = next((str(p.email) for p in dir_.people if p.id == by), None)
    session.commit()
    return close_todos(session=session, number=number, kind=kind, by_email=email)
