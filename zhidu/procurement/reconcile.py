"""Accounts and goods agree (账物一致, §8, §22): purchases, acceptances, the asset ledger, the warehouse and
reimbursements are compared; every disagreement is one typed ``Mismatch`` with a Chinese description."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Session, col, select

from models.procurement import (
    Acceptance,
    AcceptanceStatus,
    AssetRecord,
    Claim,
    ClaimStatus,
    Invoice,
    OrderItem,
    PurchaseCase,
    PurchaseOrder,
    WarehouseEntry,
)
from zhidu.procurement.acceptance import line_state
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.registration import registered_quantity, unregistered
from zhidu.procurement.schemas import item_label
from zhidu.templating import money

LIVE = (ClaimStatus.pending, ClaimStatus.approved, ClaimStatus.paid)


class MismatchKind(StrEnum):
    accepted_not_registered = "accepted_not_registered"  # 已验收未入库/未转固
    registered_without_acceptance = "registered_without_acceptance"  # 未经验收即登记
    value_differs = "value_differs"  # 登记价值与合同价格不符
    reimbursed_amount_differs = "reimbursed_amount_differs"  # 报账金额与合同金额不符
    reimbursed_twice = "reimbursed_twice"  # 重复报账
    configuration_incomplete = "configuration_incomplete"  # 清查发现配置不完整


KIND_LABELS = {
    MismatchKind.accepted_not_registered: "已验收未登记",
    MismatchKind.registered_without_acceptance: "未经验收即登记",
    MismatchKind.value_differs: "登记价值与合同不符",
    MismatchKind.reimbursed_amount_differs: "报账金额与合同不符",
    MismatchKind.reimbursed_twice: "重复报账",
    MismatchKind.configuration_incomplete: "配置不完整",
}


@dataclass(frozen=True)
class Mismatch:
    kind: MismatchKind
    case_number: str | None  # None: the entry belongs to no purchase
    subject: str  # the line, asset tag, receipt or claim concerned
    description: str  # Chinese

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _numbers(session: Session) -> dict[str, str]:
    return {c.id: c.number for c in session.exec(select(PurchaseCase))}


def _ledger(session: Session, numbers: dict[str, str]) -> list[Mismatch]:
    found: list[Mismatch] = []
    items = {i.id: i for i in session.exec(select(OrderItem))}
    signed = {a.case_id for a in session.exec(select(Acceptance)) if a.status is AcceptanceStatus.signed_off}
    for asset in session.exec(select(AssetRecord).order_by(col(AssetRecord.tag))):
        item = items.get(asset.order_item_id)
        number = numbers.get(asset.case_id or "")
        if item is None:
            text = f"资产「{asset.tag}」（{asset.name}，{money(asset.value)}）没有对应的采购合同和验收记录"
            found.append(Mismatch(MismatchKind.registered_without_acceptance, number, asset.tag, text))
        elif asset.value != item.unit_price:
            text = (f"资产「{asset.tag}」登记价值 {money(asset.value)}，合同单价 {money(item.unit_price)}，"
                    f"相差 {money(abs(asset.value - item.unit_price))}")  # fmt: skip
            found.append(Mismatch(MismatchKind.value_differs, number, asset.tag, text))
        if asset.missing:
            found.append(Mismatch(MismatchKind.configuration_incomplete, number, asset.tag,
                                  f"资产「{asset.tag}」清查发现缺少「{'、'.join(asset.missing)}」"))  # fmt: skip
    for entry in session.exec(select(WarehouseEntry).order_by(col(WarehouseEntry.entry_no))):
        item = items.get(entry.order_item_id)
        number = numbers.get(entry.case_id or "")
        if item is None:
            text = f"入库单「{entry.entry_no}」（{money(entry.amount)}）没有对应的采购合同和验收记录"
            found.append(Mismatch(MismatchKind.registered_without_acceptance, number, entry.entry_no, text))
        elif entry.unit_price != item.unit_price or entry.amount != item.unit_price * entry.quantity:
            expected = item.unit_price * entry.quantity
            text = f"入库单「{entry.entry_no}」金额 {money(entry.amount)}，按合同应为 {money(expected)}"
            found.append(Mismatch(MismatchKind.value_differs, number, entry.entry_no, text))
    for item in items.values():
        assert item.id is not None
        accepted, registered = line_state(session, item).accepted, registered_quantity(session, item.id)
        number = numbers.get(item.case_id)
        if registered > accepted or (registered and item.case_id not in signed):
            why = "验收记录未经信息中心签字" if registered <= accepted else f"仅验收合格 {accepted} 件"
            found.append(Mismatch(MismatchKind.registered_without_acceptance, number, f"第{item.line}项",
                                  f"{item_label(item.line, item.name)}：已登记 {registered} 件，{why}"))  # fmt: skip
    return found


def _claims(session: Session, numbers: dict[str, str]) -> list[Mismatch]:
    found: list[Mismatch] = []
    orders = {o.case_id: o for o in session.exec(select(PurchaseOrder))}
    live = list(session.exec(select(Claim).where(col(Claim.status).in_(LIVE)).order_by(col(Claim.id))))
    by_case: dict[str, list[Claim]] = defaultdict(list)
    for claim in live:
        by_case[claim.case_id].append(claim)
        order = orders.get(claim.case_id)
        number = numbers.get(claim.case_id)
        total = order.total if order else Decimal("0.00")
        if claim.amount != total:
            found.append(Mismatch(MismatchKind.reimbursed_amount_differs, number, f"报账单 {claim.id}",
                                  f"报账单 {claim.id} 金额 {money(claim.amount)}，合同金额 {money(total)}，"
                                  f"相差 {money(abs(claim.amount - total))}"))  # fmt: skip
    for case_id, claims in by_case.items():
        if len(claims) > 1:
            ids = "、".join(str(c.id) for c in claims)
            found.append(Mismatch(MismatchKind.reimbursed_twice, numbers.get(case_id), f"报账单 {ids}",
                                  f"同一采购报账 {len(claims)} 次（报账单 {ids}），合计 "
                                  f"{money(sum((c.amount for c in claims), Decimal('0.00')))}"))  # fmt: skip
    live_ids = {c.id for c in live}
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    for inv in session.exec(select(Invoice)):
        if inv.claim_id in live_ids:
            seen[(inv.code, inv.number)].add(inv.claim_id)
    for (code, number), claim_ids in sorted(seen.items()):
        cases = {c.case_id for c in live if c.id in claim_ids}
        if len(cases) > 1:
            text = f"发票（代码 {code} 号码 {number}）在 {len(cases)} 个采购的报账中重复使用"
            found.append(Mismatch(MismatchKind.reimbursed_twice, None, f"发票 {number}", text))
    return found


def reconcile(*, session: Session, config: ProcurementConfig | None = None) -> list[Mismatch]:
    """Every disagreement between purchases, acceptances, the ledger and reimbursements."""
    numbers = _numbers(session)
    found = [
        Mismatch(MismatchKind.accepted_not_registered, u.number, f"第{u.line}项", u.describe())
        for u in unregistered(session=session, config=config)
    ]
    return found + _ledger(session, numbers) + _claims(session, numbers)
