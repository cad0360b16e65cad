"""Warehouse entry (入库) or fixed-asset registration (转固定资产) by the IT centre (§24): nothing accepted
stays unregistered, and only a fully registered order may be reimbursed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from models.procurement import (
    AssetRecord,
    OrderItem,
    PurchaseCase,
    Registration,
    Stage,
    WarehouseEntry,
)
from zhidu.directory import Directory
from zhidu.procurement.acceptance import line_state
from zhidu.procurement.case import (
    config_or_default,
    directory_or_default,
    get_case,
    next_number,
    now_or,
    order_items,
    order_line,
    record,
    require_stage,
    set_stage,
)
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.schemas import ProcurementError, item_label
from zhidu.templating import money

REGISTRATION_LABELS = {Registration.fixed_asset: "转固定资产", Registration.warehouse: "入库"}


def registered_quantity(session: Session, item_id: int) -> int:
    """Units of one contracted line in the asset ledger or the warehouse."""
    assets = session.exec(
        select(func.count()).select_from(AssetRecord).where(AssetRecord.order_item_id == item_id)
    ).one()
    stored = session.exec(
        select(func.coalesce(func.sum(WarehouseEntry.quantity), 0)).where(WarehouseEntry.order_item_id == item_id)
    ).one()
    return int(assets) + int(stored)


@dataclass(frozen=True)
class Unregistered:
    """Accepted units of one line not yet in the warehouse or the ledger."""

    case_id: str
    number: str
    line: int
    name: str
    registration: Registration | None
    accepted: int
    registered: int

    @property
    def missing(self) -> int:
        return self.accepted - self.registered

    def describe(self) -> str:
        how = REGISTRATION_LABELS[self.registration] if self.registration else "入库或转固定资产"
        return (f"{item_label(self.line, self.name)}：已验收 {self.accepted} 件，已登记 {self.registered} 件，"
                f"尚有 {self.missing} 件未{how}")  # fmt: skip


def unregistered(
    *, session: Session, case_id: str | None = None, config: ProcurementConfig | None = None
) -> list[Unregistered]:
    """Every accepted but unregistered line (of one case, or of all cases)."""
    cfg = config_or_default(config)
    stmt = select(OrderItem, PurchaseCase).join(PurchaseCase, col(PurchaseCase.id) == col(OrderItem.case_id))
    if case_id is not None:
        stmt = stmt.where(OrderItem.case_id == case_id)
    found: list[Unregistered] = []
    for item, case in session.exec(stmt.order_by(col(PurchaseCase.number), col(OrderItem.line))):
        assert item.id is not None
        accepted, registered = line_state(session, item).accepted, registered_quantity(session, item.id)
        if accepted > registered:
            category = cfg.category(item.category)
            found.append(Unregistered(case.id, case.number, item.line, item.name,
                                      category.registration if category else None, accepted, registered))  # fmt: skip
    return found


def _room(session: Session, case: PurchaseCase, item: OrderItem, quantity: int, want: Registration,
          cfg: ProcurementConfig) -> list[str]:  # fmt: skip
    assert item.id is not None
    where = item_label(item.line, item.name)
    reasons: list[str] = []
    category = cfg.category(item.category)
    if category is not None and category.registration is not want:
        reasons.append(f"{where}：类别「{category.name}」应{REGISTRATION_LABELS[category.registration]}，"
                       f"不能{REGISTRATION_LABELS[want]}")  # fmt: skip
    if quantity <= 0:
        reasons.append(f"{where}：数量须为正整数")
    room = line_state(session, item).accepted - registered_quantity(session, item.id)
    if quantity > room:
        reasons.append(f"{where}：登记数量 {quantity} 超过已验收未登记数量 {room}")
    return reasons


def _after_registration(session: Session, case: PurchaseCase, at: datetime, cfg: ProcurementConfig) -> None:
    session.flush()
    if not unregistered(session=session, case_id=case.id, config=cfg):
        total = sum(i.quantity for i in order_items(session, case.id))
        record(session, case, actor="system", action="registered_all", at=at,
               message=f"全部 {total} 件已入库或转固定资产，可持票据到财务部报账")  # fmt: skip
        set_stage(case, Stage.reimbursement, at, cfg)


def register_assets(
    *,
    session: Session,
    case_id: str,
    line: int,
    custodian: str,
    location: str,
    by: str,
    quantity: int = 1,
    seal_no: str | None = None,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
    directory: Directory | None = None,
) -> list[AssetRecord]:
    """Register ``quantity`` accepted units of line ``line`` as fixed assets, one tag each (ZC-PC-2025-0001)."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.registration)
    item = order_line(session, case_id, line)
    reasons = _room(session, case, item, quantity, Registration.fixed_asset, cfg)
    if not any(p.id == custodian for p in dir_.people):
        reasons.append(f"保管人「{custodian}」不在通讯录中")
    if not location.strip():
        reasons.append("存放地点不能为空")
    if reasons:
        raise ProcurementError(reasons)
    assets: list[AssetRecord] = []
    for _ in range(quantity):
        tag = next_number(session, f"{cfg.asset_tag_prefix}-{item.category}", at.year, AssetRecord.tag)
        asset = AssetRecord(
            tag=tag, case_id=case_id, order_item_id=item.id, category=item.category, name=item.name,
            model=item.model, configuration=list(item.configuration), custodian=custodian, location=location,
            value=item.unit_price, seal_no=seal_no, registered_by=by, registered_at=at,
        )  # fmt: skip
        session.add(asset)
        session.flush()
        assets.append(asset)
    tags = "、".join(a.tag for a in assets)
    record(session, case, actor=by, action="asset_registered", at=at, data={"line": line, "tags": tags},
           message=f"{item_label(item.line, item.name)}：{quantity} 件转固定资产（{tags}），每件价值 "
                   f"{money(item.unit_price)}，保管人 {dir_.person(custodian).name}，地点 {location}")  # fmt: skip
    _after_registration(session, case, at, cfg)
    return assets


def enter_warehouse(
    *,
    session: Session,
    case_id: str,
    line: int,
    quantity: int,
    location: str,
    by: str,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> WarehouseEntry:
    """A warehouse receipt (入库单 RK-2025-0001) for accepted consumables of line ``line``."""
    cfg = config_or_default(config)
    at = now_or(at)
    case = get_case(session, case_id)
    require_stage(case, Stage.registration)
    item = order_line(session, case_id, line)
    reasons = _room(session, case, item, quantity, Registration.warehouse, cfg)
    if not location.strip():
        reasons.append("库位不能为空")
    if reasons:
        raise ProcurementError(reasons)
    entry = WarehouseEntry(
        entry_no=next_number(session, cfg.warehouse_prefix, at.year, WarehouseEntry.entry_no), case_id=case_id,
        order_item_id=item.id, quantity=quantity, unit_price=item.unit_price, amount=item.unit_price * quantity,
        location=location, entered_by=by, entered_at=at,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    record(session, case, actor=by, action="warehouse_entry", at=at, data={"line": line, "entry": entry.entry_no},
           message=f"{item_label(item.line, item.name)}：{quantity} 件入库（入库单 {entry.entry_no}），"
                   f"金额 {money(entry.amount)}，库位 {location}")  # fmt: skip
    _after_registration(session, case, at, cfg)
    return entry


def assets_of(*, session: Session, case_id: str) -> list[AssetRecord]:
    stmt = select(AssetRecord).where(AssetRecord.case_id == case_id).order_by(col(AssetRecord.tag))
    return list(session.exec(stmt))


def warehouse_entries_of(*, session: Session, case_id: str) -> list[WarehouseEntry]:
    stmt = select(WarehouseEntry).where(WarehouseEntry.case_id == case_id).order_by(col(WarehouseEntry.entry_no))
    return list(session.exec(stmt))
