"""The contract (§7 签订有效合同): its configuration list is compared with the approved request, line by line."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from models.procurement import (
    Acceptance,
    OrderItem,
    PurchaseOrder,
    RequestItem,
    Stage,
    SupplierQuote,
    VersionStatus,
)
from zhidu.procurement.case import (
    config_or_default,
    current_version,
    get_case,
    now_or,
    record,
    require_stage,
    set_stage,
    version_items,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.schemas import OrderLineIn, ProcurementError, item_label, request_total, validate_items
from zhidu.templating import money


def line_difference(line: OrderLineIn, asked: RequestItem) -> str | None:
    """What differs between a contracted line and the approved request line, in Chinese; None if nothing."""
    parts: list[str] = []
    for attr, label in (("name", "名称"), ("category", "类别"), ("model", "型号"), ("specification", "规格")):
        old, new = getattr(asked, attr), getattr(line, attr)
        if old != new:
            parts.append(f"{label}「{old}」→「{new}」")
    if asked.quantity != line.quantity:
        parts.append(f"数量 {asked.quantity} → {line.quantity}")
    if asked.unit_price != line.unit_price:
        parts.append(f"单价 {money(asked.unit_price)} → {money(line.unit_price)}")
    added = [c for c in line.configuration if c not in asked.configuration]
    dropped = [c for c in asked.configuration if c not in line.configuration]
    if added:
        parts.append(f"配置增加「{'、'.join(added)}」")
    if dropped:
        parts.append(f"配置缺少「{'、'.join(dropped)}」")
    return "；".join(parts) or None


def compare_with_request(
    supplier: str, lines: list[OrderLineIn], asked: list[RequestItem], chosen_supplier: str | None
) -> tuple[list[str | None], list[str]]:
    """Per-line differences and the order-level list of differences (Chinese)."""
    by_line = {i.line: i for i in asked}
    per_line: list[str | None] = []
    differences: list[str] = []
    for n, line in enumerate(lines, start=1):
        where = f"合同{item_label(n, line.name)}"
        if line.request_line is None:
            diff: str | None = "不在批准的采购申请中"
        else:
            diff = line_difference(line, by_line[line.request_line])
            if diff:
                diff = f"与申请第{line.request_line}项不一致：{diff}"
        per_line.append(diff)
        if diff:
            differences.append(f"{where}{diff}")
    covered = {line.request_line for line in lines}
    differences += [f"申请{item_label(i.line, i.name)}未列入合同" for i in asked if i.line not in covered]
    if chosen_supplier is not None and supplier != chosen_supplier:
        differences.append(f"合同供应商「{supplier}」不是比价选定的「{chosen_supplier}」")
    contract, approved = request_total(list(lines)), sum((i.unit_price * i.quantity for i in asked), Decimal("0.00"))
    if contract != approved:
        differences.append(f"合同金额 {money(contract)} 与批准金额 {money(approved)} 不一致，相差 "
                           f"{money(abs(contract - approved))}")  # fmt: skip
    return per_line, differences


def place_order(
    *,
    session: Session,
    case_id: str,
    supplier: str,
    contract_no: str,
    signed_on: date,
    lines: list[OrderLineIn],
    by: str,
    explanation: str | None = None,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> PurchaseOrder:
    """Record the signed contract; differences from the approved request are recorded and must be explained."""
    cfg = config_or_default(config)
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.order)
    version = current_version(session, case)
    assert version.status is VersionStatus.approved
    asked = version_items(session, version)
    reasons = [f"合同{r}" for r in validate_items(list(lines), cfg)]
    if not supplier.strip():
        reasons.append("供应商不能为空")
    if not contract_no.strip():
        reasons.append("合同编号不能为空")
    elif session.exec(select(PurchaseOrder).where(PurchaseOrder.contract_no == contract_no)).first():
        reasons.append(f"合同编号「{contract_no}」已被使用")
    known = {i.line for i in asked}
    refs = [line.request_line for line in lines if line.request_line is not None]
    for ref in sorted(set(refs)):
        if ref not in known:
            reasons.append(f"合同引用的申请第{ref}项不存在")
        elif refs.count(ref) > 1:
            reasons.append(f"申请第{ref}项在合同中出现了 {refs.count(ref)} 次")
    if reasons:
        raise ProcurementError(reasons)
    chosen = session.exec(
        select(SupplierQuote).where(SupplierQuote.version_id == version.id, SupplierQuote.selected)
    ).first()
    per_line, differences = compare_with_request(supplier, list(lines), asked, chosen.supplier if chosen else None)
    if differences and not (explanation or "").strip():
        raise ProcurementError(["合同与批准的采购申请存在差异，须填写差异说明", *differences])
    order = PurchaseOrder(
        case_id=case.id, supplier=supplier, contract_no=contract_no, signed_on=signed_on,
        total=request_total(list(lines)), differences=differences, explanation=explanation or None,
        created_by=by, created_at=at,
    )  # fmt: skip
    session.add(order)
    session.flush()
    assert order.id is not None
    for n, (line, diff) in enumerate(zip(lines, per_line, strict=True), start=1):
        fields = line.model_dump()
        session.add(OrderItem(order_id=order.id, case_id=case.id, line=n, difference=diff, **fields))
    session.add(Acceptance(case_id=case.id))
    suffix = f"；与申请差异 {len(differences)} 处：{explanation}" if differences else "，与批准的申请一致"
    record(session, case, actor=by, action="ordered", at=at, data={"contract_no": contract_no},
           message=f"与「{supplier}」签订合同 {contract_no}，金额 {money(order.total)}{suffix}")  # fmt: skip
    set_stage(case, Stage.acceptance, at, cfg)
    session.flush()
    return order
