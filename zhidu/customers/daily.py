"""The T+1 list (§7): which policies a detection run covers, and which cases need an investigation run.

The daily run checks every policy stored since the last daily run (``DetectionRun.up_to_policy_id``), whatever
day it was entered: after a weekend, a holiday (法定节假日) or a failed run nothing is left unchecked. It runs only
on working days (a 调休 make-up Saturday included); the schedule in prefect.yaml just wakes it on weekday mornings.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.customers import CaseStatus, DetectionRun, Policy, SuspiciousCase
from zhidu.customers.detection import DetectionResult, detect_full, detect_range
from zhidu.customers.review import case_number


def last_daily_watermark(*, session: Session) -> int:
    """The highest policy id the daily detection has covered (0: none yet)."""
    value = session.exec(select(func.max(DetectionRun.up_to_policy_id)).where(DetectionRun.kind == "daily")).one()
    return int(value or 0)


def run_daily_detection(*, session: Session, today: date) -> tuple[DetectionRun, DetectionResult]:
    """Check every policy stored since the last daily run against the whole book; record the run."""
    after = last_daily_watermark(session=session)
    up_to = int(session.exec(select(func.max(Policy.id))).one() or 0)
    result = detect_range(session=session, after_id=after, up_to_id=up_to, today=today) if up_to > after \
        else DetectionResult()
    run = DetectionRun(kind="daily", run_date=today, from_policy_id=after, up_to_policy_id=max(up_to, after),
                       checked_parties=result.checked_parties, new_cases=len(result.new_cases),
                       grown_cases=len(result.grown_cases))
    session.add(run)
    session.commit()
    session.refresh(run)
    return run, result


def run_full_detection(*, session: Session, today: date) -> tuple[DetectionRun, DetectionResult]:
    """Re-scan the whole book (GROUP BY over the indexes); record the run (it does not move the daily mark)."""
    up_to = int(session.exec(select(func.max(Policy.id))).one() or 0)
    result = detect_full(session=session, today=today)
    run = DetectionRun(kind="full", run_date=today, up_to_policy_id=up_to, checked_parties=result.checked_parties,
                       new_cases=len(result.new_cases), grown_cases=len(result.grown_cases))
    session.add(run)
    session.commit()
    session.refresh(run)
    return run, result


def open_cases(*, session: Session, case_ids: list[int]) -> list[tuple[int, str]]:
    """(case id, case number of its current round) of those cases that are open, in id order."""
    if not case_ids:
        return []
    query = select(SuspiciousCase).where(col(SuspiciousCase.id).in_(case_ids),
                                         SuspiciousCase.status == CaseStatus.open).order_by(col(SuspiciousCase.id))
    return [(c.id or 0, case_number(c.id or 0, c.round)) for c in session.exec(query)]
