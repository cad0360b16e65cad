"""Approval pages: GET/HEAD only show; the POST decides (CSRF-protected), then wakes the waiting flow."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from models.approval import ApprovalLink, ApprovalRequest, Outcome, PageView
from zhidu.approvals.delivery import PrefectResumer, deliver_one
from zhidu.approvals.schemas import ApprovalSpec
from zhidu.approvals.service import DecideResult, DecideStatus, decide, links_of
from zhidu.approvals.tokens import InvalidToken, csrf_ok, csrf_token, read_token
from zhidu.db import get_engine, utcnow
from zhidu.settings import get_settings
from zhidu.templating import render

router = APIRouter()


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _page(status_code: int, **context: Any) -> HTMLResponse:
    base: dict[str, Any] = {"errors": [], "result": None, "csrf": "", "comment": "", "values": {}}
    return HTMLResponse(render("pages/approval.html", **(base | context)), status_code=status_code)


def _context(session: Session, link: ApprovalLink, req: ApprovalRequest) -> dict[str, Any]:
    spec = ApprovalSpec.model_validate(req.spec)
    decider = next((lk for lk in links_of(session=session, request_id=req.id) if lk.approver_email == req.decided_by),
                   None)
    return {"link": link, "req": req, "spec": spec, "now": utcnow(), "decider": decider,
            "votes": [lk for lk in links_of(session=session, request_id=req.id) if lk.used_at]}


def _load(session: Session, token: str) -> tuple[ApprovalLink, ApprovalRequest] | None:
    try:
        link_id, request_id = read_token(token)
    except InvalidToken:
        return None
    link = session.get(ApprovalLink, link_id)
    if link is None or link.request_id != request_id:
        return None
    req = session.get(ApprovalRequest, request_id)
    return (link, req) if req else None


def _invalid() -> HTMLResponse:
    return _page(404, state="invalid")


@router.api_route("/a/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def show(token: str, request: Request) -> Response:
    """Render the decision page; never decides anything, whoever opens it and however often."""
    ip, ua = _client(request)
    with Session(get_engine(), expire_on_commit=False) as session:
        found = _load(session, token)
        session.add(PageView(link_id=found[0].id if found else None, method=request.method, ip=ip, user_agent=ua))
        session.commit()
        if found is None:
            return _invalid()
        link, req = found
        cookie = request.cookies.get(get_settings().csrf_cookie_name) or secrets.token_urlsafe(24)
        response = _page(200, state=_state(link, req), csrf=csrf_token(cookie_value=cookie, link_id=link.id),
                         **_context(session, link, req))
    response.set_cookie(get_settings().csrf_cookie_name, cookie, httponly=True, samesite="strict",
                        secure=get_settings().public_url.startswith("https"))
    return response


def _state(link: ApprovalLink, req: ApprovalRequest) -> str:
    if link.used_at is not None and req.status == "pending":
        return "voted"
    if req.status != "pending":
        return str(req.status)
    if utcnow() > link.expires_at:
        return "expired"
    return "open"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    allowed = {urlsplit(get_settings().public_url).netloc, request.headers.get("host", "")}
    return urlsplit(origin).netloc in allowed


@router.post("/a/{token}", response_class=HTMLResponse)
async def post(token: str, request: Request, background: BackgroundTasks) -> HTMLResponse:
    """Decide: verify token and CSRF, move pending → decided atomically, then try to resume the flow."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    ip, ua = _client(request)
    with Session(get_engine(), expire_on_commit=False) as session:
        found = _load(session, token)
        if found is None:
            return _invalid()
        link, req = found
        cookie = request.cookies.get(get_settings().csrf_cookie_name)
        if not _same_origin(request) or not csrf_ok(cookie_value=cookie, form_value=values.get("csrf"),
                                                     link_id=link.id):
            return _page(403, state="forbidden", **_context(session, link, req))
        if values.get("request_id") != req.id or values.get("step") != req.step:
            return _page(409, state="wrong_step", **_context(session, link, req))
        try:
            outcome = Outcome(values.get("decision", ""))
        except ValueError:
            outcome = Outcome.expired  # refused below as an invalid decision
        fields = {k[2:]: v for k, v in values.items() if k.startswith("f_")}
        result = decide(session=session, link_id=link.id, request_id=req.id, outcome=outcome,
                        comment=values.get("comment", "").strip(), fields=fields, ip=ip, user_agent=ua,
                        now=utcnow())
        return _after_decide(session, result, link, req, values, cookie, background)


def _after_decide(session: Session, result: DecideResult, link: ApprovalLink, req: ApprovalRequest,
                  values: dict[str, str], cookie: str | None, background: BackgroundTasks) -> HTMLResponse:
    if result.status == DecideStatus.invalid_input:
        return _page(422, state="open", errors=result.errors, comment=values.get("comment", ""),
                     values={k[2:]: v for k, v in values.items() if k.startswith("f_")},
                     csrf=csrf_token(cookie_value=cookie or "", link_id=link.id), **_context(session, link, req))
    if result.outbox_id is not None:
        background.add_task(deliver_one, outbox_id=result.outbox_id, resumer=PrefectResumer(), now=utcnow())
    session.refresh(link)
    session.refresh(req)
    code = 200 if result.status in (DecideStatus.decided, DecideStatus.recorded) else 409
    return _page(code, state=_state(link, req), result=result.status.value, **_context(session, link, req))
