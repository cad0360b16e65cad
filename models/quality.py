"""Quality information (质量信息, 篇五): the register of items, their class, decisions and execution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from zhidu.db import UTCDateTime, utcnow


class Source(StrEnum):
    inside = "inside"  # 内部
    outside = "outside"  # 外部


class QClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ItemStatus(StrEnum):
    open = "open"  # 待决策
    executing = "executing"  # 执行中
    closed = "closed"  # 已办结
    rejected = "rejected"  # 决定不予处理


class QualityItemBase(SQLModel):
    source: Source
    kind: str
    title: str
    description: str
    departments: list[str] = Field(sa_column=Column(JSON, nullable=False))
    reporter: str
    abnormal: bool = False  # 异常
    sudden_major: bool = False  # 突发重大


class QualityItemCreate(QualityItemBase):
    pass


class QualityItem(QualityItemBase, table=True):
    """One item in the quality-information register."""

    __tablename__ = "quality_item"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    qclass: QClass
    class_rule: str  # the decision-table rule that matched, or "manual"
    override_by: str | None = None
    override_reason: str | None = None
    status: ItemStatus = Field(default=ItemStatus.open, index=True)
    owner: str  # the department code that owns the item now
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback_due: datetime | None = Field(default=None, sa_type=UTCDateTime)  # 24 h written feedback (§9)
    feedback_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_due: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    flow_run_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QualityItemPublic(QualityItemBase):
    number: str
    qclass: QClass
    status: ItemStatus
    owner: str
    created_at: datetime


class QualityExecution(SQLModel, table=True):
    """An executing department's confirmation (执行确认) or a C-class result report."""

    __tablename__ = "quality_execution"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="quality_item.id", index=True)
    department: str
    confirmed_by: str | None = None
    result: str | None = None
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
