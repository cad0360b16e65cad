"""Web pages of the market process (篇四 §9–§16): an entry page for one market item, and the report archive.

Every page needs the reader's signed token ``?t=`` (``zhidu.market.access``: the distribution mails carry each
recipient's own link; ``zhidu market reader-link PERSON`` prints one). Reading a report checks the reader's
clearance against its secrecy level; every read (allowed or refused) and every loan is logged. Forms are POSTs
with a CSRF token bound to a cookie, as on the approval pages.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from models.market import (
    IMPORTANCE_LABELS,
    PRICE_TYPE_LABELS,
    REPORT_KIND_LABELS,
    SECRECY_LABELS,
    Importance,
    MarketReportRecord,
    ReportKind,
)
from zhidu.approvals.tokens import csrf_ok, csrf_token
from zhidu.db import get_engine, utcnow
from zhidu.market.access import ReaderTokenError, reader_from_token
from zhidu.market.importing import parse_entry
from zhidu.market.intake import register_entries
from zhidu.market.periods import local_date
from zhidu.market.records import Reader, ReportAccessDenied, archive, borrow_report, read_report
from zhidu.settings import get_settings
from zhidu.templating import render

log = logging.getLogger(__name__)
router = APIRouter(tags=["market"])

STATUS_LABELS = {"draft": "草稿", "in_review": "待批示", "distributed": "已下发"}
ENTRY_FIELDS = ["entry_date", "region", "product", "category", "price_type", "price", "currency", "unit", "volume",
                "competitor", "channel", "source", "content", "secrecy"]


def _labels() -> dict[str, Any]:
    return {"kind_labels": {k.value: v for k, v in REPORT_KIND_LABELS.items()},
            "importance_labels": {k.value: v for k, v in IMPORTANCE_LABELS.items()},
            "secrecy_labels": {k.value: v for k, v in SECRECY_LABELS.items()}, "status_labels": STATUS_LABELS,
            "price_types": {k.value: v for k, v in PRICE_TYPE_LABELS.items()}}


def _page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(f"pages/{template}", **(_labels() | context)), status_code=status_code)


def _message(status_code: int, title: str, text: str) -> HTMLResponse:
    return _page("market_message.html", status_code, title=title, text=text)


def _reader(token: str | None) -> Reader | HTMLResponse:
    try:
        return reader_from_token(token)
    except ReaderTokenError as exc:
        return _message(403, "无法识别查阅人", str(exc))


def _csrf_cookie(request: Request) -> str:
    return request.cookies.get(get_settings().csrf_cookie_name) or secrets.token_urlsafe(24)


def _with_cookie(response: HTMLResponse, cookie: str) -> HTMLResponse:
    response.set_cookie(get_settings().csrf_cookie_name, cookie, httponly=True, samesite="strict",
                        secure=get_settings().public_url.startswith("https"))
    return response


def _csrf_valid(request: Request, form: dict[str, str], reader: Reader) -> bool:
    cookie = request.cookies.get(get_settings().csrf_cookie_name)
    return csrf_ok(cookie_value=cookie, form_value=form.get("csrf"), link_id=f"market:{reader.id}")


@router.get("/market/reports", response_class=HTMLResponse)
def archive_list(request: Request, t: str = "", kind: str = "", importance: str = "") -> HTMLResponse:
    """The archive by type and importance (篇四 §16); titles and levels only, reading is per report."""
    reader = _reader(t)
    if isinstance(reader, HTMLResponse):
        return reader
    kind_filter = ReportKind(kind) if kind in ReportKind.__members__ else None
    importance_filter = Importance(importance) if importance in Importance.__members__ else None
    with Session(get_engine()) as session:
        reports = archive(session=session, kind=kind_filter, importance=importance_filter)
    return _page("market_archive.html", reports=reports, reader=reader, token=t, kind=kind, importance=importance,
                 secrecy_reader=SECRECY_LABELS[reader.level])


@router.get("/market/reports/{report_id}", response_class=HTMLResponse)
def read(report_id: str, request: Request, t: str = "") -> HTMLResponse:
    """Read one report if the reader's level allows; the attempt is logged either way."""
    reader = _reader(t)
    if isinstance(reader, HTMLResponse):
        return reader
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            record = read_report(session=session, report_id=report_id, reader=reader)
        except KeyError:
            return _message(404, "报告不存在", "未找到该报告，请核对链接。")
        except ReportAccessDenied as exc:
            session.commit()  # the refusal stays in the log
            return _message(403, "无权阅读", str(exc))
        session.commit()
    cookie = _csrf_cookie(request)
    csrf = csrf_token(cookie_value=cookie, link_id=f"market:{reader.id}")
    return _with_cookie(_page("market_report.html", record=record, reader=reader, token=t, csrf=csrf, loan=None,
                              errors=[]), cookie)


@router.post("/market/reports/{report_id}/loan", response_class=HTMLResponse)
async def loan(report_id: str, request: Request, t: str = "") -> HTMLResponse:
    """Borrow a report (借阅): purpose, place and return date are recorded with the reader."""
    reader = _reader(t)
    if isinstance(reader, HTMLResponse):
        return reader
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not _csrf_valid(request, form, reader):
        return _message(403, "请求无效", "页面已过期，请重新打开报告页面后再提交。")
    errors = [] if form.get("purpose", "").strip() else ["请填写借阅目的"]
    due_back: date | None = None
    try:
        due_back = date.fromisoformat(form["due_back"]) if form.get("due_back") else None
    except ValueError:
        errors.append("归还日期格式应为 YYYY-MM-DD")
    with Session(get_engine(), expire_on_commit=False) as session:
        record = session.get(MarketReportRecord, report_id)
        if record is None:
            return _message(404, "报告不存在", "未找到该报告，请核对链接。")
        if errors:
            return _page("market_report.html", 422, record=record, reader=reader, token=t, csrf=form.get("csrf", ""),
                         loan=None, errors=errors)
        try:
            made = borrow_report(session=session, report_id=report_id, reader=reader, purpose=form["purpose"].strip(),
                                 place=form.get("place", "").strip(), due_back=due_back)
        except ReportAccessDenied as exc:
            session.commit()
            return _message(403, "无权借阅", str(exc))
        session.commit()
    return _page("market_report.html", record=record, reader=reader, token=t, csrf=form["csrf"], loan=made, errors=[])


@router.get("/market/entries/new", response_class=HTMLResponse)
def entry_form(request: Request, t: str = "") -> HTMLResponse:
    """The entry page for one market item (市场信息登记)."""
    reader = _reader(t)
    if isinstance(reader, HTMLResponse):
        return reader
    cookie = _csrf_cookie(request)
    values = {"entry_date": local_date(utcnow()).isoformat(), "price_type": "spot", "secrecy": "internal",
              "currency": "CNY", "unit": "吨"}
    return _with_cookie(_entry_page(200, reader, t, csrf_token(cookie_value=cookie, link_id=f"market:{reader.id}"),
                                    values), cookie)


def _entry_page(code: int, reader: Reader, token: str, csrf: str, values: dict[str, str], errors: Any = (),
                saved: Any = None) -> HTMLResponse:
    full = {name: values.get(name, "") for name in ENTRY_FIELDS}
    return _page("market_entry.html", code, reader=reader, token=token, csrf=csrf, values=full, errors=list(errors),
                 saved=saved)


@router.post("/market/entries/new", response_class=HTMLResponse)
async def entry_save(request: Request, background: BackgroundTasks, t: str = "") -> HTMLResponse:
    """Validate and store one item; a price past the immediate-report threshold files an immediate report."""
    reader = _reader(t)
    if isinstance(reader, HTMLResponse):
        return reader
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not _csrf_valid(request, form, reader):
        return _message(403, "请求无效", "页面已过期，请重新打开登记页面后再提交。")
    values = {k: form.get(k, "").strip() for k in ENTRY_FIELDS}
    entry, problems = parse_entry({**values, "reporter": reader.name})
    if entry is None:
        return _entry_page(422, reader, t, form["csrf"], values, [f"{f}：{reason}" for f, reason in problems])
    with Session(get_engine(), expire_on_commit=False) as session:
        registered = register_entries(session=session, entries=[entry], today=local_date(utcnow()))
        session.commit()
    for report in registered.new_reports:
        background.add_task(_start_immediate, report.id, report.title)
    saved = {"id": registered.stored[0].id, "reports": [r.title for r in registered.new_reports]}
    return _entry_page(200, reader, t, form["csrf"], {"entry_date": values["entry_date"], "price_type": "spot",
                                                       "secrecy": "internal", "currency": "CNY", "unit": "吨"},
                       saved=saved)


def _start_immediate(report_id: str, title: str) -> None:
    """Start the review run; if Prefect is unreachable the report stays a draft for ``zhidu market start-pending``
    (and the daily reminder run) to start."""
    from zhidu.market.runs import start_immediate_run

    try:
        start_immediate_run(report_id, title, "web")
    except Exception:  # noqa: BLE001 — logged; the draft is picked up later
        log.exception("could not start the immediate report %s; it stays a draft", report_id)
