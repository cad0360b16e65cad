"""Procurement → acceptance → warehouse or fixed asset → reimbursement (篇二 第二章 §7, §8, §22–§24).

One purchase is a ``PurchaseCase``; every version of its request, every decision, every acceptance check,
every ledger entry and every reimbursement attempt is a row of its own, so the history is never overwritten.
Money is ``Decimal`` in a ``Money`` column (exact text on SQLite).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhidu.db import Money, UTCDateTime, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


class Stage(StrEnum):
    """Where a purchase is; the order is the order of the process."""

    request = "request"  # the requester writes or amends the request (需求申请)
    approval = "approval"  # IT centre (and factory leader above the threshold) decide (审批)
    order = "order"  # the IT centre signs the contract with the supplier (签订合同)
    acceptance = "acceptance"  # item-by-item acceptance against the contract (验收)
    registration = "registration"  # warehouse entry or fixed-asset registration (入库/转固定资产)
    reimbursement = "reimbursement"  # claim at finance with the invoices (报账)
    paid = "paid"  # finance has paid (已付款)


STAGE_LABELS: dict[Stage, str] = {
    Stage.request: "需求申请",
    Stage.approval: "采购审批",
    Stage.order: "签订合同",
    Stage.acceptance: "到货验收",
    Stage.registration: "入库/转固定资产",
    Stage.reimbursement: "财务报账",
    Stage.paid: "已付款",
}


class ItemKind(StrEnum):
    hardware = "hardware"  # 硬件（含耗材）: 货比三家
    software = "software"  # 软件: 多比较


class Registration(StrEnum):
    fixed_asset = "fixed_asset"  # 转固定资产
    warehouse = "warehouse"  # 入库


class VersionStatus(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"  # nobody decided in time: may be amended like a rejection


class ReturnStatus(StrEnum):
    open = "open"  # waiting for the supplier's replacement
    replaced = "replaced"  # the replacement was checked and conforms


class AcceptanceStatus(StrEnum):
    open = "open"
    signed_off = "signed_off"


class ClaimStatus(StrEnum):
    pending = "pending"  # waiting for finance
    approved = "approved"
    rejected = "rejected"
    paid = "paid"


class InvoiceKind(StrEnum):
    vat_special = "vat_special"  # 增值税专用发票
    vat_ordinary = "vat_ordinary"  # 增值税普通发票
    vat_electronic = "vat_electronic"  # 增值税电子普通发票 / 数电发票
    other = "other"  # 收据等其他票据


INVOICE_KIND_LABELS: dict[InvoiceKind, str] = {
    InvoiceKind.vat_special: "增值税专用发票",
    InvoiceKind.vat_ordinary: "增值税普通发票",
    InvoiceKind.vat_electronic: "增值税电子发票",
    InvoiceKind.other: "其他票据",
}
VAT_KINDS = frozenset({InvoiceKind.vat_special, InvoiceKind.vat_ordinary, InvoiceKind.vat_electronic})


class TaskStatus(StrEnum):
    open = "open"
    done = "done"


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# --- the case and its history -------------------------------------------------------------------------------


class PurchaseCaseBase(SQLModel):
    title: str
    requester_id: str = Field(index=True)
    department: str
    need: str  # the plan or need the purchase serves (§23)


class PurchaseCase(PurchaseCaseBase, table=True):
    """One purchase from request to payment."""

    __tablename__ = "procurement_case"

    id: str = Field(default_factory=new_id, primary_key=True)
    number: str = Field(unique=True, index=True)  # CG-2025-0001
    stage: Stage = Field(default=Stage.approval, index=True)
    current_version: int = 1
    stage_started_at: datetime = Field(sa_type=UTCDateTime)
    stage_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PurchaseCasePublic(PurchaseCaseBase):
    id: str
    number: str
    stage: Stage
    current_version: int
    stage_due_at: datetime | None


class CaseEvent(SQLModel, table=True):
    """The case history: who did what, when, at which stage (refusals included)."""

    __tablename__ = "procurement_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str  # submitted / approved / rejected / amended / ordered / checked / ... / claim_refused / paid
    stage: Stage
    message: str  # Chinese, for the case page
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- the request, version by version ------------------------------------------------------------------------


class RequestVersion(SQLModel, table=True):
    """One submitted version of the request; an amendment adds a version, never edits one."""

    __tablename__ = "procurement_request_version"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_procurement_version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    version: int
    need: str
    total: Decimal = Field(sa_type=Money)
    comparison_note: str  # why the chosen offer (性价比、实用性、安全性、扩充性)
    status: VersionStatus = VersionStatus.submitted
    submitted_by: str
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    change_note: str | None = None  # what an amendment changed and why


class RequestItem(SQLModel, table=True):
    __tablename__ = "procurement_request_item"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="procurement_request_version.id", index=True)
    line: int  # 1-based line number, stable across versions of the same item
    name: str
    category: str
    model: str
    specification: str
    quantity: int
    unit_price: Decimal = Field(sa_type=Money)
    configuration: list[str] = _json_list()


class SupplierQuote(SQLModel, table=True):
    """One supplier's offer for the whole request; all offers are kept (货比三家 §7)."""

    __tablename__ = "procurement_quote"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="procurement_request_version.id", index=True)
    supplier: str
    amount: Decimal = Field(sa_type=Money)
    note: str = ""
    selected: bool = False


class Decision(SQLModel, table=True):
    """A decision taken by the approval mechanism on one of this case's steps, as it arrived."""

    __tablename__ = "procurement_decision"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    subject: str  # request / acceptance / reimbursement
    version: int | None = None  # the request version decided (subject request)
    outcome: str
    approver: str
    comment: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decided_at: datetime = Field(sa_type=UTCDateTime)


# --- order, acceptance --------------------------------------------------------------------------------------


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "procurement_order"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", unique=True)
    supplier: str
    contract_no: str = Field(unique=True)
    signed_on: date
    total: Decimal = Field(sa_type=Money)
    differences: list[str] = _json_list()  # Chinese, one per difference from the approved request
    explanation: str | None = None  # why the contract differs
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)


class OrderItem(SQLModel, table=True):
    """One contracted line (合同设备配置清单)."""

    __tablename__ = "procurement_order_item"
    __table_args__ = (UniqueConstraint("order_id", "line", name="uq_procurement_order_line"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="procurement_order.id", index=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    line: int
    request_line: int | None = None  # None: not in the approved request
    name: str
    category: str
    model: str
    specification: str
    quantity: int
    unit_price: Decimal = Field(sa_type=Money)
    configuration: list[str] = _json_list()
    difference: str | None = None  # Chinese; None when the line matches the approved request


class Acceptance(SQLModel, table=True):
    """The acceptance record (验收记录) of one order, signed off by the IT centre."""

    __tablename__ = "procurement_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", unique=True)
    status: AcceptanceStatus = AcceptanceStatus.open
    signed_off_by: str | None = None
    signed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AcceptanceCheck(SQLModel, table=True):
    """One check of delivered units of one contracted line: conforming, or nonconforming with the reason."""

    __tablename__ = "procurement_check"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    order_item_id: int = Field(foreign_key="procurement_order_item.id", index=True)
    quantity: int
    conforming: bool
    reason: str | None = None
    replacement_for: int | None = None  # the ReturnRecord this check examines
    checked_by: str
    checked_at: datetime = Field(sa_type=UTCDateTime)


class ReturnRecord(SQLModel, table=True):
    """A return/exchange (退换) opened by a nonconforming check; closed when the replacement conforms."""

    __tablename__ = "procurement_return"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    order_item_id: int = Field(foreign_key="procurement_order_item.id", index=True)
    check_id: int = Field(foreign_key="procurement_check.id")
    quantity: int
    reason: str
    status: ReturnStatus = ReturnStatus.open
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- ledger: fixed assets and warehouse ---------------------------------------------------------------------


class AssetRecord(SQLModel, table=True):
    """One unit in the fixed-asset ledger (固定资产台账)."""

    __tablename__ = "procurement_asset"

    id: int | None = Field(default=None, primary_key=True)
    tag: str = Field(unique=True, index=True)  # 资产编号
    case_id: str | None = Field(default=None, foreign_key="procurement_case.id", index=True)
    order_item_id: int | None = Field(default=None, foreign_key="procurement_order_item.id", index=True)
    category: str
    name: str
    model: str
    configuration: list[str] = _json_list()
    custodian: str  # person id (保管人)
    location: str
    value: Decimal = Field(sa_type=Money)
    seal_no: str | None = None  # 封记
    missing: list[str] = _json_list()  # configuration parts found missing at the last inventory
    registered_by: str
    registered_at: datetime = Field(sa_type=UTCDateTime)
    last_inventory_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WarehouseEntry(SQLModel, table=True):
    """A warehouse receipt (入库单) for consumables."""

    __tablename__ = "procurement_warehouse_entry"

    id: int | None = Field(default=None, primary_key=True)
    entry_no: str = Field(unique=True)  # RK-2025-0001
    case_id: str | None = Field(default=None, foreign_key="procurement_case.id", index=True)
    order_item_id: int | None = Field(default=None, foreign_key="procurement_order_item.id", index=True)
    quantity: int
    unit_price: Decimal = Field(sa_type=Money)
    amount: Decimal = Field(sa_type=Money)
    location: str
    entered_by: str
    entered_at: datetime = Field(sa_type=UTCDateTime)


class InventoryTask(SQLModel, table=True):
    """A 清查 task: after a reallocation, check configuration completeness and seal, then update the ledger."""

    __tablename__ = "procurement_inventory_task"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="procurement_asset.id", index=True)
    reason: str
    from_custodian: str
    from_location: str
    to_custodian: str
    to_location: str
    status: TaskStatus = Field(default=TaskStatus.open, index=True)
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    done_by: str | None = None
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    configuration_complete: bool | None = None
    missing: list[str] = _json_list()
    seal_no: str | None = None
    note: str | None = None


# --- reimbursement ------------------------------------------------------------------------------------------


class Claim(SQLModel, table=True):
    """An accepted reimbursement claim (报账); refused attempts are events, not claims."""

    __tablename__ = "procurement_claim"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    claimant: str
    amount: Decimal = Field(sa_type=Money)
    status: ClaimStatus = ClaimStatus.pending
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_by: str | None = None
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment_ref: str | None = None


class Invoice(SQLModel, table=True):
    """One invoice attached to a claim. ``amount`` is 金额 (without tax), ``tax`` 税额; total = 价税合计."""

    __tablename__ = "procurement_invoice"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="procurement_claim.id", index=True)
    case_id: str = Field(foreign_key="procurement_case.id", index=True)
    kind: InvoiceKind
    code: str  # 发票代码 ("" for 数电发票 whose 20-digit number has none)
    number: str = Field(index=True)  # 发票号码
    issued_on: date
    amount: Decimal = Field(sa_type=Money)
    tax: Decimal = Field(sa_type=Money)
