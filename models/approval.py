"""The approval step (审批) shared by every process: requests, per-approver links, audit, page views, outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhidu.db import UTCDateTime, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    escalated = "escalated"  # superseded by the next level after its deadline
    expired = "expired"  # last level, unanswered past the links' grace period


class Mode(StrEnum):
    any = "any"  # the first approver's decision decides
    all = "all"  # every approver must approve; one rejection ends the step


class Outcome(StrEnum):
    approve = "approve"
    reject = "reject"
    escalated = "escalated"
    expired = "expired"


class ApprovalRequestBase(SQLModel):
    process: str = Field(index=True)
    case_id: str = Field(index=True)
    step: str
    level: int = 0
    title: str
    mode: Mode = Mode.any
    deadline: datetime = Field(sa_type=UTCDateTime)
    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ApprovalRequest(ApprovalRequestBase, table=True):
    """One approval step at one escalation level; pending → decided happens exactly once."""

    __tablename__ = "approval_request"
    __table_args__ = (
        UniqueConstraint("process", "case_id", "step", "level", name="uq_approval_step_level"),
        Index("ix_approval_request_status_deadline", "status", "deadline"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    status: RequestStatus = Field(default=RequestStatus.pending, index=True)
    flow_run_id: str | None = Field(default=None, index=True)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = None
    comment: str | None = None
    version: int = 0


class ApprovalLink(SQLModel, table=True):
    """One approver's single-use link for one request."""

    __tablename__ = "approval_link"
    __table_args__ = (UniqueConstraint("request_id", "approver_email", name="uq_link_request_approver"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    request_id: str = Field(foreign_key="approval_request.id", index=True)
    approver_email: str
    approver_name: str
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: Outcome | None = None
    comment: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ApprovalAudit(SQLModel, table=True):
    """Who decided what, when, from where (kept with the decision)."""

    __tablename__ = "approval_audit"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True)
    link_id: str | None = Field(default=None, index=True)
    actor: str
    action: str  # approve / reject / escalated / expired / reminder
    comment: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PageView(SQLModel, table=True):
    """A GET or HEAD of an approval link: recorded apart from decisions, changes nothing."""

    __tablename__ = "approval_page_view"

    id: int | None = Field(default=None, primary_key=True)
    link_id: str | None = Field(default=None, index=True)
    method: str
    ip: str | None = None
    user_agent: str | None = None
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"  # the flow run ended before it could take the decision


class DecisionOutbox(SQLModel, table=True):
    """'Deliver this decision to that flow run': written in the deciding transaction, retried until taken."""

    __tablename__ = "approval_outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(unique=True)
    flow_run_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: OutboxStatus = OutboxStatus.pending
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
