"""Inventory (清查, §22): after an asset is reallocated (调配) — or on a periodic check — someone checks the
configuration is complete and the seal (封记) is in place; completing the task updates the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from models.procurement import AssetRecord, InventoryTask, TaskStatus
from zhidu.directory import Directory
from zhidu.procurement.case import config_or_default, directory_or_default, get_case, now_or, record
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.schemas import ProcurementError
from zhidu.workdays import get_calendar


def asset_by_tag(session: Session, tag: str) -> AssetRecord:
    asset = session.exec(select(AssetRecord).where(AssetRecord.tag == tag)).first()
    if asset is None:
        raise ProcurementError([f"资产台账中没有资产编号「{tag}」"])
    return asset


def _open_task(session: Session, asset_id: int) -> InventoryTask | None:
    stmt = select(InventoryTask).where(InventoryTask.asset_id == asset_id, InventoryTask.status == TaskStatus.open)
    return session.exec(stmt).first()


def _new_task(session: Session, asset: AssetRecord, *, custodian: str, location: str, reason: str, by: str,
              at: datetime, cfg: ProcurementConfig) -> InventoryTask:  # fmt: skip
    assert asset.id is not None
    if _open_task(session, asset.id) is not None:
        raise ProcurementError([f"资产「{asset.tag}」已有未完成的清查任务"])
    task = InventoryTask(
        asset_id=asset.id, reason=reason, from_custodian=asset.custodian, from_location=asset.location,
        to_custodian=custodian, to_location=location, created_by=by, created_at=at,
        due_at=get_calendar().workday_deadline(at, cfg.inventory_workdays),
    )  # fmt: skip
    session.add(task)
    session.flush()
    return task


def reallocate_asset(
    *,
    session: Session,
    tag: str,
    custodian: str,
    location: str,
    by: str,
    reason: str,
    at: datetime | None = None,
    config: ProcurementConfig | None = None,
    directory: Directory | None = None,
) -> InventoryTask:
    """Reallocate (调配) an asset to a new custodian/location: opens the inventory task that moves the ledger."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    at = now_or(at)
    asset = asset_by_tag(session, tag)
    reasons: list[str] = []
    if not any(p.id == custodian for p in dir_.people):
        reasons.append(f"新保管人「{custodian}」不在通讯录中")
    if not location.strip():
        reasons.append("新存放地点不能为空")
    if custodian == asset.custodian and location == asset.location:
        reasons.append(f"资产「{tag}」的保管人和地点均未改变")
    if not reason.strip():
        reasons.append("须说明调配原因")
    if reasons:
        raise ProcurementError(reasons)
    return _new_task(session, asset, custodian=custodian, location=location, reason=f"调配：{reason}", by=by,
                     at=at, cfg=cfg)  # fmt: skip


def schedule_inventory(
    *, session: Session, tags: list[str], by: str, reason: str, at: datetime | None = None,
    config: ProcurementConfig | None = None,
) -> list[InventoryTask]:  # fmt: skip
    """A periodic inventory (定期清查) of the given assets where they are."""
    cfg = config_or_default(config)
    at = now_or(at)
    assets = [asset_by_tag(session, t) for t in tags]
    return [_new_task(session, a, custodian=a.custodian, location=a.location, reason=f"定期清查：{reason}",
                      by=by, at=at, cfg=cfg) for a in assets]  # fmt: skip


def open_inventory_tasks(*, session: Session) -> list[InventoryTask]:
    """The inventory task list: open tasks, earliest due first."""
    stmt = select(InventoryTask).where(InventoryTask.status == TaskStatus.open)
    return list(session.exec(stmt.order_by(col(InventoryTask.due_at), col(InventoryTask.id))))


def complete_inventory(
    *,
    session: Session,
    task_id: int,
    by: str,
    configuration_complete: bool,
    seal_no: str,
    missing: list[str] | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AssetRecord:
    """Record the check and update the ledger: custodian, location, seal, missing parts, last inventory."""
    at = now_or(at)
    task = session.get(InventoryTask, task_id)
    if task is None or task.status is not TaskStatus.open:
        raise ProcurementError([f"没有未完成的清查任务 {task_id}"])
    asset = session.get(AssetRecord, task.asset_id)
    assert asset is not None
    missing = [m for m in (missing or []) if m.strip()]
    reasons: list[str] = []
    if not seal_no.strip():
        reasons.append(f"资产「{asset.tag}」：须作好封记并填写封记号")
    if not configuration_complete and not missing:
        reasons.append(f"资产「{asset.tag}」：配置不完整时须列出缺少的部件")
    if configuration_complete and missing:
        reasons.append(f"资产「{asset.tag}」：配置完整却列出了缺少的部件")
    unknown = [m for m in missing if m not in asset.configuration]
    if unknown:
        reasons.append(f"资产「{asset.tag}」：「{'、'.join(unknown)}」不在台账配置清单中")
    if reasons:
        raise ProcurementError(reasons)
    task.status, task.done_by, task.done_at = TaskStatus.done, by, at
    task.configuration_complete, task.missing, task.seal_no, task.note = configuration_complete, missing, seal_no, note
    asset.custodian, asset.location = task.to_custodian, task.to_location
    asset.seal_no, asset.missing, asset.last_inventory_at = seal_no, missing, at
    if asset.case_id is not None:
        found = "配置完整" if configuration_complete else f"缺少「{'、'.join(missing)}」"
        record(session, get_case(session, asset.case_id), actor=by, action="inventory", at=at,
               data={"tag": asset.tag, "task": task_id},
               message=f"资产「{asset.tag}」清查完成：{found}，封记 {seal_no}，"
                       f"现保管人 {asset.custodian}，地点 {asset.location}")  # fmt: skip
    session.flush()
    return asset
