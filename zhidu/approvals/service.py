"""Approval requests as plain functions: open a step (idempotent), decide it (atomic), read its state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.approval import (
    ApprovalAudit,
    ApprovalLink,
    ApprovalRequest,
    DecisionOutbox,
    Mode,
    Outcome,
    RequestStatus,
)
from zhidu.approvals.schemas import ApprovalSpec, Decision, EscalationLevel, Vote
from zhidu.settings import get_settings


def level_deadline(spec: ApprovalSpec, level: int, opened_at: datetime) -> datetime:
    """Level 0 keeps the flow's deadline; an escalation level counts its own time from when it opens."""
    if level == 0:
        return spec.deadline
    esc: EscalationLevel = spec.escalation[level - 1]
    from zhidu.workdays import get_calendar

    if esc.within_workdays is not None:
        return get_calendar().workday_deadline(opened_at, esc.within_workdays)
    return opened_at + timedelta(hours=esc.within_hours if esc.within_hours is not None else 24)


def find_request(*, session: Session, spec: ApprovalSpec, level: int) -> ApprovalRequest | None:
    stmt = select(ApprovalRequest).where(
        ApprovalRequest.process == spec.process,
        ApprovalRequest.case_id == spec.case_id,
        ApprovalRequest.step == spec.step,
        ApprovalRequest.level == level,
    )
    return session.exec(stmt).first()


def open_request(
    *, session: Session, spec: ApprovalSpec, level: int, flow_run_id: str | None, now: datetime
) -> ApprovalRequest:
    """The request for (process, case, step, level) with one link per approver; opening it twice is a no-op."""
    existing = find_request(session=session, spec=spec, level=level)
    if existing is not None:
        if flow_run_id and existing.flow_run_id != flow_run_id:
            existing.flow_run_id = flow_run_id
            session.add(existing)
            session.commit()
        return existing
    approvers, mode = spec.level_approvers(level)
    deadline = level_deadline(spec, level, now)
    grace = timedelta(hours=get_settings().link_grace_hours)
    remind_at = None
    if spec.remind_before_hours is not None:
        remind_at = max(now, deadline - timedelta(hours=spec.remind_before_hours))
    request = ApprovalRequest(
        process=spec.process, case_id=spec.case_id, step=spec.step, level=level, title=spec.title,
        mode=mode, deadline=deadline, remind_at=remind_at, expires_at=deadline + grace,
        flow_run_id=flow_run_id, spec=spec.model_dump(mode="json"), created_at=now,
    )
    try:
        session.add(request)
        session.flush()
        for person in {a.email: a for a in approvers}.values():
            session.add(ApprovalLink(request_id=request.id, approver_email=person.email,
                                     approver_name=person.name, expires_at=request.expires_at))
        session.commit()
    except IntegrityError:  # another process opened the same step at the same moment
        session.rollback()
        found = find_request(session=session, spec=spec, level=level)
        if found is None:
            raise
        return found
    return request


def links_of(*, session: Session, request_id: str) -> list[ApprovalLink]:
    stmt = select(ApprovalLink).where(ApprovalLink.request_id == request_id).order_by(col(ApprovalLink.approver_email))
    return list(session.exec(stmt).all())


class DecideStatus(StrEnum):
    decided = "decided"  # this click decided the step
    recorded = "recorded"  # all-mode: this approval is kept, others still to decide
    already_used = "already_used"
    closed = "closed"  # the step is no longer pending (decided by another, escalated, expired)
    expired = "expired"
    wrong_step = "wrong_step"
    invalid_input = "invalid_input"


@dataclass
class DecideResult:
    status: DecideStatus
    request: ApprovalRequest | None = None
    link: ApprovalLink | None = None
    outbox_id: int | None = None
    errors: list[str] = field(default_factory=list)


MAX_COMMENT_CHARS = 5000  # a comment or textarea field; a page never needs more, a 10 MB paste is refused
MAX_TEXT_CHARS = 500  # a one-line text field
# Control characters (NUL breaks PostgreSQL text) and bidirectional overrides (they make a page show other text
# than was typed); tab and newline stay.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """Typed text as it is kept: CRLF/CR as LF, control and bidi-override characters removed, outer spaces trimmed."""
    return _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def clean_input(spec: ApprovalSpec, comment: str, fields: dict[str, str]) -> tuple[str, dict[str, str], list[str]]:
    """The comment and the step's own fields, cleaned (fields the step does not declare are dropped), and the
    lengths that are refused, in Chinese."""
    errors = []
    comment = clean_text(comment)
    if len(comment) > MAX_COMMENT_CHARS:
        errors.append(f"「{spec.instructions_label}」过长：最多 {MAX_COMMENT_CHARS} 字，现有 {len(comment)} 字")
    kept = {f.name: clean_text(fields[f.name]) for f in spec.fields if f.name in fields}
    for f in spec.fields:
        limit = MAX_COMMENT_CHARS if f.kind == "textarea" else MAX_TEXT_CHARS
        if len(kept.get(f.name, "")) > limit:
            errors.append(f"「{f.label}」过长：最多 {limit} 字，现有 {len(kept[f.name])} 字")
    return comment, kept, errors


def validate_fields(spec: ApprovalSpec, outcome: Outcome, values: dict[str, str]) -> list[str]:
    """Missing required fields and choices that are not on the list, in Chinese."""
    errors = []
    for f in spec.fields:
        value = values.get(f.name, "").strip()
        needed = f.required and f.required_for in ("any", outcome.value)
        if needed and not value:
            errors.append(f"请填写「{f.label}」")
        if value and f.kind == "choice" and value not in f.choices:
            errors.append(f"「{f.label}」的取值无效：{value}")
    return errors


def lock_pending(session: Session, request_id: str) -> bool:
    """Take the request's row lock by a conditional write; False when it is no longer pending."""
    stmt = (
        update(ApprovalRequest)
        .where(col(ApprovalRequest.id) == request_id, col(ApprovalRequest.status) == RequestStatus.pending)
        .values(version=ApprovalRequest.version + 1)  # type: ignore[operator]
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def _final_outcome(mode: Mode, outcome: Outcome, links: list[ApprovalLink]) -> Outcome | None:
    if mode == Mode.any or outcome == Outcome.reject:
        return outcome
    return Outcome.approve if all(lk.decision == Outcome.approve for lk in links) else None


def decision_payload(request: ApprovalRequest, links: list[ApprovalLink], outcome: Outcome,
                     actor: ApprovalLink | None, now: datetime) -> dict[str, Any]:
    votes = [Vote(approver=lk.approver_email, name=lk.approver_name, outcome=lk.decision,
                  comment=lk.comment or "", fields=dict(lk.fields), at=lk.used_at)
             for lk in links if lk.decision and lk.used_at]
    decision = Decision(
        request_id=request.id, outcome=outcome, level=request.level,
        decided_by=actor.approver_email if actor else "system",
        decided_by_name=actor.approver_name if actor else "系统",
        comment=(actor.comment or "") if actor else "", fields=dict(actor.fields) if actor else {},
        decided_at=now, votes=votes,
    )
    return decision.model_dump(mode="json")


def close_request(*, session: Session, request: ApprovalRequest, outcome: Outcome,
                  actor: ApprovalLink | None, now: datetime) -> int:
    """Move a locked pending request to its final status and queue the decision for the flow."""
    links = links_of(session=session, request_id=request.id)
    status = {Outcome.approve: RequestStatus.approved, Outcome.reject: RequestStatus.rejected,
              Outcome.escalated: RequestStatus.escalated, Outcome.expired: RequestStatus.expired}[outcome]
    request.status = status
    request.decided_at = now
    request.decided_by = actor.approver_email if actor else "system"
    request.comment = actor.comment if actor else None
    session.add(request)
    outbox = DecisionOutbox(request_id=request.id, flow_run_id=request.flow_run_id,
                            payload=decision_payload(request, links, outcome, actor, now), next_attempt_at=now,
                            created_at=now)
    session.add(outbox)
    session.flush()
    assert outbox.id is not None
    return outbox.id


def decide(
    *, session: Session, link_id: str, request_id: str, outcome: Outcome, comment: str,
    fields: dict[str, str], ip: str | None, user_agent: str | None, now: datetime,
) -> DecideResult:
    """One approver's decision; pending → decided happens once, whatever arrives at the same moment."""
    link = session.get(ApprovalLink, link_id)
    if link is None or link.request_id != request_id:
        return DecideResult(DecideStatus.wrong_step)
    request = session.get(ApprovalRequest, request_id)
    assert request is not None
    spec = ApprovalSpec.model_validate(request.spec)
    comment, fields, errors = clean_input(spec, comment, fields)
    errors += validate_fields(spec, outcome, fields)
    if outcome not in (Outcome.approve, Outcome.reject):
        errors.append("无效的决定")
    if errors:
        return DecideResult(DecideStatus.invalid_input, request, link, errors=errors)
    if not lock_pending(session, request_id):
        session.rollback()
        session.refresh(request)
        session.refresh(link)
        status = DecideStatus.already_used if link.used_at else DecideStatus.closed
        return DecideResult(status, request, link)
    session.refresh(link)
    session.refresh(request)
    if link.used_at is not None:
        session.rollback()
        return DecideResult(DecideStatus.already_used, request, link)
    if now > link.expires_at:
        session.rollback()
        return DecideResult(DecideStatus.expired, request, link)
    link.used_at, link.decision, link.comment, link.fields = now, outcome, comment, fields
    session.add(link)
    session.add(ApprovalAudit(request_id=request.id, link_id=link.id, actor=link.approver_email,
                              action=outcome.value, comment=comment, ip=ip, user_agent=user_agent, at=now))
    session.flush()
    final = _final_outcome(request.mode, outcome, links_of(session=session, request_id=request.id))
    outbox_id = None
    if final is not None:
        outbox_id = close_request(session=session, request=request, outcome=final, actor=link, now=now)
    session.commit()
    return DecideResult(DecideStatus.decided if final else DecideStatus.recorded, request, link, outbox_id)


def decision_from_db(*, session: Session, request_id: str) -> Decision | None:
    """The decision already taken for a request, if any (a flow that wakes late reads it from here)."""
    row = session.exec(select(DecisionOutbox).where(DecisionOutbox.request_id == request_id)).first()
    return Decision.model_validate(row.payload) if row else None
