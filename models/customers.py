"""Suspicious-customer review (篇九, 人身保险客户信息真实性): policies, parties, agents, complaints and cases.

Identifying values (ID numbers, phones, accounts, addresses) are stored *normalised* so that detection (§7, §11)
is an index lookup; they are masked wherever people see them (``SuspiciousCasePublic.value_masked``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhidu.db import Money, UTCDateTime, utcnow


def new_batch_id() -> str:
    return uuid.uuid4().hex


class Role(StrEnum):
    holder = "holder"  # 投保人
    insured = "insured"  # 被保险人


class CaseKind(StrEnum):
    phone = "phone"  # same phone, different customers (§7)
    account = "account"  # same bank account, different customers (§7)
    agent_phone = "agent_phone"  # customer phone = an agent's phone (§11)
    agent_address = "agent_address"  # customer address = an agent's address (§11)


class CaseStatus(StrEnum):
    open = "open"  # listed, investigation due
    cleared = "cleared"  # 排除可疑, with evidence
    corrected = "corrected"  # data corrected, customer's signed confirmation
    confirmed_false = "confirmed_false"  # false data confirmed → sanctions (§14, §22)


CLOSED_STATUSES = frozenset({CaseStatus.cleared, CaseStatus.corrected, CaseStatus.confirmed_false})


# --- policies and parties ------------------------------------------------------------------------------------


class PolicyBase(SQLModel):
    policy_no: str = Field(unique=True, max_length=40)  # 保单号, the key
    product_code: str = Field(max_length=20)  # 险种代码
    term: int = 0  # 保险期间 (number of term_unit); 0 with unit L = whole life
    term_unit: str = Field(default="Y", max_length=1)  # Y years, M months, L whole life (终身)
    channel: str = Field(max_length=20)  # 销售渠道: 个人代理 / 银行保险 / 团险 …
    agent_code: str = Field(index=True, max_length=20)  # 业务员代码
    agency: str | None = Field(default=None, index=True, max_length=60)  # 代理机构
    sign_date: date  # 签单日期
    receipt_date: date | None = None  # 回执签收日期: the 犹豫期 starts the day after
    premium: Decimal | None = Field(default=None, sa_type=Money)  # 保费


class Policy(PolicyBase, table=True):
    __tablename__ = "cust_policy"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(index=True, max_length=32)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PolicyCreate(PolicyBase):
    pass


class PolicyPublic(PolicyBase):
    id: int
    batch_id: str
    entered_at: datetime


class PartyBase(SQLModel):
    role: Role
    name: str = Field(max_length=60)
    sex: str | None = Field(default=None, max_length=1)  # M / F
    birth_date: date | None = None
    id_type: str = Field(default="身份证", max_length=20)
    id_number: str | None = Field(default=None, max_length=40)  # normalised: 18 digits, upper-case X
    phone: str | None = Field(default=None, max_length=20)  # normalised: digits, no +86
    address: str | None = Field(default=None, max_length=200)  # normalised: no spaces or punctuation
    bank_account: str | None = Field(default=None, max_length=40)  # normalised: no spaces
    relation: str | None = Field(default=None, max_length=20)  # 与投保人关系


class Party(PartyBase, table=True):
    """A policyholder or insured on one policy; ``person_key`` says who the person is (see normalize.person_key)."""

    __tablename__ = "cust_party"
    __table_args__ = (
        Index("ix_cust_party_phone_person", "phone", "person_key"),
        Index("ix_cust_party_account_person", "bank_account", "person_key"),
        Index("ix_cust_party_id_number", "id_number"),
        Index("ix_cust_party_address", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="cust_policy.id", index=True)
    person_key: str = Field(max_length=80)


class PartyCreate(PartyBase):
    pass


class PartyPublic(PartyBase):
    id: int
    policy_id: int


# --- agents and complaints ------------------------------------------------------------------------------------


class AgentBase(SQLModel):
    code: str = Field(primary_key=True, max_length=20)  # 业务员代码
    name: str = Field(max_length=60)
    phone: str | None = Field(default=None, index=True, max_length=20)  # normalised
    address: str | None = Field(default=None, index=True, max_length=200)  # normalised
    team: str | None = Field(default=None, max_length=60)  # 所属团队
    channel: str | None = Field(default=None, max_length=20)
    agency: str | None = Field(default=None, max_length=60)  # 代理机构 (银保/兼业代理)
    id_number: str | None = Field(default=None, max_length=40)  # an agent insuring themself is not suspicious


class Agent(AgentBase, table=True):
    __tablename__ = "cust_agent"


class AgentCreate(AgentBase):
    pass


class AgentPublic(AgentBase):
    pass


class ComplaintBase(SQLModel):
    complaint_no: str = Field(unique=True, max_length=40)  # 投诉编号
    agent_code: str = Field(index=True, max_length=20)
    complaint_date: date
    verified: bool = False  # 经查实有销售误导
    summary: str | None = None


class Complaint(ComplaintBase, table=True):
    __tablename__ = "cust_complaint"

    id: int | None = Field(default=None, primary_key=True)


class ComplaintCreate(ComplaintBase):
    pass


class ComplaintPublic(ComplaintBase):
    id: int


# --- cases ----------------------------------------------------------------------------------------------------


class SuspiciousCaseBase(SQLModel):
    kind: CaseKind
    value: str = Field(max_length=200)  # the matched value, normalised; never shown unmasked
    status: CaseStatus = CaseStatus.open
    list_date: date  # the day the case was listed (or re-listed when it grew after closing)
    deadline: datetime = Field(sa_type=UTCDateTime)  # 3 working days / before the 犹豫期回访 (§7, §13)
    channel: str | None = Field(default=None, max_length=20)
    agent_code: str | None = Field(default=None, max_length=20)  # the agent matched (§11 kinds)


class SuspiciousCase(SuspiciousCaseBase, table=True):
    """One suspicious group: all parties sharing one value. A group that grows keeps its case."""

    __tablename__ = "cust_case"
    __table_args__ = (
        UniqueConstraint("kind", "value", name="uq_cust_case_kind_value"),
        Index("ix_cust_case_status_deadline", "status", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = None
    note: str | None = None  # investigation summary / evidence reference
    round: int = 1  # investigation round: +1 each time a closed case is re-opened because it grew
    flow_run_id: str | None = Field(default=None, max_length=40)  # the investigation run of the current round
    checked_by: str | None = None  # compliance (合规) who checked the result (§13)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SuspiciousCaseCreate(SuspiciousCaseBase):
    pass


class SuspiciousCasePublic(SuspiciousCaseBase):
    id: int
    value_masked: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    @classmethod
    def from_case(cls, case: SuspiciousCase) -> SuspiciousCasePublic:
        from zhidu.customers.display import mask_value

        data = case.model_dump()
        data["value_masked"] = mask_value(case.kind, case.value)
        data["value"] = data["value_masked"]
        return cls.model_validate(data)


class CaseMember(SQLModel, table=True):
    """A party (and its policy) in a case; ``outcome`` is set per member when the investigation ends."""

    __tablename__ = "cust_case_member"
    __table_args__ = (UniqueConstraint("case_id", "party_id", name="uq_cust_case_member"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cust_case.id", index=True)
    party_id: int = Field(foreign_key="cust_party.id", index=True)
    policy_id: int = Field(foreign_key="cust_policy.id", index=True)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: CaseStatus | None = None


class PolicyCorrection(SQLModel, table=True):
    """Audit trail of a corrected value: old and new (normalised), who, when, in which case, confirmation."""

    __tablename__ = "cust_policy_correction"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="cust_policy.id", index=True)
    party_id: int = Field(foreign_key="cust_party.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cust_case.id", index=True)
    field_name: str = Field(max_length=30)
    old_value: str | None = None
    new_value: str | None = None
    by: str
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmation: str  # the customer's signed confirmation (reference to the scanned form)


class ImportBatch(SQLModel, table=True):
    """One import run and its reconciled counts."""

    __tablename__ = "cust_import_batch"

    id: str = Field(default_factory=new_batch_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=20)  # policies / agents / complaints
    file_name: str
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    warned: int = 0


class DetectionRun(SQLModel, table=True):
    """One detection run (daily T+1 or full re-scan): the policies it covered and what it found.

    The daily run checks every policy with ``id`` above the last daily run's ``up_to_policy_id`` that was entered
    before the run's local day, so a holiday, a weekend or a failed run leaves nothing unchecked.
    """

    __tablename__ = "cust_detection_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10, index=True)  # daily / full
    run_date: date  # local day of the run (the list date)
    from_policy_id: int = 0  # exclusive
    up_to_policy_id: int = 0  # inclusive
    checked_parties: int = 0
    new_cases: int = 0
    grown_cases: int = 0
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
