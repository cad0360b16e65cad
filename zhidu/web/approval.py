"""Approval pages: GET/HEAD only show; the POST decides (CSRF-protected), then wakes the waiting flow."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
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
MAX_FORM_BYTES = 256 * 1024  # the decision form with a 5000-character comment is ~50 KB urlencoded
MAX_USER_AGENT = 500


class BadForm(ValueError):
    """A POST body that is not our form: the status code and a Chinese reason for the page."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code, self.reason = status_code, reason


def _client(request: Request) -> tuple[str | None, str | None]:
    ua = request.headers.get("user-agent")
    return (request.client.host if request.client else None), (ua[:MAX_USER_AGENT] if ua else ua)


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded decision form, read with a size limit; anything else (multipart, files, oversized,
    undecodable, a field sent twice) is a ``BadForm``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise BadForm(415, "提交格式无效，请在审批页面上提交。")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise BadForm(413, f"提交内容过大（上限 {MAX_FORM_BYTES // 1024} KB），请缩短意见后再提交。")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm(413, f"提交内容过大（上限 {MAX_FORM_BYTES // 1024} KB），请缩短意见后再提交。")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeError:
        raise BadForm(400, "提交内容的编码无效（应为 UTF-8）。") from None
    values = dict(pairs)
    if len(values) != len(pairs):
        raise BadForm(400, "提交内容中有重复的字段。")
    return values


def _page(status_code: int, **context: Any) -> HTMLResponse:
    base: dict[str, Any] = {"errors": [], "result": None, "csrf": "", "comment": "", "values": {}, "reason": ""}
    return HTMLResponse(render("pages/approval.html", **(base | context)), status_code=status_code)


def _context(session: Session, link: ApprovalLink, req: ApprovalRequest) -> dict[str, Any]:
    spec = ApprovalSpec.model_validate(req.spec)
    links = links_of(session=session, request_id=req.id)
    decider = next((lk for lk in links if lk.approver_email == req.decided_by), None)
    return {"link": link, "req": req, "spec": spec, "now": utcnow(), "decider": decider,
            "votes": [lk for lk in links if lk.used_at]}


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
        cookie = _browser_cookie(request)
        response = _page(200, state=_state(link, req), csrf=csrf_token(cookie_value=cookie, link_id=link.id),
                         **_context(session, link, req))
    return _with_cookie(response, cookie)


def _browser_cookie(request: Request) -> str:
    """The browser's CSRF cookie, or a new one. (A well-formed existing cookie is kept, so a second tab does not
    invalidate the form of the first.)"""
    cookie = request.cookies.get(get_settings().csrf_cookie_name, "")
    return cookie if 16 <= len(cookie) <= 64 and cookie.replace("-", "").replace("_", "").isalnum() \
        else secrets.token_urlsafe(24)


def _with_cookie(response: HTMLResponse, cookie: str) -> HTMLResponse:
    # SameSite=Lax, not Strict: a link clicked in a webmail is a cross-site navigation, and under Strict its GET
    # arrives without the cookie, so every newly opened tab replaced it and voided the forms of the earlier tabs.
    # Lax still keeps the cookie off cross-site POSTs, which is what the CSRF check needs.
    response.set_cookie(get_settings().csrf_cookie_name, cookie, httponly=True, samesite="lax",
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
    try:
        values = await _read_form(request)
    except BadForm as exc:
        return _page(exc.status_code, state="bad_form", reason=exc.reason)
    return await run_in_threadpool(_decide, token, request, values, background)  # DB work off the event loop


def _decide(token: str, request: Request, values: dict[str, str], background: BackgroundTasks) -> HTMLResponse:
    ip, ua = _client(request)
    with Session(get_engine(), expire_on_commit=False) as session:
        found = _load(session, token)
        if found is None:
            return _invalid()
        link, req = found
        cookie = request.cookies.get(get_settings().csrf_cookie_name)
        if not _same_origin(request):
            return _page(403, state="forbidden", **_context(session, link, req))
        if not csrf_ok(cookie_value=cookie, form_value=values.get("csrf"), link_id=link.id):
            return _form_again(session, link, req, values, request)
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


def _form_again(session: Session, link: ApprovalLink, req: ApprovalRequest, values: dict[str, str],
                request: Request) -> HTMLResponse:
    """Same site, but the form's CSRF token does not match this browser's cookie (cookie missing, expired or from
    another tab): decide nothing, show the form again with what was typed and a fresh token."""
    cookie = _browser_cookie(request)
    state = _state(link, req)
    page = _page(403, state=state, errors=["页面已过期或浏览器未保存 Cookie，决定尚未提交，请核对后再次提交。"]
                 if state == "open" else [], comment=values.get("comment", ""),
                 values={k[2:]: v for k, v in values.items() if k.startswith("f_")},
                 csrf=csrf_token(cookie_value=cookie, link_id=link.id), **_context(session, link, req))
    return _with_cookie(page, cookie)


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
