"""Approval mails: the request, the reminder. Each goes through the one mail boundary, once per key."""

from __future__ import annotations

from typing import Literal

from markupsafe import Markup, escape
from sqlmodel import Session

from models.approval import ApprovalLink, ApprovalRequest
from zhidu.approvals.schemas import ApprovalSpec
from zhidu.approvals.tokens import link_url, make_token

Kind = Literal["request", "reminder"]
SUBJECT = {"request": "【待审批】{title}", "reminder": "【催办】{title}（截止 {deadline}）"}


def approval_mail_context(request: ApprovalRequest, link: ApprovalLink) -> dict[str, object]:
    spec = ApprovalSpec.model_validate(request.spec)
    return {
        "title": request.title,
        "approver_name": link.approver_name,
        "details": spec.details,
        "deadline": request.deadline,
        "expires_at": link.expires_at,
        "level": request.level,
        "mode": request.mode.value,
        # Markup: the link is ours and is printed as it is (mail bodies mask every other printed value)
        "url": Markup(escape(link_url(make_token(link_id=link.id, request_id=request.id)))),
        "case_id": request.case_id,
        "step": "" if request.step.isascii() else request.step,  # an ASCII id (request_v1) is internal, not for people
    }


def send_approval_mail(*, session: Session, request: ApprovalRequest, link: ApprovalLink, kind: Kind) -> str:
    """Mail one approver their link (sent at most once per request, approver and kind)."""
    from zhidu.mail import send_email
    from zhidu.templating import local_dt

    context = approval_mail_context(request, link)
    deadline_text = local_dt(request.deadline)
    subject = SUBJECT[kind].format(title=request.title, deadline=deadline_text)
    return send_email(
        to=[link.approver_email], subject=subject, template=f"approval_{kind}", context=context,
        idempotency_key=f"approval:{request.id}:{link.id}:{kind}", session=session,
    )
