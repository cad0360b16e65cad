"""Acceptance (§23 验收): item by item against the contract's configuration list; nonconforming units are
exchanged and the replacement is checked again; the acceptance record is signed off by the IT centre."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from models.approval import Mode, Outcome
from models.procurement import (
    Acceptance,
    AcceptanceCheck,
    AcceptanceStatus,
    Decision,
    OrderItem,
    ReturnRecord,
    ReturnStatus,
    Stage,
)
from zhidu.directory import Directory
from zhidu.procurement.case import (
    case_order,
    config_or_default,
    directory_or_default,
    get_case,
    now_or,
    order_items,
    order_line,
    record,
    require_stage,
    set_stage,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.requests import PlanApprover, PlanStep
from zhidu.procurement.schemas import ProcurementError, StageError, item_label


@dataclass(frozen=True)
class LineState:
    line: int
    name: str
    ordered: int
    accepted: int  # conforming units, replacements included
    awaiting_replacement: int  # units in open returns
    open_returns: tuple[int, ...]  # ReturnRecord ids

    @property
    def unchecked(self) -> int:
        return self.ordered - self.accepted - self.awaiting_replacement

    @property
    def complete(self) -> bool:
        return self.accepted == self.ordered


def _accepted(session: Session, item_id: int) -> int:
    stmt = select(func.coalesce(func.sum(AcceptanceCheck.quantity), 0)).where(
        AcceptanceCheck.order_item_id == item_id, col(AcceptanceCheck.conforming).is_(True)
    )
    return int(session.exec(stmt).one())


def _open_returns(session: Session, item_id: int) -> list[ReturnRecord]:
    stmt = (
        select(ReturnRecord)
        .where(ReturnRecord.order_item_id == item_id, ReturnRecord.status == ReturnStatus.open)
        .order_by(col(ReturnRecord.id))
    )
    return list(session.exec(stmt))


def line_state(session: Session, item: OrderItem) -> LineState:
    assert item.id is not None
    returns = _open_returns(session, item.id)
    return LineState(
        line=item.line, name=item.name, ordered=item.quantity, accepted=_accepted(session, item.id),
        awaiting_replacement=sum(r.quantity for r in returns), open_returns=tuple(r.id or 0 for r in returns),
    )  # fmt: skip


def acceptance_state(*, session: Session, case_id: str) -> list[LineState]:
    """Per contracted line: ordered, accepted, awaiting replacement."""
    return [line_state(session, item) for item in order_items(session, case_id)]


def acceptance_gaps(states: list[LineState]) -> list[str]:
    """Why the acceptance cannot be signed off yet (Chinese); empty when every unit conforms."""
    gaps: list[str] = []
    for s in states:
        where = item_label(s.line, s.name)
        if s.awaiting_replacement:
            gaps.append(f"{where}：{s.awaiting_replacement} 件不合格，等待供应商退换后复验")
        if s.unchecked:
            gaps.append(f"{where}：尚有 {s.unchecked} 件未验收")
    return gaps


def _acceptance(session: Session, case_id: str) -> Acceptance:
    return session.exec(select(Acceptance).where(Acceptance.case_id == case_id)).one()


def record_check(
    *,
    session: Session,
    case_id: str,
    line: int,
    quantity: int,
    conforming: bool,
    by: str,
    reason: str | None = None,
    replaces: int | None = None,
    at: datetime | None = None,
) -> AcceptanceCheck:
    """One acceptance form for ``quantity`` delivered units of contract line ``line``.

    A nonconforming check opens a return/exchange record; a check of a line whose units are all checked
    examines the oldest open return's replacement (or the return ``replaces``), closing it when it conforms.
    """
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.acceptance)
    item = order_line(session, case_id, line)
    assert item.id is not None
    state = line_state(session, item)
    where = item_label(item.line, item.name)
    if replaces is None and state.unchecked == 0 and state.open_returns:
        replaces = state.open_returns[0]
    target = session.get(ReturnRecord, replaces) if replaces is not None else None
    reasons: list[str] = []
    if quantity <= 0:
        reasons.append(f"{where}：验收数量须为正整数")
    if not conforming and not (reason or "").strip():
        reasons.append(f"{where}：不合格须填写原因")
    if replaces is not None:
        if target is None or target.order_item_id != item.id or target.status is not ReturnStatus.open:
            reasons.append(f"{where}：没有待复验的退换记录 {replaces}")
        elif quantity != target.quantity:
            reasons.append(f"{where}：复验数量 {quantity} 与退换数量 {target.quantity} 不符")
    elif quantity > state.unchecked:
        reasons.append(f"{where}：验收数量 {quantity} 超过未验收数量 {state.unchecked}")
    if reasons:
        raise ProcurementError(reasons)
    check = AcceptanceCheck(
        case_id=case_id, order_item_id=item.id, quantity=quantity, conforming=conforming,
        reason=reason if not conforming else None, replacement_for=replaces, checked_by=by, checked_at=at,
    )  # fmt: skip
    session.add(check)
    session.flush()
    assert check.id is not None
    if target is not None:
        if conforming:
            target.status, target.closed_at = ReturnStatus.replaced, at
            message = f"{where}：退换后的 {quantity} 件复验合格"
        else:
            message = f"{where}：退换后的 {quantity} 件复验仍不合格（{reason}），继续退换"
    elif conforming:
        message = f"{where}：{quantity} 件验收合格"
    else:
        session.add(ReturnRecord(case_id=case_id, order_item_id=item.id, check_id=check.id, quantity=quantity,
                                 reason=reason or "", opened_at=at))  # fmt: skip
        message = f"{where}：{quantity} 件不合格（{reason}），已办理退换"
    record(session, case, actor=by, action="checked", at=at, message=message,
           data={"line": line, "quantity": quantity, "conforming": conforming})  # fmt: skip
    session.flush()
    return check


def acceptance_signoff_plan(
    *, session: Session, case_id: str, config: ProcurementConfig | None = None, directory: Directory | None = None
) -> list[PlanStep]:
    """The IT centre's sign-off of the acceptance record; refused while any unit is unchecked or returned."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = get_case(session, case_id)
    require_stage(case, Stage.acceptance)
    states = acceptance_state(session=session, case_id=case_id)
    gaps = acceptance_gaps(states)
    if gaps:
        raise StageError(gaps)
    order = case_order(session, case_id)
    assert order is not None
    earlier = session.exec(
        select(func.count()).select_from(Decision).where(Decision.case_id == case_id, Decision.subject == "acceptance")
    ).one()
    details = {
        "采购编号": case.number,
        "合同": f"{order.contract_no}（{order.supplier}）",
        "验收结果": "；".join(f"{item_label(s.line, s.name)} {s.accepted}/{s.ordered} 件合格" for s in states),
    }
    approvers = tuple(PlanApprover(p.id, p.name, str(p.email), "it_centre") for p in dir_.by_role("it_centre"))
    return [
        PlanStep(
            step=f"acceptance_{earlier + 1}", title=f"验收记录签字确认：{case.title}", roles=("it_centre",),
            approvers=approvers, mode=Mode.any, workdays=cfg.sla_workdays[Stage.acceptance],
            deadline=case.stage_due_at, details=details,
        )
    ]  # fmt: skip


def apply_acceptance_decision(
    *,
    session: Session,
    case_id: str,
    outcome: Outcome | str,
    approver: str,
    decided_at: datetime,
    comment: str | None = None,
    fields: Mapping[str, Any] | None = None,
    config: ProcurementConfig | None = None,
) -> Acceptance:
    """The IT centre signed (approve → registration) or did not sign (the record stays open)."""
    cfg = config_or_default(config)
    outcome = Outcome(outcome)
    case = get_case(session, case_id)
    require_stage(case, Stage.acceptance)
    gaps = acceptance_gaps(acceptance_state(session=session, case_id=case_id))
    if gaps and outcome is Outcome.approve:
        raise StageError(gaps)
    session.add(Decision(case_id=case_id, subject="acceptance", outcome=outcome.value, approver=approver,
                         comment=comment, fields=dict(fields or {}), decided_at=decided_at))  # fmt: skip
    acceptance = _acceptance(session, case_id)
    note = f"：{comment}" if comment else ""
    if outcome is Outcome.approve:
        acceptance.status = AcceptanceStatus.signed_off
        acceptance.signed_off_by, acceptance.signed_off_at = approver, decided_at
        record(session, case, actor=approver, action="acceptance_signed", at=decided_at,
               message=f"信息中心签字确认验收记录{note}")  # fmt: skip
        set_stage(case, Stage.registration, decided_at, cfg)
    else:
        record(session, case, actor=approver, action=f"acceptance_{outcome.value}", at=decided_at,
               message=f"验收记录未获签字确认（{outcome.value}）{note}")  # fmt: skip
    session.flush()
    return acceptance
