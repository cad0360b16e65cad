"""Purchase requests (§7, §23): submit, route to approval, apply decisions, amend and resubmit.

Every submission is a new ``RequestVersion`` (items and all quotes kept); decisions are kept as they arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from models.approval import Mode, Outcome
from models.procurement import (
    Decision,
    PurchaseCase,
    RequestItem,
    RequestVersion,
    Stage,
    SupplierQuote,
    VersionStatus,
)
from zhidu.directory import Directory
from zhidu.procurement.case import (
    PROCESS,
    config_or_default,
    current_version,
    directory_or_default,
    get_case,
    next_number,
    now_or,
    record,
    require_stage,
    set_stage,
    stage_due,
    version_items,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.schemas import ProcurementError, RequestIn, StageError, request_total, validate_request
from zhidu.templating import money

if TYPE_CHECKING:
    from zhidu.approvals.schemas import ApprovalSpec

ROLE_LABELS = {
    "it_centre": "信息中心",
    "factory_leader": "厂领导",
    "finance": "财务部",
    "buyer": "信息中心采购员",
    "asset_admin": "信息中心资产管理员",
    "warehouse_keeper": "仓库保管员",
}


@dataclass(frozen=True)
class PlanApprover:
    person_id: str
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class PlanStep:
    """One approval step: who (by role), how they decide together (mode), by when."""

    step: str
    title: str
    roles: tuple[str, ...]
    approvers: tuple[PlanApprover, ...]
    mode: Mode
    workdays: int
    deadline: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)

    def to_spec(self, case_id: str) -> ApprovalSpec:
        """The lead's ``ApprovalSpec`` for this step (needs ``deadline``)."""
        from zhidu.approvals.schemas import ApprovalSpec, Approver

        if self.deadline is None:
            raise ValueError(f"step {self.step} has no deadline")
        return ApprovalSpec(
            process=PROCESS,
            case_id=case_id,
            step=self.step,
            title=self.title,
            details=self.details,
            approvers=[Approver(email=a.email, name=a.name) for a in self.approvers],
            mode=self.mode,
            deadline=self.deadline,
        )


def _approvers(directory: Directory, roles: tuple[str, ...]) -> tuple[PlanApprover, ...]:
    return tuple(
        PlanApprover(person_id=p.id, name=p.name, email=str(p.email), role=role)
        for role in roles
        for p in directory.by_role(role)
    )


def approval_roles(total: Decimal, config: ProcurementConfig) -> tuple[tuple[str, ...], Mode]:
    """The routing rule: IT centre always; above ``leader_threshold`` the factory leader too, all must approve."""
    if total > config.leader_threshold:
        return ("it_centre", "factory_leader"), Mode.all
    return ("it_centre",), Mode.any


def approval_plan(
    total: Decimal, *, version: int = 1, config: ProcurementConfig | None = None, directory: Directory | None = None
) -> list[PlanStep]:
    """The approval steps for a request of ``total`` (one step; its name carries the version)."""
    cfg = config_or_default(config)
    roles, mode = approval_roles(total, cfg)
    who = "、".join(ROLE_LABELS[r] for r in roles)
    return [
        PlanStep(
            step=f"request_v{version}",
            title=f"采购申请审批（{who}{'会签' if mode is Mode.all else ''}）",
            roles=roles,
            approvers=_approvers(directory_or_default(directory), roles),
            mode=mode,
            workdays=cfg.sla_workdays[Stage.approval],
        )
    ]


def request_approval_plan(
    *, session: Session, case_id: str, config: ProcurementConfig | None = None, directory: Directory | None = None
) -> list[PlanStep]:
    """The plan for the case's current version, with deadline and the details an approver reads."""
    case = get_case(session, case_id)
    version = current_version(session, case)
    items = version_items(session, version)
    quotes = session.exec(select(SupplierQuote).where(SupplierQuote.version_id == version.id)).all()
    details = {
        "采购编号": case.number,
        "申请部门": case.department,
        "需求或计划": version.need,
        "申请版本": f"第{version.version}版",
        "采购项目": "；".join(f"{i.name} {i.model} ×{i.quantity} 单价{money(i.unit_price)}" for i in items),
        "合计金额": money(version.total),
        "供应商报价": "；".join(f"{q.supplier} {money(q.amount)}{'（选定）' if q.selected else ''}" for q in quotes),
        "比价说明": version.comparison_note,
    }
    steps = approval_plan(version.total, version=version.version, config=config, directory=directory)
    return [
        PlanStep(
            step=s.step, title=f"{s.title}：{case.title}", roles=s.roles, approvers=s.approvers, mode=s.mode,
            workdays=s.workdays, deadline=case.stage_due_at, details=details,
        )
        for s in steps
    ]  # fmt: skip


def _add_version(
    session: Session, case: PurchaseCase, data: RequestIn, *, version: int, by: str, at: datetime, note: str | None
) -> RequestVersion:
    row = RequestVersion(
        case_id=case.id, version=version, need=data.need, total=request_total(data.items),
        comparison_note=data.comparison_note, submitted_by=by, submitted_at=at, change_note=note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    assert row.id is not None
    for line, item in enumerate(data.items, start=1):
        session.add(RequestItem(version_id=row.id, line=line, **item.model_dump()))
    for quote in data.quotes:
        session.add(SupplierQuote(version_id=row.id, **quote.model_dump()))
    session.flush()
    return row


def open_case(
    *,
    session: Session,
    data: RequestIn,
    requester: str,
    department: str,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
    directory: Directory | None = None,
) -> PurchaseCase:
    """Submit a new purchase request; refused with every reason (Chinese) when it is not complete."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    at = now_or(at)
    reasons = validate_request(data, cfg)
    if not any(p.id == requester for p in dir_.people):
        reasons.insert(0, f"申请人「{requester}」不在{dir_.organisation}通讯录中")
    if not dir_.has_department(department):
        reasons.insert(0, f"申请部门「{department}」不存在")
    if reasons:
        raise ProcurementError(reasons)
    number = next_number(session, cfg.case_prefix, at.year, PurchaseCase.number)
    case = PurchaseCase(
        number=number, title=data.title, requester_id=requester, department=dir_.department(department).name,
        need=data.need, stage=Stage.approval, stage_started_at=at, stage_due_at=stage_due(Stage.approval, at, cfg),
    )  # fmt: skip
    session.add(case)
    session.flush()
    version = _add_version(session, case, data, version=1, by=requester, at=at, note=None)
    record(session, case, actor=requester, action="submitted", at=at, data={"version": 1},
           message=f"提交采购申请（第1版），合计 {money(version.total)}")  # fmt: skip
    return case


def amend_request(
    *,
    session: Session,
    case_id: str,
    data: RequestIn,
    by: str,
    change_note: str,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> RequestVersion:
    """Resubmit a rejected (or expired) request as a new version; earlier versions and decisions stay."""
    cfg = config_or_default(config)
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.request)
    reasons = validate_request(data, cfg)
    if not change_note.strip():
        reasons.append("须说明修改内容（针对退回意见作了哪些修改）")
    if reasons:
        raise ProcurementError(reasons)
    number = case.current_version + 1
    version = _add_version(session, case, data, version=number, by=by, at=at, note=change_note)
    case.current_version = number
    case.title, case.need = data.title, data.need
    record(session, case, actor=by, action="amended", at=at, data={"version": number},
           message=f"修改后重新提交采购申请（第{number}版），合计 {money(version.total)}：{change_note}")  # fmt: skip
    set_stage(case, Stage.approval, at, cfg)
    return version


def apply_request_decision(
    *,
    session: Session,
    case_id: str,
    outcome: Outcome | str,
    approver: str,
    decided_at: datetime,
    comment: str | None = None,
    fields: Mapping[str, Any] | None = None,
    version: int | None = None,
    config: ProcurementConfig | None = None,
) -> PurchaseCase:
    """Apply the approval step's result: approve → order; reject or expired → back to the requester."""
    cfg = config_or_default(config)
    outcome = Outcome(outcome)
    case = get_case(session, case_id)
    require_stage(case, Stage.approval)
    if version is not None and version != case.current_version:
        raise StageError([f"该决定针对第{version}版申请，当前为第{case.current_version}版，已不适用"])
    row = current_version(session, case)
    session.add(Decision(case_id=case.id, subject="request", version=row.version, outcome=outcome.value,
                         approver=approver, comment=comment, fields=dict(fields or {}),
                         decided_at=decided_at))  # fmt: skip
    note = f"：{comment}" if comment else ""
    if outcome is Outcome.approve:
        row.status = VersionStatus.approved
        record(session, case, actor=approver, action="approved", at=decided_at, data={"version": row.version},
               message=f"采购申请第{row.version}版审批通过{note}")  # fmt: skip
        set_stage(case, Stage.order, decided_at, cfg)
    elif outcome in (Outcome.reject, Outcome.expired):
        row.status = VersionStatus.rejected if outcome is Outcome.reject else VersionStatus.expired
        word = "被退回" if outcome is Outcome.reject else "审批超期未决，退回申请人"
        record(session, case, actor=approver, action=row.status.value, at=decided_at, data={"version": row.version},
               message=f"采购申请第{row.version}版{word}{note}")  # fmt: skip
        set_stage(case, Stage.request, decided_at, cfg)
    else:
        record(session, case, actor=approver, action="escalated", at=decided_at, data={"version": row.version},
               message=f"采购申请第{row.version}版审批超期，已升级{note}")  # fmt: skip
    session.flush()
    return case


def request_versions(*, session: Session, case_id: str) -> list[RequestVersion]:
    """Every version of the request, first to last."""
    stmt = select(RequestVersion).where(RequestVersion.case_id == case_id).order_by(col(RequestVersion.version))
    return list(session.exec(stmt))


def decisions(*, session: Session, case_id: str) -> list[Decision]:
    """Every decision taken on the case, in the order they were taken."""
    stmt = select(Decision).where(Decision.case_id == case_id).order_by(col(Decision.decided_at), col(Decision.id))
    return list(session.exec(stmt))
