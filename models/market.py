"""Market information (市场信息, 篇四 §9–§16) and its reports (周报/月报/季报/即时报告), archive and forms (篇七)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Dialect, Numeric, String, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from zhidu.db import Money, UTCDateTime, utcnow


class Quantity(TypeDecorator[Decimal]):
    """A volume stored exactly: NUMERIC without scale on PostgreSQL, text on SQLite (like ``Money``)."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("quantities must be Decimal, not float")
        dec = Decimal(value)
        return str(dec) if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def new_id() -> str:
    return uuid.uuid4().hex


class PriceType(StrEnum):
    spot = "spot"  # 现货价 (RMB spot)
    list = "list"  # 挂牌价 (producer's list price)
    settlement = "settlement"  # 结算价
    usd_cargo = "usd_cargo"  # 美元船货价 (USD cargo)


PRICE_TYPE_LABELS: dict[PriceType, str] = {
    PriceType.spot: "现货价",
    PriceType.list: "挂牌价",
    PriceType.settlement: "结算价",
    PriceType.usd_cargo: "美元船货价",
}


class Secrecy(StrEnum):
    """保密等级, lowest first (篇四 §16)."""

    public = "public"  # 公开
    internal = "internal"  # 内部
    secret = "secret"  # 秘密
    confidential = "confidential"  # 机密


SECRECY_LABELS: dict[Secrecy, str] = {
    Secrecy.public: "公开",
    Secrecy.internal: "内部",
    Secrecy.secret: "秘密",
    Secrecy.confidential: "机密",
}
SECRECY_RANK: dict[Secrecy, int] = {level: rank for rank, level in enumerate(Secrecy)}


class ReportKind(StrEnum):
    weekly = "weekly"  # 周报
    monthly = "monthly"  # 月报
    quarterly = "quarterly"  # 季报
    immediate = "immediate"  # 不定期（即时）上报


REPORT_KIND_LABELS: dict[ReportKind, str] = {
    ReportKind.weekly: "市场信息周报",
    ReportKind.monthly: "市场信息月报",
    ReportKind.quarterly: "市场信息季报",
    ReportKind.immediate: "市场信息即时报告",
}


class ReportStatus(StrEnum):
    draft = "draft"  # 草稿
    in_review = "in_review"  # 已上报主管副总经理，待批示
    distributed = "distributed"  # 批示已下达


class Importance(StrEnum):
    normal = "normal"  # 一般
    important = "important"  # 重要
    critical = "critical"  # 重大


IMPORTANCE_LABELS: dict[Importance, str] = {
    Importance.normal: "一般",
    Importance.important: "重要",
    Importance.critical: "重大",
}


class FormType(StrEnum):
    sales_feedback = "sales_feedback"  # 销售信息反馈表 (weekly / monthly / quarterly)
    customer_opinion = "customer_opinion"  # 顾客意见征询表 (quarterly)
    return_visit = "return_visit"  # 客户回访征询表 (quarterly)


# --- market information entries -------------------------------------------------------------------------------


class MarketEntryBase(SQLModel):
    entry_date: date = Field(index=True)
    region: str = Field(index=True, max_length=40)
    product: str = Field(index=True, max_length=60)
    category: str = Field(default="", max_length=60)
    price_type: PriceType = PriceType.spot
    price: Decimal | None = Field(default=None, sa_type=Money)
    currency: str = Field(default="CNY", max_length=3)
    unit: str = Field(default="吨", max_length=20)
    volume: Decimal | None = Field(default=None, sa_type=Quantity)
    competitor: str = Field(default="", max_length=60)  # empty: the company's own figure (本公司)
    channel: str = Field(default="", max_length=60)
    source: str = Field(default="", max_length=60)
    content: str = Field(default="", sa_type=Text)
    reporter: str = Field(default="", max_length=60)
    secrecy: Secrecy = Secrecy.internal


class MarketEntry(MarketEntryBase, table=True):
    """One piece of market information (价格、销量、竞争对手动态…) as reported."""

    __tablename__ = "market_entry"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MarketEntryCreate(MarketEntryBase):
    pass


class MarketEntryPublic(MarketEntryBase):
    id: int
    created_at: datetime


# --- forms (篇七 §二) -------------------------------------------------------------------------------------------


class MarketFormBase(SQLModel):
    form_type: FormType = Field(index=True)
    period_label: str = Field(index=True, max_length=20)  # e.g. 2026-W05, 2026-03, 2026-Q1
    submitted_on: date
    reporter: str = Field(max_length=60)
    region: str = Field(default="", max_length=40)
    customer: str = Field(default="", max_length=120)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrecy: Secrecy = Secrecy.internal


class MarketForm(MarketFormBase, table=True):
    """One filled-in form: 销售信息反馈表, 顾客意见征询表 or 客户回访征询表."""

    __tablename__ = "market_form"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MarketFormCreate(MarketFormBase):
    pass


class MarketFormPublic(MarketFormBase):
    id: int
    created_at: datetime


# --- reports and the archive (篇四 §15–§16) ------------------------------------------------------------------------


class MarketReportRecordBase(SQLModel):
    kind: ReportKind = Field(index=True)
    label: str = Field(max_length=80)  # period label (2026-W48) or the immediate report's key
    title: str = ""
    period_start: date | None = None
    period_end: date | None = None
    importance: Importance = Importance.normal
    secrecy: Secrecy = Secrecy.internal


class MarketReportRecord(MarketReportRecordBase, table=True):
    """One report, claimed once per (kind, label): re-runs find the row instead of sending again."""

    __tablename__ = "market_report"
    __table_args__ = (UniqueConstraint("kind", "label", name="uq_market_report_kind_label"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    status: ReportStatus = Field(default=ReportStatus.draft, index=True)
    body_md: str = Field(default="", sa_type=Text)  # the archived report text (markdown)
    trigger: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    filed_by: str | None = None
    instruction: str | None = Field(default=None, sa_type=Text)  # 批示
    approver: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    instructed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    distributed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MarketReportCreate(MarketReportRecordBase):
    pass


class MarketReportPublic(MarketReportRecordBase):
    id: str
    status: ReportStatus
    instruction: str | None
    approver: str | None
    created_at: datetime
    distributed_at: datetime | None


class MarketReportRead(SQLModel, table=True):
    """Every attempt to read an archived report, allowed or refused (篇四 §16 借阅记录)."""

    __tablename__ = "market_report_read"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(foreign_key="market_report.id", index=True)
    reader_id: str
    reader_level: Secrecy
    allowed: bool
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MarketReportLoan(SQLModel, table=True):
    """A loan of an archived report: 借阅信息名称、借阅时间、借阅人员、借阅目的、借阅场所、归还时间."""

    __tablename__ = "market_report_loan"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(foreign_key="market_report.id", index=True)
    report_title: str
    borrower_id: str
    purpose: str
    place: str = ""
    borrowed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_back: date | None = None
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
