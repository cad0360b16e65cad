"""Input schemas of the procurement process and their validation, with reasons in Chinese naming item and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from models.procurement import InvoiceKind, ItemKind, Registration
from zhidu.procurement.config import ProcurementConfig
from zhidu.templating import money

CENT = Decimal("0.01")


class ProcurementError(ValueError):
    """A refused operation; ``reasons`` are Chinese, one per problem, all of them."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("；".join(self.reasons))


class StageError(ProcurementError):
    """The operation does not fit the stage the case is in."""


def _refuse_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("金额须为精确数值（Decimal 或字符串），不能是浮点数")
    return value


class ItemIn(BaseModel):
    """One requested or contracted line with its configuration list (配置清单)."""

    name: str
    category: str
    model: str
    specification: str
    quantity: int
    unit_price: Decimal
    configuration: list[str] = Field(default_factory=list)

    _price = field_validator("unit_price", mode="before")(_refuse_float)


class QuoteIn(BaseModel):
    """One supplier's offer for the whole request (比价)."""

    supplier: str
    amount: Decimal
    note: str = ""
    selected: bool = False

    _amount = field_validator("amount", mode="before")(_refuse_float)


class RequestIn(BaseModel):
    title: str
    need: str  # the plan or need served (§23)
    items: list[ItemIn]
    quotes: list[QuoteIn]
    comparison_note: str = ""


class OrderLineIn(ItemIn):
    request_line: int | None = None  # the approved request's line this contracted line delivers


class InvoiceIn(BaseModel):
    kind: InvoiceKind
    code: str
    number: str
    issued_on: date
    amount: Decimal  # 金额 (without tax)
    tax: Decimal  # 税额

    _money = field_validator("amount", "tax", mode="before")(_refuse_float)

    @property
    def total(self) -> Decimal:
        """价税合计."""
        return self.amount + self.tax


FIELD_LABELS = {
    "title": "标题", "need": "需求或计划", "items": "采购项目", "quotes": "供应商报价",
    "comparison_note": "比价说明", "name": "名称", "category": "类别", "model": "型号",
    "specification": "规格", "quantity": "数量", "unit_price": "单价", "configuration": "配置清单",
    "supplier": "供应商", "amount": "金额", "note": "备注", "selected": "是否选定", "kind": "票据类型",
    "code": "发票代码", "number": "发票号码", "issued_on": "开票日期", "tax": "税额", "request_line": "申请行号",
}  # fmt: skip


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"第{part + 1}{'项' if i and loc[i - 1] == 'items' else '条'}")
        else:
            parts.append(FIELD_LABELS.get(part, part))
    return " ".join(parts)


def parse_request(raw: dict[str, Any]) -> RequestIn:
    """A request from raw data (form, CLI, YAML); type errors become Chinese reasons naming the field."""
    try:
        return RequestIn.model_validate(raw)
    except ValidationError as exc:
        raise ProcurementError([f"{_where(tuple(e['loc']))}：格式不正确" for e in exc.errors()]) from exc


def _cents_problem(value: Decimal, label: str) -> str | None:
    try:
        if not value.is_finite():
            return f"{label}不是有效金额"
        if value <= 0:
            return f"{label}须大于零（现为 {value}）"
        if value != value.quantize(CENT):
            return f"{label} {value} 超过两位小数（精确到分）"
    except InvalidOperation:
        return f"{label}不是有效金额"
    return None


def request_total(items: list[ItemIn]) -> Decimal:
    """Σ quantity × unit price, exact."""
    return sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))


def item_label(line: int, name: str) -> str:
    return f"第{line}项「{name}」" if name.strip() else f"第{line}项"


def validate_items(items: list[ItemIn], config: ProcurementConfig) -> list[str]:
    """Reasons the lines are not acceptable; empty when they are."""
    if not items:
        return ["至少需要一项采购项目"]
    reasons: list[str] = []
    for n, item in enumerate(items, start=1):
        where = item_label(n, item.name)
        if not item.name.strip():
            reasons.append(f"{where}：名称不能为空")
        category = config.category(item.category)
        if category is None:
            reasons.append(f"{where}：类别「{item.category}」不存在，可选 {config.category_names()}")
        if not item.model.strip():
            reasons.append(f"{where}：型号不能为空")
        if not item.specification.strip():
            reasons.append(f"{where}：规格不能为空")
        if item.quantity <= 0:
            reasons.append(f"{where}：数量须为正整数（现为 {item.quantity}）")
        problem = _cents_problem(item.unit_price, "单价")
        if problem:
            reasons.append(f"{where}：{problem}")
        if category and category.registration is Registration.fixed_asset and not item.configuration:
            reasons.append(f"{where}：配置清单不能为空（验收严格按配置清单执行）")
        if any(not c.strip() for c in item.configuration):
            reasons.append(f"{where}：配置清单含空行")
    return reasons


def request_kind(items: list[ItemIn], config: ProcurementConfig) -> ItemKind:
    """Hardware when any line is hardware (货比三家 applies), else software."""
    kinds = {c.kind for c in (config.category(i.category) for i in items) if c is not None}
    return ItemKind.hardware if ItemKind.hardware in kinds or not kinds else ItemKind.software


def validate_request(data: RequestIn, config: ProcurementConfig) -> list[str]:
    """Every reason the request cannot be submitted, in Chinese; empty when it can."""
    reasons: list[str] = []
    if not data.title.strip():
        reasons.append("标题不能为空")
    if not data.need.strip():
        reasons.append("须说明本次采购依据的需求或计划（第二十三条：严格按需求或计划采购）")
    reasons += validate_items(data.items, config)
    total = request_total(data.items)
    kind = request_kind(data.items, config)
    minimum = config.min_quotes[kind]
    suppliers = [q.supplier.strip() for q in data.quotes]
    distinct = {s for s in suppliers if s}
    if len(distinct) < minimum:
        rule = "硬件采购须货比三家" if kind is ItemKind.hardware else "软件选型须多比较"
        reasons.append(f"{rule}：至少需要 {minimum} 家供应商报价，现有 {len(distinct)} 家")
    for n, q in enumerate(data.quotes, start=1):
        if not q.supplier.strip():
            reasons.append(f"第{n}条报价：供应商不能为空")
        elif suppliers.count(q.supplier.strip()) > 1 and suppliers.index(q.supplier.strip()) == n - 1:
            reasons.append(f"供应商「{q.supplier}」重复报价")
        problem = _cents_problem(q.amount, "报价金额")
        if problem:
            reasons.append(f"第{n}条报价「{q.supplier}」：{problem}")
    chosen = [q for q in data.quotes if q.selected]
    if data.quotes and not chosen:
        reasons.append("须选定一家供应商报价")
    elif len(chosen) > 1:
        reasons.append(f"只能选定一家供应商报价，现选定 {len(chosen)} 家")
    elif chosen and chosen[0].amount != total:
        diff = chosen[0].amount - total
        reasons.append(
            f"选定报价「{chosen[0].supplier}」金额 {money(chosen[0].amount)} 与申请合计 {money(total)} 不一致，"
            f"相差 {money(abs(diff))}"
        )
    if not data.comparison_note.strip():
        reasons.append("须填写比价说明（比较性价比、实用性、安全性及扩充性）")
    return reasons
