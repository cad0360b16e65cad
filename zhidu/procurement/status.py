"""Where a purchase is and who it is waiting for: the data of the case page (``pages/procurement_case.html``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from models.procurement import (
    STAGE_LABELS,
    CaseEvent,
    Claim,
    ClaimStatus,
    OrderItem,
    PurchaseOrder,
    Registration,
    RequestVersion,
    Stage,
)
from zhidu.directory import Directory
from zhidu.procurement.acceptance import LineState, acceptance_gaps, acceptance_state
from zhidu.procurement.case import (
    case_order,
    config_or_default,
    directory_or_default,
    get_case,
    history,
    now_or,
    order_items,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.registration import Unregistered, unregistered
from zhidu.procurement.requests import approval_plan, request_versions

STAGES = list(Stage)


@dataclass(frozen=True)
class StageMark:
    label: str
    state: str  # done / current / todo


@dataclass(frozen=True)
class CaseStatus:
    """Everything the case page shows; texts are Chinese."""

    case_id: str
    number: str
    title: str
    department: str
    requester: str
    need: str
    stage: Stage
    stage_label: str
    stages: list[StageMark]
    waiting_for: list[str]  # names (or the supplier), empty when closed
    waiting_what: str
    due_at: datetime | None
    overdue: bool
    versions: list[RequestVersion]
    order: PurchaseOrder | None
    lines: list[OrderItem]
    acceptance: list[LineState]
    unregistered: list[Unregistered]
    claims: list[Claim]
    events: list[CaseEvent]
    problems: list[str] = field(default_factory=list)  # e.g. acceptance gaps, unregistered items
    names: dict[str, str] = field(default_factory=dict)  # person id → name, for the history's actors


def _names(directory: Directory, role: str) -> list[str]:
    return [p.name for p in directory.by_role(role)]


def _waiting(
    session: Session, case_id: str, stage: Stage, cfg: ProcurementConfig, dir_: Directory
) -> tuple[list[str], str, list[str]]:
    case = get_case(session, case_id)
    if stage is Stage.request:
        return [dir_.person(case.requester_id).name], "修改并重新提交被退回的采购申请", []
    if stage is Stage.approval:
        version = request_versions(session=session, case_id=case_id)[-1]
        step = approval_plan(version.total, version=version.version, config=cfg, directory=dir_)[0]
        names = list(dict.fromkeys(a.name for a in step.approvers))
        how = "（会签：全部同意方可通过）" if len(names) > 1 else ""
        return names, f"审批采购申请第{version.version}版{how}", []
    if stage is Stage.order:
        return _names(dir_, "buyer"), "与选定供应商签订采购合同", []
    if stage is Stage.acceptance:
        states = acceptance_state(session=session, case_id=case_id)
        gaps = acceptance_gaps(states)
        if any(s.awaiting_replacement for s in states):
            order = case_order(session, case_id)
            supplier = order.supplier if order else "供应商"
            return [f"供应商「{supplier}」", *_names(dir_, "buyer")], "不合格品退换，到货后复验", gaps
        if gaps:
            return _names(dir_, "buyer"), "按合同配置清单逐项验收到货", gaps
        return _names(dir_, "it_centre"), "信息中心签字确认验收记录", []
    if stage is Stage.registration:
        pending = unregistered(session=session, case_id=case_id, config=cfg)
        roles = {"asset_admin" if u.registration is Registration.fixed_asset else "warehouse_keeper" for u in pending}
        names = [n for role in sorted(roles) for n in _names(dir_, role)]
        return names, "入库或转固定资产", [u.describe() for u in pending]
    if stage is Stage.reimbursement:
        claims = session.exec(select(Claim).where(Claim.case_id == case_id).order_by(col(Claim.id))).all()
        live = [c for c in claims if c.status in (ClaimStatus.pending, ClaimStatus.approved)]
        if not live:
            return _names(dir_, "buyer"), "持发票（含增值税发票）到财务部报账", []
        if live[0].status is ClaimStatus.pending:
            return _names(dir_, "finance"), "财务部审核报账", []
        return _names(dir_, "finance"), "财务部付款", []
    return [], "已办结", []


def case_status(
    *,
    session: Session,
    case_id: str,
    now: datetime | None = None,
    config: ProcurementConfig | None = None,
    directory: Directory | None = None,
) -> CaseStatus:
    """Where the purchase is, who it waits for, by when, and its whole history."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    now = now_or(now)
    case = get_case(session, case_id)
    current = STAGES.index(case.stage)
    marks = [
        StageMark(STAGE_LABELS[s], "done" if i < current or case.stage is Stage.paid else
                  "current" if i == current else "todo")
        for i, s in enumerate(STAGES)
    ]  # fmt: skip
    who, what, problems = _waiting(session, case_id, case.stage, cfg, dir_)
    claims = session.exec(select(Claim).where(Claim.case_id == case_id).order_by(col(Claim.id))).all()
    try:
        requester = dir_.person(case.requester_id).name
    except KeyError:
        requester = case.requester_id
    return CaseStatus(
        case_id=case.id, number=case.number, title=case.title, department=case.department, requester=requester,
        need=case.need, stage=case.stage, stage_label=STAGE_LABELS[case.stage], stages=marks, waiting_for=who,
        waiting_what=what, due_at=case.stage_due_at,
        overdue=case.stage_due_at is not None and now > case.stage_due_at,
        versions=request_versions(session=session, case_id=case_id), order=case_order(session, case_id),
        lines=order_items(session, case_id), acceptance=acceptance_state(session=session, case_id=case_id),
        unregistered=unregistered(session=session, case_id=case_id, config=cfg), claims=list(claims),
        events=history(session=session, case_id=case_id), problems=problems,
        names={p.id: p.name for p in dir_.people},
    )  # fmt: skip
