"""Reimbursement (报账, §24): only when every contracted unit is in the warehouse or the asset ledger, with the
invoices (a VAT invoice among them) adding up exactly to the contract; then finance approves and pays.

An early or incomplete claim is refused with every reason, and the refusal is kept in the case history.
Invoice amounts: ``amount`` is 金额 (without tax), ``tax`` 税额; the contract price is tax-inclusive, so the
sum of 价税合计 (amount + tax) must equal the contract total exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models.approval import Mode, Outcome
from models.procurement import (
    INVOICE_KIND_LABELS,
    STAGE_LABELS,
    VAT_KINDS,
    Claim,
    ClaimStatus,
    Decision,
    Invoice,
    PurchaseCase,
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
    record,
    require_stage,
    set_stage,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.registration import REGISTRATION_LABELS, registered_quantity
from zhidu.procurement.requests import PlanApprover, PlanStep
from zhidu.procurement.schemas import CENT, InvoiceIn, StageError, item_label
from zhidu.templating import money
from zhidu.workdays import get_calendar

LIVE = (ClaimStatus.pending, ClaimStatus.approved, ClaimStatus.paid)


@dataclass(frozen=True)
class ClaimOutcome:
    """The answer to a claim: accepted (a pending ``claim`` for finance) or refused with all ``reasons``."""

    accepted: bool
    claim: Claim | None = None
    reasons: list[str] = field(default_factory=list)


def _live_claim(session: Session, case_id: str) -> Claim | None:
    stmt = select(Claim).where(Claim.case_id == case_id, col(Claim.status).in_(LIVE)).order_by(col(Claim.id))
    return session.exec(stmt).first()


def _invoice_reasons(session: Session, invoices: list[InvoiceIn], at: datetime) -> list[str]:
    reasons: list[str] = []
    today = get_calendar().local_date(at)
    seen: set[tuple[str, str]] = set()
    for n, inv in enumerate(invoices, start=1):
        where = f"第{n}张发票（号码 {inv.number}）"
        if not re.fullmatch(r"\d{8}|\d{20}", inv.number):
            reasons.append(f"{where}：发票号码须为8位或20位数字")
        if not (re.fullmatch(r"\d{10}|\d{12}", inv.code) or (inv.code == "" and len(inv.number) == 20)):
            reasons.append(f"{where}：发票代码须为10位或12位数字（数电发票可不填）")
        if inv.amount <= 0 or inv.amount != inv.amount.quantize(CENT):
            reasons.append(f"{where}：金额 {inv.amount} 须为大于零、精确到分的数")
        if inv.tax < 0 or inv.tax != inv.tax.quantize(CENT):
            reasons.append(f"{where}：税额 {inv.tax} 须为不小于零、精确到分的数")
        if inv.issued_on > today:
            reasons.append(f"{where}：开票日期 {inv.issued_on} 晚于报账日期 {today}")
        key = (inv.code, inv.number)
        if key in seen:
            reasons.append(f"{where}：同一张发票重复提交")
        seen.add(key)
        used = session.exec(
            select(Invoice, Claim, PurchaseCase)
            .join(Claim, col(Claim.id) == col(Invoice.claim_id))
            .join(PurchaseCase, col(PurchaseCase.id) == col(Invoice.case_id))
            .where(Invoice.code == inv.code, Invoice.number == inv.number, col(Claim.status).in_(LIVE))
        ).first()
        if used is not None:
            reasons.append(f"{where}：已在采购 {used[2].number} 的报账中使用，不得重复报销")
    return reasons


def claim_refusals(
    *,
    session: Session,
    case_id: str,
    invoices: list[InvoiceIn],
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> list[str]:
    """Every reason a claim with ``invoices`` cannot be accepted now (Chinese); empty when it can."""
    cfg = config_or_default(config)
    at = now_or(at)
    case = get_case(session, case_id)
    reasons: list[str] = []
    if case.stage is Stage.paid:
        return [f"采购 {case.number} 已付款，不得重复报账"]
    live = _live_claim(session, case_id)
    if live is not None:
        return [f"采购 {case.number} 已提交报账（报账单 {live.id}，{money(live.amount)}），不得重复报账"]
    if case.stage in (Stage.request, Stage.approval):
        reasons.append("采购申请尚未批准")
    order = case_order(session, case_id)
    if order is None:
        reasons.append("尚未签订采购合同")
    else:
        if case.stage is Stage.acceptance:
            reasons.append("验收记录尚未由信息中心签字确认")
        for item in order_items(session, case_id):
            assert item.id is not None
            done = registered_quantity(session, item.id)
            if done < item.quantity:
                category = cfg.category(item.category)
                how = REGISTRATION_LABELS[category.registration] if category else "入库或转固定资产"
                reasons.append(f"{item_label(item.line, item.name)}：合同 {item.quantity} 件，已入库或转固定资产 "
                               f"{done} 件，尚有 {item.quantity - done} 件未{how}")  # fmt: skip
    if not invoices:
        reasons.append("未提供发票")
    else:
        reasons += _invoice_reasons(session, invoices, at)
        if not any(inv.kind in VAT_KINDS for inv in invoices):
            kinds = "、".join(INVOICE_KIND_LABELS[inv.kind] for inv in invoices)
            reasons.append(f"缺少增值税发票（第二十四条：须开具增值税发票），现有：{kinds}")
        if order is not None:
            billed = sum((inv.total for inv in invoices), Decimal("0.00"))
            if billed != order.total:
                word = "多" if billed > order.total else "少"
                reasons.append(f"发票价税合计 {money(billed)} 与合同 {order.contract_no} 金额 {money(order.total)} "
                               f"不一致，{word} {money(abs(billed - order.total))}")  # fmt: skip
    return reasons


def submit_claim(
    *,
    session: Session,
    case_id: str,
    claimant: str,
    invoices: list[InvoiceIn],
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> ClaimOutcome:
    """Claim reimbursement. A refusal is recorded in the history and returned (not raised), so it is kept."""
    at = now_or(at)
    case = get_case(session, case_id)
    reasons = claim_refusals(session=session, case_id=case_id, invoices=invoices, at=at, config=config)
    if reasons:
        record(session, case, actor=claimant, action="claim_refused", at=at, data={"reasons": reasons},
               message="报账被拒：" + "；".join(reasons))  # fmt: skip
        return ClaimOutcome(accepted=False, reasons=reasons)
    total = sum((inv.total for inv in invoices), Decimal("0.00"))
    claim = Claim(case_id=case_id, claimant=claimant, amount=total, submitted_at=at)
    session.add(claim)
    session.flush()
    assert claim.id is not None
    for inv in invoices:
        session.add(Invoice(claim_id=claim.id, case_id=case_id, **inv.model_dump()))
    record(session, case, actor=claimant, action="claim_submitted", at=at, data={"claim": claim.id},
           message=f"提交报账（报账单 {claim.id}），发票 {len(invoices)} 张，价税合计 {money(total)}")  # fmt: skip
    session.flush()
    return ClaimOutcome(accepted=True, claim=claim)


def _pending(session: Session, case: PurchaseCase, status: ClaimStatus) -> Claim:
    claim = _live_claim(session, case.id)
    if claim is None or claim.status is not status:
        word = {ClaimStatus.pending: "待审核", ClaimStatus.approved: "已批准待付款"}[status]
        raise StageError([f"采购 {case.number} 没有{word}的报账"])
    return claim


def reimbursement_plan(
    *, session: Session, case_id: str, config: ProcurementConfig | None = None, directory: Directory | None = None
) -> list[PlanStep]:
    """Finance's approval of the pending claim (step ``claim_<id>``)."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = get_case(session, case_id)
    claim = _pending(session, case, ClaimStatus.pending)
    order = case_order(session, case_id)
    assert order is not None
    invoices = session.exec(select(Invoice).where(Invoice.claim_id == claim.id)).all()
    details = {
        "采购编号": case.number,
        "合同": f"{order.contract_no}（{order.supplier}），{money(order.total)}",
        "发票": "；".join(f"{INVOICE_KIND_LABELS[i.kind]} {i.number} {money(i.amount + i.tax)}" for i in invoices),
        "报账金额": money(claim.amount),
    }
    approvers = tuple(PlanApprover(p.id, p.name, str(p.email), "finance") for p in dir_.by_role("finance"))
    return [
        PlanStep(
            step=f"claim_{claim.id}", title=f"报账审核：{case.title}", roles=("finance",), approvers=approvers,
            mode=Mode.any, workdays=cfg.sla_workdays[Stage.reimbursement], deadline=case.stage_due_at,
            details=details,
        )
    ]  # fmt: skip


def apply_reimbursement_decision(
    *,
    session: Session,
    case_id: str,
    outcome: Outcome | str,
    approver: str,
    decided_at: datetime,
    comment: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Claim:
    """Finance approved (→ to be paid) or rejected (the claimant may claim again) the pending claim."""
    outcome = Outcome(outcome)
    case = get_case(session, case_id)
    require_stage(case, Stage.reimbursement)
    claim = _pending(session, case, ClaimStatus.pending)
    session.add(Decision(case_id=case_id, subject="reimbursement", outcome=outcome.value, approver=approver,
                         comment=comment, fields=dict(fields or {}), decided_at=decided_at))  # fmt: skip
    note = f"：{comment}" if comment else ""
    if outcome is Outcome.approve:
        claim.status = ClaimStatus.approved
        message = f"财务部审核通过报账单 {claim.id}{note}"
    elif outcome in (Outcome.reject, Outcome.expired):
        claim.status = ClaimStatus.rejected
        message = f"财务部退回报账单 {claim.id}{note}"
    else:
        message = f"报账单 {claim.id} 审核超期，已升级{note}"
    claim.decided_by, claim.decided_at = approver, decided_at
    record(session, case, actor=approver, action=f"claim_{outcome.value}", at=decided_at, message=message)
    session.flush()
    return claim


def record_payment(
    *,
    session: Session,
    case_id: str,
    paid_by: str,
    payment_ref: str,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> Claim:
    """Finance paid the approved claim: the case is closed (已付款)."""
    cfg = config_or_default(config)
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.reimbursement)
    claim = _pending(session, case, ClaimStatus.approved)
    claim.status, claim.paid_by, claim.paid_at, claim.payment_ref = ClaimStatus.paid, paid_by, at, payment_ref
    record(session, case, actor=paid_by, action="paid", at=at, data={"claim": claim.id, "ref": payment_ref},
           message=f"已付款 {money(claim.amount)}（凭证 {payment_ref}），采购{STAGE_LABELS[Stage.paid]}")  # fmt: skip
    set_stage(case, Stage.paid, at, cfg)
    session.flush()
    return claim
