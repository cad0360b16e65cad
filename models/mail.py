"""Sent mail keyed by an idempotency key, so that one logical email is sent at most once (see zhidu.mail)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from zhidu.db import UTCDateTime, utcnow


class SentMailStatus(StrEnum):
    sending = "sending"  # claimed by a sender; stale after zhidu.mail.sending_stale_after()
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"  # the SMTP call raised; the next call with the same key sends again


class SentMailBase(SQLModel):
    idempotency_key: str = Field(max_length=255, unique=True, index=True)
    message_id: str = Field(max_length=255)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str  # already masked
    template: str


class SentMail(SentMailBase, table=True):
    """One email per idempotency key; the unique key is the claim that makes concurrent senders send once."""

    __tablename__ = "sent_mail"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True)
    status: SentMailStatus = Field(default=SentMailStatus.sending, index=True)
    attempts: int = 1
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SentMailPublic(SentMailBase):
    id: str
    status: SentMailStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
