"""Report records: claimed exactly once per (kind, label), moved draft → in_review → distributed, archived with a
secrecy level (篇四 §16) whose every read and loan is logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.market import (
    REPORT_KIND_LABELS,
    SECRECY_LABELS,
    SECRECY_RANK,
    Importance,
    MarketReportLoan,
    MarketReportRead,
    MarketReportRecord,
    ReportKind,
    ReportStatus,
    Secrecy,
)
from zhidu.db import utcnow
from zhidu.directory import Person
from zhidu.market.effects import ImmediateTrigger
from zhidu.market.periods import Period

CLEARANCE_ROLE = "clearance:"  # a directory role like "clearance:secret" grants that level
DEFAULT_CLEARANCE = Secrecy.internal  # everyone in the directory is an insider (内部)

_NEXT: dict[ReportStatus, ReportStatus] = {
    ReportStatus.draft: ReportStatus.in_review,
    ReportStatus.in_review: ReportStatus.distributed,
}


class ReportAccessDenied(PermissionError):
    """The reader's clearance is below the report's secrecy level (the refusal is logged)."""


@dataclass(frozen=True)
class Reader:
    id: str
    name: str
    level: Secrecy


def reader_for(person: Person) -> Reader:
    """A directory person as a reader: the highest ``clearance:<level>`` role, else 内部."""
    levels = [DEFAULT_CLEARANCE]
    for role in person.roles:
        if role.startswith(CLEARANCE_ROLE):
            levels.append(Secrecy(role.removeprefix(CLEARANCE_ROLE)))
    return Reader(person.id, person.name, max(levels, key=SECRECY_RANK.__getitem__))


def can_read(reader_level: Secrecy | str, report_level: Secrecy | str) -> bool:
    """A reader may read reports at or below their own level (公开 < 内部 < 秘密 < 机密)."""
    return SECRECY_RANK[Secrecy(reader_level)] >= SECRECY_RANK[Secrecy(report_level)]


def claim_report(
    *,
    session: Session,
    kind: ReportKind | str,
    label: str,
    title: str | None = None,
    period: Period | None = None,
    importance: Importance = Importance.normal,
    secrecy: Secrecy = Secrecy.internal,
    trigger: dict[str, Any] | None = None,
    filed_by: str | None = None,
) -> tuple[MarketReportRecord, bool]:
    """(record, True) for the first claim of (kind, label); (the existing record, False) for every later one.

    Insert-first on the unique key inside a savepoint, so concurrent runs cannot both create it; the caller
    commits. A run that gets ``created=False`` sends nothing.
    """
    kind = ReportKind(kind)
    record = MarketReportRecord(
        kind=kind,
        label=label,
        title=title or f"{REPORT_KIND_LABELS[kind]} {label}",
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        importance=importance,
        secrecy=secrecy,
        trigger=trigger,
        filed_by=filed_by,
    )
    try:
        with session.begin_nested():
            session.add(record)
        return record, True
    except IntegrityError:
        pass
    existing = session.exec(
        select(MarketReportRecord).where(MarketReportRecord.kind == kind, MarketReportRecord.label == label)
    ).one()
    return existing, False


def advance(
    *,
    session: Session,
    report_id: str,
    to: ReportStatus,
    approver: str | None = None,
    instruction: str | None = None,
    body_md: str | None = None,
) -> bool:
    """Move a report one step (draft → in_review → distributed) with a conditional update; True only for the
    call that made the move, so a duplicate run cannot send the distribution mail twice."""
    expected = next((s for s, n in _NEXT.items() if n == to), None)
    if expected is None:
        raise ValueError(f"cannot move a report to {to}")
    now = utcnow()
    values: dict[str, Any] = {"status": to}
    if to == ReportStatus.in_review:
        values["submitted_at"] = now
    else:
        values.update(distributed_at=now, instructed_at=now, approver=approver, instruction=instruction)
    if body_md is not None:
        values["body_md"] = body_md
    result = session.exec(
        update(MarketReportRecord)
        .where(col(MarketReportRecord.id) == report_id, col(MarketReportRecord.status) == expected)
        .values(**values)
    )
    session.expire_all()
    return bool(result.rowcount == 1)


def file_immediate_report(
    *,
    session: Session,
    title: str,
    content: str,
    filed_by: str,
    label: str | None = None,
    importance: Importance = Importance.important,
    secrecy: Secrecy = Secrecy.internal,
    trigger: ImmediateTrigger | None = None,
    at: datetime | None = None,
) -> tuple[MarketReportRecord, bool]:
    """An immediate report (不定期即时上报, 篇四 §15), filed by hand or from a rule's trigger; the same kind of
    record as the periodic reports. A trigger's own label makes a re-detection find the existing record."""
    when = at or utcnow()
    key = label or (trigger.label if trigger else f"{when.strftime('%Y%m%dT%H%M%S%f')}/{filed_by}")
    data = None
    if trigger is not None:
        data = {
            "entry_date": trigger.entry_date.isoformat(),
            "region": trigger.region,
            "product": trigger.product,
            "price_type": trigger.price_type,
            "competitor": trigger.competitor,
            "price": str(trigger.price),
            "baseline": str(trigger.baseline),
            "change_pct": str(trigger.change_pct),
            "baseline_label": trigger.baseline_label,
        }
    record, created = claim_report(
        session=session,
        kind=ReportKind.immediate,
        label=key,
        title=title,
        importance=importance,
        secrecy=secrecy,
        trigger=data,
        filed_by=filed_by,
    )
    if created:
        record.body_md = content
        if trigger is not None:
            record.period_start = record.period_end = trigger.entry_date
        session.add(record)
        session.flush()
    return record, created


def read_report(*, session: Session, report_id: str, reader: Reader) -> MarketReportRecord:
    """The archived report if the reader's level allows; every attempt is logged (flushed; the caller commits,
    also after catching ``ReportAccessDenied``, so that the refusal stays in the log)."""
    record = session.get(MarketReportRecord, report_id)
    if record is None:
        raise KeyError(f"no market report {report_id!r}")
    allowed = can_read(reader.level, record.secrecy)
    session.add(MarketReportRead(report_id=report_id, reader_id=reader.id, reader_level=reader.level, allowed=allowed))
    session.flush()
    if not allowed:
        raise ReportAccessDenied(
            f"{reader.name}（{SECRECY_LABELS[reader.level]}）无权阅读{SECRECY_LABELS[record.secrecy]}级报告"
            f"《{record.title}》"
        )
    return record


def borrow_report(
    *,
    session: Session,
    report_id: str,
    reader: Reader,
    purpose: str,
    place: str = "",
    due_back: date | None = None,
) -> MarketReportLoan:
    """Lend an archived report (the read is checked and logged like ``read_report``)."""
    record = read_report(session=session, report_id=report_id, reader=reader)
    loan = MarketReportLoan(
        report_id=report_id, report_title=record.title, borrower_id=reader.id, purpose=purpose, place=place,
        due_back=due_back,
    )
    session.add(loan)
    session.flush()
    return loan


def return_report(*, session: Session, loan_id: int, at: datetime | None = None) -> MarketReportLoan:
    """Record the return of a loan; returning twice keeps the first return time."""
    loan = session.get(MarketReportLoan, loan_id)
    if loan is None:
        raise KeyError(f"no loan {loan_id}")
    if loan.returned_at is None:
        loan.returned_at = at or utcnow()
        session.add(loan)
        session.flush()
    return loan


def archive(
    *,
    session: Session,
    kind: ReportKind | None = None,
    importance: Importance | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[MarketReportRecord]:
    """Archived reports by type, importance and date (篇四 §16), newest period first."""
    stmt = select(MarketReportRecord)
    if kind is not None:
        stmt = stmt.where(MarketReportRecord.kind == kind)
    if importance is not None:
        stmt = stmt.where(MarketReportRecord.importance == importance)
    if since is not None:
        stmt = stmt.where(col(MarketReportRecord.period_end) >= since)
    if until is not None:
        stmt = stmt.where(col(MarketReportRecord.period_start) <= until)
    stmt = stmt.order_by(col(MarketReportRecord.period_start).desc(), col(MarketReportRecord.created_at).desc())
    return list(session.exec(stmt))


def pending_immediate(*, session: Session, filed_before: datetime | None = None) -> list[MarketReportRecord]:
    """Immediate reports still in draft (filed before ``filed_before``): their review run never started, or never
    got to submit. Starting another run for one is safe: only the run that submits it goes on."""
    stmt = select(MarketReportRecord).where(
        MarketReportRecord.kind == ReportKind.immediate, MarketReportRecord.status == ReportStatus.draft
    )
    if filed_before is not None:
        stmt = stmt.where(col(MarketReportRecord.created_at) < filed_before)
    return list(session.exec(stmt.order_by(col(MarketReportRecord.created_at))))
