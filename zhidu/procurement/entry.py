"""Data entry by the IT-centre clerks (CLI ``zhidu procurement …``): each entry runs the business function,
records it in the case history, and — when the data a waiting to-do asks for is complete — closes that to-do so
the case flow wakes up. Refusals (e.g. a claim) are kept in the history and mailed with every reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from zhidu.db import session_scope
from zhidu.mail import send_email
from zhidu.procurement.case import current_version, history, version_items
from zhidu.procurement.orders import place_order
from zhidu.procurement.progress import deliver_now, finish_entry
from zhidu.procurement.registration import enter_warehouse, register_assets
from zhidu.procurement.reimbursement import ClaimOutcome, submit_claim
from zhidu.procurement.requests import amend_request, open_case
from zhidu.procurement.schemas import FIELD_LABELS, InvoiceIn, OrderLineIn, ProcurementError, RequestIn, parse_request
from zhidu.procurement.steps import case_by_number, case_url
from zhidu.procurement.views import claim_refused_mail


class OrderIn(BaseModel):
    """The signed contract; without ``lines`` the contract is exactly the approved request."""

    supplier: str
    contract_no: str
    signed_on: date
    explanation: str | None = None
    lines: list[OrderLineIn] | None = None


class ClaimIn(BaseModel):
    invoices: list[InvoiceIn] = Field(default_factory=list)


def _parse(model: type[BaseModel], raw: Any, what: str) -> Any:
    if not isinstance(raw, dict):
        raise ProcurementError([f"{what}文件格式不正确：应为键值对（YAML 映射）"])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        reasons = []
        for e in exc.errors():
            where = " ".join(f"第{p + 1}条" if isinstance(p, int) else FIELD_LABELS.get(p, p) for p in e["loc"])
            reasons.append(f"{what} {where}：格式不正确（{e['msg']}）")
        raise ProcurementError(reasons) from exc


def new_case(*, raw: dict[str, Any], requester: str, department: str) -> str:
    """Submit a new purchase request (every reason when refused); the case number."""
    data = parse_request(raw)
    with session_scope() as session:
        return open_case(session=session, data=data, requester=requester, department=department).number


def _close(number: str, kind: str, by: str, key: int | None = None) -> int:
    with session_scope() as session:
        outbox = finish_entry(session=session, number=number, kind=kind, key=key, by=by)
    deliver_now(outbox)
    return len(outbox)


def amend(*, number: str, raw: dict[str, Any], by: str, note: str) -> int:
    """Resubmit a returned request as a new version; the version number."""
    data: RequestIn = parse_request(raw)
    with session_scope() as session:
        case = case_by_number(session, number)
        version = amend_request(session=session, case_id=case.id, data=data, by=by, change_note=note).version
    _close(number, "amend", by)
    return version


def order(*, number: str, raw: dict[str, Any], by: str) -> str:
    """Record the signed contract (下单); its number."""
    data: OrderIn = _parse(OrderIn, raw, "合同")
    with session_scope() as session:
        case = case_by_number(session, number)
        lines = data.lines
        if lines is None:
            asked = version_items(session, current_version(session, case))
            lines = [OrderLineIn(request_line=i.line, name=i.name, category=i.category, model=i.model,
                                 specification=i.specification, quantity=i.quantity, unit_price=i.unit_price,
                                 configuration=list(i.configuration)) for i in asked]  # fmt: skip
        placed = place_order(session=session, case_id=case.id, supplier=data.supplier, contract_no=data.contract_no,
                             signed_on=data.signed_on, lines=lines, by=by, explanation=data.explanation)  # fmt: skip
        contract = placed.contract_no
    _close(number, "order", by)
    return contract


def register(*, number: str, line: int, custodian: str, location: str, by: str, quantity: int = 1,
             seal_no: str | None = None) -> list[str]:  # fmt: skip
    """Fixed-asset registration (转固定资产) of accepted units; the asset tags."""
    with session_scope() as session:
        case = case_by_number(session, number)
        tags = [a.tag for a in register_assets(session=session, case_id=case.id, line=line, custodian=custodian,
                                               location=location, by=by, quantity=quantity, seal_no=seal_no)]
    _close(number, "register", by)
    return tags


def warehouse(*, number: str, line: int, quantity: int, location: str, by: str) -> str:
    """Warehouse entry (入库) of accepted consumables; the receipt number."""
    with session_scope() as session:
        case = case_by_number(session, number)
        entry = enter_warehouse(session=session, case_id=case.id, line=line, quantity=quantity, location=location,
                                by=by).entry_no  # fmt: skip
    _close(number, "register", by)
    return entry


def claim(*, number: str, raw: dict[str, Any], by: str) -> ClaimOutcome:
    """Claim reimbursement (报账); a refusal is kept in the history and mailed to the claimant with every reason."""
    data: ClaimIn = _parse(ClaimIn, raw, "发票")
    with session_scope() as session:
        case = case_by_number(session, number)
        outcome = submit_claim(session=session, case_id=case.id, claimant=by, invoices=data.invoices)
        if not outcome.accepted:
            mail = claim_refused_mail(session=session, case_id=case.id, claimant=by, reasons=outcome.reasons,
                                      url=case_url(number))  # fmt: skip
            session.commit()
            event = history(session=session, case_id=case.id)[-1]
            send_email(to=mail.to, subject=mail.subject, template=mail.template, context=mail.context,
                       idempotency_key=f"procurement:{number}:claim-refused:{event.id}", session=session)  # fmt: skip
            return outcome
    _close(number, "claim", by)
    return outcome
