"""The sweeper: reminders before a deadline, escalation at it, expiry after the grace, and outbox delivery."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.approval import ApprovalAudit, ApprovalRequest, Outcome, RequestStatus
from zhidu.approvals.delivery import ResumeOutcome, Resumer, deliver_one, due_outbox_ids
from zhidu.approvals.notify import send_approval_mail
from zhidu.approvals.schemas import ApprovalSpec
from zhidu.approvals.service import close_request, links_of, lock_pending
from zhidu.db import get_engine

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    reminders_failed: list[str] = field(default_factory=list)  # tried again at the next pass


def _pending(session: Session, column: object, now: datetime) -> list[ApprovalRequest]:
    stmt = select(ApprovalRequest).where(ApprovalRequest.status == RequestStatus.pending, column <= now)  # type: ignore[operator]
    return list(session.exec(stmt).all())


def send_reminders(*, session: Session, now: datetime, failed: list[str] | None = None) -> list[str]:
    """Remind every approver who has not decided yet, once per request. A reminder that cannot be sent (SMTP down,
    an address refused) is logged, released for the next pass and does not stop the others (each mail has its own
    idempotency key, so those already sent are not sent again)."""
    done = []
    for request in _pending(session, ApprovalRequest.remind_at, now):
        claim = (
            update(ApprovalRequest)
            .where(col(ApprovalRequest.id) == request.id, col(ApprovalRequest.reminded_at).is_(None))
            .values(reminded_at=now)
        )
        if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            continue
        session.add(ApprovalAudit(request_id=request.id, actor="system", action="reminder", at=now))
        session.commit()
        errors = []
        for link in links_of(session=session, request_id=request.id):
            if link.used_at is None:
                try:
                    send_approval_mail(session=session, request=request, link=link, kind="reminder")
                except Exception as exc:  # noqa: BLE001 — any mail failure: keep sweeping, retry next pass
                    session.rollback()
                    errors.append(f"{link.approver_email}: {type(exc).__name__}: {exc}")
        if errors:
            session.execute(update(ApprovalRequest).where(col(ApprovalRequest.id) == request.id)
                            .values(reminded_at=None))
            session.commit()
            log.warning("reminder of %s not sent, retried next pass: %s", request.id, "; ".join(errors))
            if failed is not None:
                failed.append(request.id)
            continue
        done.append(request.id)
    return done


def close_overdue(*, session: Session, now: datetime) -> tuple[list[str], list[str]]:
    """Escalate requests past their deadline that have a next level; expire the rest past their grace."""
    escalated: list[str] = []
    expired: list[str] = []
    for request in _pending(session, ApprovalRequest.deadline, now):
        spec = ApprovalSpec.model_validate(request.spec)
        if request.level < len(spec.escalation):
            outcome = Outcome.escalated
        elif request.expires_at <= now:
            outcome = Outcome.expired
        else:
            continue
        if not lock_pending(session, request.id):
            session.rollback()
            continue
        session.refresh(request)
        close_request(session=session, request=request, outcome=outcome, actor=None, now=now)
        session.add(ApprovalAudit(request_id=request.id, actor="system", action=outcome.value, at=now))
        session.commit()
        (escalated if outcome == Outcome.escalated else expired).append(request.id)
    return escalated, expired


def sweep(*, now: datetime, resumer: Resumer) -> SweepReport:
    """One pass of everything time-driven in the approval mechanism."""
    report = SweepReport()
    with Session(get_engine(), expire_on_commit=False) as session:
        report.reminded = send_reminders(session=session, now=now, failed=report.reminders_failed)
        report.escalated, report.expired = close_overdue(session=session, now=now)
        ids = due_outbox_ids(session=session, now=now)
    for outbox_id in ids:
        outcome = deliver_one(outbox_id=outbox_id, resumer=resumer, now=now)
        if outcome == ResumeOutcome.delivered:
            report.delivered += 1
        elif outcome == ResumeOutcome.dead:
            report.dead += 1
        elif outcome == ResumeOutcome.retry:
            report.retrying += 1
    return report
