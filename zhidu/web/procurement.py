"""Web pages of the procurement process (采购、验收、入库/固定资产、报销（篇二）): the list of purchases and the
case page — where the purchase is, who it waits for, the open steps, items, money and the history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from models.approval import ApprovalRequest, RequestStatus
from models.procurement import PurchaseCase
from zhidu.approvals.service import links_of
from zhidu.db import get_engine, utcnow
from zhidu.procurement.case import PROCESS
from zhidu.procurement.inventory import open_inventory_tasks
from zhidu.procurement.status import case_status
from zhidu.procurement.views import PendingStep, render_case_page
from zhidu.templating import render

router = APIRouter(tags=["procurement"])


def pending_steps(session: Session, number: str) -> list[PendingStep]:
    """The case's open approval steps and to-dos, with the people they wait for."""
    stmt = select(ApprovalRequest).where(
        ApprovalRequest.process == PROCESS, ApprovalRequest.case_id == number,
        ApprovalRequest.status == RequestStatus.pending,
    ).order_by(col(ApprovalRequest.created_at))  # fmt: skip
    found = []
    for req in session.exec(stmt):
        names = [lk.approver_name for lk in links_of(session=session, request_id=req.id) if lk.used_at is None]
        found.append(PendingStep(title=req.title, step=req.step, names=names, deadline=req.deadline, level=req.level))
    return found


@router.get("/procurement", response_class=HTMLResponse)
def case_list() -> HTMLResponse:
    """Every purchase, newest first: stage, who it waits for, due date."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    with Session(get_engine()) as session:
        for case in session.exec(select(PurchaseCase).order_by(col(PurchaseCase.number).desc())):
            st = case_status(session=session, case_id=case.id, now=now)
            waiting = f"{'、'.join(st.waiting_for)}：{st.waiting_what}" if st.waiting_for else st.waiting_what
            rows.append({"number": st.number, "title": st.title, "department": st.department,
                         "stage_label": st.stage_label, "waiting": waiting, "due_at": st.due_at,
                         "overdue": st.overdue})  # fmt: skip
        tasks = len(open_inventory_tasks(session=session))
    return HTMLResponse(render("pages/procurement_list.html", rows=rows, tasks=tasks, missing=""))


@router.get("/procurement/{number}", response_class=HTMLResponse)
def case_page(number: str) -> HTMLResponse:
    """One purchase: stage, who it waits for, open steps, items, money (accounts masked), refusals, history."""
    with Session(get_engine()) as session:
        case = session.exec(select(PurchaseCase).where(PurchaseCase.number == number)).first()
        if case is None:
            return HTMLResponse(render("pages/procurement_list.html", rows=[], tasks=0, missing=number),
                                status_code=404)
        status = case_status(session=session, case_id=case.id, now=utcnow())
        return HTMLResponse(render_case_page(status, pending_steps(session, number)))
