"""Deliver decisions from the outbox to the waiting flow runs (Prefect resume), with retries and back-off."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import httpx
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from models.approval import DecisionOutbox, OutboxStatus
from zhidu.db import get_engine
from zhidu.settings import get_settings

log = logging.getLogger(__name__)

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def pause_key(request_id: str) -> str:
    """The key a flow suspends under while it waits for one approval request."""
    return f"approval-{request_id}"


class ResumeOutcome(StrEnum):
    delivered = "delivered"
    retry = "retry"  # not paused yet, server down, …: try again later
    dead = "dead"  # the run is over: nobody will ever take this decision


@dataclass
class ResumeResult:
    outcome: ResumeOutcome
    detail: str = ""


class Resumer(Protocol):
    """The external system that wakes a waiting run (swap it in tests)."""

    def resume(self, *, flow_run_id: str, key: str, run_input: dict[str, Any]) -> ResumeResult: ...


class PrefectResumer:
    """Resume through Prefect's REST API; checks the answer's ``status``, not the HTTP code (facts.md)."""

    def __init__(self, api_url: str | None = None, timeout: float | None = None) -> None:
        settings = get_settings()
        self.api_url = (api_url or settings.prefect_api_url).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.resume_timeout

    def resume(self, *, flow_run_id: str, key: str, run_input: dict[str, Any]) -> ResumeResult:
        """Resume, retrying a busy server (503 while its SQLite is locked) a few times before giving up."""
        result = ResumeResult(ResumeOutcome.retry)
        for pause in (0.5, 1.0, 2.0, 0.0):
            result = self._resume_once(flow_run_id=flow_run_id, key=key, run_input=run_input)
            if result.outcome != ResumeOutcome.retry or "503" not in result.detail:
                return result
            time.sleep(pause)
        return result

    def _resume_once(self, *, flow_run_id: str, key: str, run_input: dict[str, Any]) -> ResumeResult:
        try:
            with httpx.Client(base_url=self.api_url, timeout=self.timeout) as client:
                run = client.get(f"/flow_runs/{flow_run_id}")
                if run.status_code == 404:
                    return ResumeResult(ResumeOutcome.dead, "flow run not found")
                run.raise_for_status()
                state = run.json().get("state") or {}
                kind = state.get("type")
                if kind in TERMINAL:
                    return ResumeResult(ResumeOutcome.dead, f"flow run is {kind}")
                if kind != "PAUSED" or (state.get("state_details") or {}).get("pause_key") != key:
                    return ResumeResult(ResumeOutcome.retry, f"flow run is {kind}, not waiting on {key}")
                answer = client.post(f"/flow_runs/{flow_run_id}/resume", json={"run_input": run_input})
                answer.raise_for_status()
                status = answer.json().get("status")
        except httpx.HTTPError as exc:
            return ResumeResult(ResumeOutcome.retry, f"Prefect API unreachable: {exc!r}")
        if status == "ACCEPT":
            return ResumeResult(ResumeOutcome.delivered)
        return ResumeResult(ResumeOutcome.retry, f"resume answered {status}")


def _claim(session: Session, outbox_id: int, now: datetime) -> bool:
    """Claim one due row for 60 s so that two deliverers never resume the same run at once."""
    stmt = (
        update(DecisionOutbox)
        .where(
            col(DecisionOutbox.id) == outbox_id,
            col(DecisionOutbox.status) == OutboxStatus.pending,
            col(DecisionOutbox.next_attempt_at) <= now,
            or_(col(DecisionOutbox.claimed_until).is_(None), col(DecisionOutbox.claimed_until) < now),
        )
        .values(claimed_until=now + timedelta(seconds=60), attempts=DecisionOutbox.attempts + 1)  # type: ignore[operator]
    )
    claimed = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
    session.commit()
    return claimed


def _backoff(attempts: int) -> timedelta:
    settings = get_settings()
    return timedelta(seconds=min(settings.outbox_backoff_base * 2 ** max(attempts - 1, 0), settings.outbox_backoff_max))


def deliver_one(*, outbox_id: int, resumer: Resumer, now: datetime) -> ResumeOutcome | None:
    """Try to deliver one outbox row; None when it was not due or another deliverer holds it."""
    with Session(get_engine(), expire_on_commit=False) as session:
        if not _claim(session, outbox_id, now):
            return None
        row = session.get(DecisionOutbox, outbox_id)
        assert row is not None
        if not row.flow_run_id:
            result = ResumeResult(ResumeOutcome.retry, "no flow run waits on this request yet")
        else:
            result = resumer.resume(flow_run_id=row.flow_run_id, key=pause_key(row.request_id), run_input=row.payload)
        session.refresh(row)
        if row.status != OutboxStatus.pending:  # the flow took it meanwhile
            return ResumeOutcome.delivered
        row.claimed_until = None
        row.last_error = result.detail or None
        if result.outcome == ResumeOutcome.delivered:
            row.status, row.delivered_at = OutboxStatus.delivered, now
        elif result.outcome == ResumeOutcome.dead:
            row.status = OutboxStatus.dead
        else:
            row.next_attempt_at = now + _backoff(row.attempts)
            log.warning("decision %s not delivered (attempt %s): %s", row.request_id, row.attempts, result.detail)
        session.add(row)
        session.commit()
        return result.outcome


def due_outbox_ids(*, session: Session, now: datetime, limit: int = 200) -> list[int]:
    stmt = (
        select(DecisionOutbox.id)
        .where(DecisionOutbox.status == OutboxStatus.pending, DecisionOutbox.next_attempt_at <= now)
        .order_by(col(DecisionOutbox.next_attempt_at))
        .limit(limit)
    )
    return [i for i in session.exec(stmt).all() if i is not None]


def mark_taken(*, session: Session, request_id: str, now: datetime) -> None:
    """The flow has the decision in hand: nothing more to deliver."""
    stmt = (
        update(DecisionOutbox)
        .where(col(DecisionOutbox.request_id) == request_id, col(DecisionOutbox.status) != OutboxStatus.delivered)
        .values(status=OutboxStatus.delivered, delivered_at=now, claimed_until=None)
    )
    session.execute(stmt)
    session.commit()
