"""The dev inbox page over the mail sink's maildir: list, one message (HTML in an iframe), raw HTML, JSON."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, Response

from zhidu.devmail import Inbox, InboxMessage
from zhidu.settings import get_settings
from zhidu.templating import render

router = APIRouter(prefix="/inbox", tags=["dev inbox"])

_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_BASE = '<base target="_top">'


def _inbox() -> Inbox:
    return Inbox(get_settings().var_dir / "mail")  # per request: tests change settings


def _get(msg_id: str) -> InboxMessage:
    try:
        return _inbox().get(msg_id)
    except KeyError:
        raise HTTPException(status_code=404, detail=f"没有这封邮件：{msg_id}") from None


def with_top_target(html: str) -> str:
    """Insert ``<base target="_top">`` so that links inside the iframe open in the whole window."""
    match = _HEAD.search(html)
    if match is None:
        return _BASE + html
    return html[: match.end()] + _BASE + html[match.end() :]


@router.get("/api/messages")
def api_messages() -> list[dict[str, Any]]:
    """Every message, newest first."""
    return [item.as_json() for item in _inbox().list()]


@router.get("/api/messages/{msg_id}")
def api_message(msg_id: str) -> JSONResponse:
    """One message with both bodies and attachment metadata."""
    return JSONResponse(_get(msg_id).as_json())


@router.get("", response_class=HTMLResponse)
def inbox_list() -> HTMLResponse:
    return HTMLResponse(render("pages/inbox_list.html", items=_inbox().list()))


@router.get("/{msg_id}", response_class=HTMLResponse)
def inbox_message(msg_id: str) -> HTMLResponse:
    message = _get(msg_id)
    page = render(
        "pages/inbox_message.html",
        item=message.item,
        html_doc=None if message.html is None else with_top_target(message.html),
        text=message.text,
        attachments=message.attachments,
        headers=message.headers,
    )
    return HTMLResponse(page)


@router.get("/{msg_id}/html", response_class=HTMLResponse)
def inbox_message_html(msg_id: str) -> HTMLResponse:
    message = _get(msg_id)
    if message.html is None:
        raise HTTPException(status_code=404, detail="这封邮件没有 HTML 正文")
    return HTMLResponse(message.html)


@router.get("/{msg_id}/attachments/{index}")
def inbox_attachment(msg_id: str, index: int) -> Response:
    attachments = _get(msg_id).attachments
    if not 0 <= index < len(attachments):
        raise HTTPException(status_code=404, detail="没有这个附件")
    attachment = attachments[index]
    disposition = f"attachment; filename*=utf-8''{quote(attachment.filename)}"
    return Response(
        attachment.content, media_type=attachment.content_type, headers={"Content-Disposition": disposition}
    )
