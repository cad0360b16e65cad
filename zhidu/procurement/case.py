"""The purchase case: lookup, stage changes with working-day due dates (SLA), and the history (events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from models.procurement import (
    STAGE_LABELS,
    CaseEvent,
    OrderItem,
    PurchaseCase,
    PurchaseOrder,
    RequestItem,
    RequestVersion,
    Stage,
)
from zhidu.db import utcnow
from zhidu.directory import Directory, load_directory
from zhidu.procurement.config import ProcurementConfig, load_config
from zhidu.procurement.schemas import StageError
from zhidu.workdays import get_calendar

PROCESS = "procurement"


def config_or_default(config: ProcurementConfig | None) -> ProcurementConfig:
    return config if config is not None else load_config()


def directory_or_default(directory: Directory | None) -> Directory:
    return directory if directory is not None else load_directory(PROCESS)


def now_or(at: datetime | None) -> datetime:
    """``at`` (must be aware) or the current instant."""
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass an aware instant")
    return at


def get_case(session: Session, case_id: str) -> PurchaseCase:
    case = session.get(PurchaseCase, case_id)
    if case is None:
        raise KeyError(f"no purchase case {case_id!r}")
    return case


def require_stage(case: PurchaseCase, *stages: Stage) -> None:
    if case.stage not in stages:
        wanted = "、".join(STAGE_LABELS[s] for s in stages)
        here = STAGE_LABELS[case.stage]
        raise StageError([f"采购 {case.number} 处于「{here}」阶段，此操作只能在「{wanted}」阶段进行"])


def stage_due(stage: Stage, start: datetime, config: ProcurementConfig) -> datetime | None:
    """End of the stage's SLA in working days (official calendar), or None for the final stage."""
    days = config.sla_workdays.get(stage)
    return None if days is None else get_calendar().workday_deadline(start, days)


def set_stage(case: PurchaseCase, stage: Stage, at: datetime, config: ProcurementConfig) -> None:
    """Move the case to ``stage`` from ``at``; its due date restarts (no-op when already there)."""
    if case.stage == stage:
        return
    case.stage = stage
    case.stage_started_at = at
    case.stage_due_at = stage_due(stage, at, config)
    case.closed_at = at if stage is Stage.paid else None


def record(
    session: Session,
    case: PurchaseCase,
    *,
    actor: str,
    action: str,
    message: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event to the case history, at the case's current stage."""
    event = CaseEvent(
        case_id=case.id, at=at, actor=actor, action=action, stage=case.stage, message=message, data=data or {}
    )
    session.add(event)
    session.flush()
    return event


def history(*, session: Session, case_id: str) -> list[CaseEvent]:
    """The case's events, oldest first."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.at), col(CaseEvent.id))
    return list(session.exec(stmt))


def next_number(session: Session, prefix: str, year: int, column: Any) -> str:
    """``PREFIX-YEAR-0001``: one more than the highest number of that prefix and year in ``column``."""
    head = f"{prefix}-{year}-"
    highest = session.exec(select(func.max(column)).where(column.like(f"{head}%"))).one()
    seq = int(str(highest).rsplit("-", 1)[1]) + 1 if highest else 1
    return f"{head}{seq:04d}"


def current_version(session: Session, case: PurchaseCase) -> RequestVersion:
    stmt = select(RequestVersion).where(
        RequestVersion.case_id == case.id, RequestVersion.version == case.current_version
    )
    return session.exec(stmt).one()


def version_items(session: Session, version: RequestVersion) -> list[RequestItem]:
    stmt = select(RequestItem).where(RequestItem.version_id == version.id).order_by(col(RequestItem.line))
    return list(session.exec(stmt))


def case_order(session: Session, case_id: str) -> PurchaseOrder | None:
    return session.exec(select(PurchaseOrder).where(PurchaseOrder.case_id == case_id)).first()


def order_items(session: Session, case_id: str) -> list[OrderItem]:
    stmt = select(OrderItem).where(OrderItem.case_id == case_id).order_by(col(OrderItem.line))
    return list(session.exec(stmt))


def order_line(session: Session, case_id: str, line: int) -> OrderItem:
    item = session.exec(select(OrderItem).where(OrderItem.case_id == case_id, OrderItem.line == line)).first()
    if item is None:
        raise StageError([f"合同中没有第{line}项"])
    return item
