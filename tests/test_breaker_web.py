"""Breaker: the approval pages under hostile and clumsy input. Each test keeps an input that broke them."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.approval import ApprovalAudit, ApprovalLink, DecisionOutbox, Mode, PageView, RequestStatus
from tests.conftest import Zhidu
from tests.test_approvals import LI, WANG, form_of, open_step, request_row, spec
from zhidu.approvals.schemas import FormField
from zhidu.db import get_engine

PHONE = "13912345678"
RESULT = FormField(name="result", label="调查结论", kind="choice", choices=["属实", "不属实"], required=True)


def outboxes() -> list[DecisionOutbox]:
    with Session(get_engine()) as session:
        return list(session.exec(select(DecisionOutbox)).all())


def test_nul_control_and_bidi_characters_are_removed_and_the_decision_is_kept(zhidu: Zhidu) -> None:
    # Was: a NUL in the comment made PostgreSQL raise inside the deciding transaction (HTTP 500, nothing kept).
    req, [token] = open_step(spec(fields=[RESULT]))
    client = zhidu.client()
    comment = "同意\x00处理\r\n第二行\u202e反转\x07😀"
    data = form_of(client, token) | {"decision": "approve", "comment": comment, "f_result": "属\x00实"}
    r = client.post(f"/a/{token}", data=data)
    assert r.status_code == 200 and 'id="confirmation"' in r.text
    [outbox] = outboxes()
    assert outbox.payload["comment"] == "同意处理\n第二行反转😀"
    assert outbox.payload["fields"] == {"result": "属实"}
    assert request_row(req.id).comment == "同意处理\n第二行反转😀"


def test_fields_the_step_does_not_declare_are_dropped(zhidu: Zhidu) -> None:
    # Was: any f_* form field was stored and handed to the flow as a decision field.
    req, [token] = open_step(spec(fields=[RESULT]))
    client = zhidu.client()
    data = form_of(client, token) | {"decision": "approve", "f_result": "属实", "f_amount": "999999", "f_": "x"}
    assert client.post(f"/a/{token}", data=data).status_code == 200
    [outbox] = outboxes()
    assert outbox.payload["fields"] == {"result": "属实"}
    with Session(get_engine()) as session:
        [link] = session.exec(select(ApprovalLink)).all()
        assert link.fields == {"result": "属实"}


def test_choice_outside_its_list_is_refused(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec(fields=[RESULT]))
    client = zhidu.client()
    r = client.post(f"/a/{token}", data=form_of(client, token) | {"decision": "approve", "f_result": "<b>也许</b>"})
    assert r.status_code == 422 and "「调查结论」的取值无效：&lt;b&gt;也许&lt;/b&gt;" in r.text
    assert request_row(req.id).status == RequestStatus.pending and outboxes() == []


def test_an_oversized_comment_is_refused_with_a_reason_and_nothing_is_decided(zhidu: Zhidu) -> None:
    # Was: a 10 MB comment was stored in the link, the audit, the request, the outbox and the Prefect run input.
    req, [token] = open_step(spec())
    client = zhidu.client()
    form = form_of(client, token)
    huge = client.post(f"/a/{token}", data=form | {"decision": "approve", "comment": "长" * (10 * 2**20)})
    assert huge.status_code == 413 and "提交内容过大" in huge.text
    long = client.post(f"/a/{token}", data=form | {"decision": "approve", "comment": "长" * 5001})
    assert long.status_code == 422 and "「意见」过长：最多 5000 字，现有 5001 字" in long.text
    assert 'id="decision-form"' in long.text  # the form is offered again, with what was typed
    assert request_row(req.id).status == RequestStatus.pending and outboxes() == []
    ok = client.post(f"/a/{token}", data=form | {"decision": "approve", "comment": "长" * 5000})
    assert ok.status_code == 200 and request_row(req.id).status == RequestStatus.approved


def test_a_body_that_is_not_our_form_is_refused(zhidu: Zhidu) -> None:
    # Was: a comment sent as a file upload was stored as the text "UploadFile(filename=...)".
    req, [token] = open_step(spec())
    client = zhidu.client()
    form = form_of(client, token) | {"decision": "approve"}
    upload = client.post(f"/a/{token}", data=form, files={"comment": ("a.txt", b"hello", "text/plain")})
    assert upload.status_code == 415 and "提交格式无效" in upload.text
    body = urlencode(form)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    twice = client.post(f"/a/{token}", content=body + "&decision=reject", headers=headers)
    assert twice.status_code == 400 and "重复的字段" in twice.text
    bad_utf8 = client.post(f"/a/{token}", content=body + "&comment=%FF%FE", headers=headers)
    assert bad_utf8.status_code == 400 and "编码无效" in bad_utf8.text
    assert request_row(req.id).status == RequestStatus.pending and outboxes() == []


def test_phone_numbers_are_masked_and_html_escaped_everywhere_on_the_page(zhidu: Zhidu) -> None:
    # Was: the title, the comment and the votes table showed the phone number in full.
    req, [token] = open_step(spec(title=f"客户{PHONE}投诉<i>x</i>", case_id=f"C-{PHONE}"))
    client = zhidu.client()
    page = client.get(f"/a/{token}").text
    assert PHONE not in page and "客户139****5678投诉&lt;i&gt;x&lt;/i&gt;" in page
    data = form_of(client, token) | {"decision": "reject", "comment": f"请回电 {PHONE} <script>alert(1)</script>"}
    decided = client.post(f"/a/{token}", data=data).text
    later = client.get(f"/a/{token}").text
    for text in (decided, later):
        assert PHONE not in text and "请回电 139****5678 &lt;script&gt;" in text and "<script>" not in text


def test_a_second_tab_keeps_the_cookie_so_the_first_tabs_form_still_works(zhidu: Zhidu) -> None:
    # Was: SameSite=Strict; a link clicked in webmail arrives without the cookie, so each new tab replaced it and
    # the first tab's form was refused (403) with the comment lost.
    req, [token] = open_step(spec())
    client = zhidu.client()
    first = client.get(f"/a/{token}")
    assert "samesite=lax" in first.headers["set-cookie"].lower() and "httponly" in first.headers["set-cookie"].lower()
    tab1 = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', first.text))
    cookie = client.cookies["zhidu_csrf"]
    client.get(f"/a/{token}")  # tab 2
    assert client.cookies["zhidu_csrf"] == cookie
    assert client.post(f"/a/{token}", data=tab1 | {"decision": "approve"}).status_code == 200


def test_a_stale_csrf_token_decides_nothing_and_offers_the_form_again_with_the_text(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec(fields=[RESULT]))
    client = zhidu.client()
    form = form_of(client, token)
    other = TestClient(client.app, base_url="http://testserver")  # another browser: no / another cookie
    r = other.post(f"/a/{token}", data=form | {"decision": "approve", "comment": "我的意见", "f_result": "属实"})
    assert r.status_code == 403 and "决定尚未提交" in r.text and "我的意见" in r.text
    assert '<option value="属实" selected>' in r.text
    assert request_row(req.id).status == RequestStatus.pending and outboxes() == []
    again = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text))
    ok = other.post(f"/a/{token}", data=again | {"decision": "approve", "comment": "我的意见", "f_result": "属实"})
    assert ok.status_code == 200 and request_row(req.id).status == RequestStatus.approved
    cross = client.post(f"/a/{token}", data=form | {"decision": "reject"}, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403 and "决定尚未提交" not in cross.text


def test_a_huge_user_agent_is_cut_before_it_is_stored(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    client = zhidu.client()
    client.head(f"/a/{token}", headers={"user-agent": "S" * 20000})
    with Session(get_engine()) as session:
        [view] = session.exec(select(PageView)).all()
        assert view.user_agent == "S" * 500


def test_all_mode_two_approvals_at_the_same_moment_close_the_step_once(zhidu: Zhidu) -> None:
    req, tokens = open_step(spec(approvers=[WANG, LI], mode=Mode.all))
    clients = [zhidu.client() for _ in tokens]
    forms = [form_of(c, t) for c, t in zip(clients, tokens, strict=True)]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def click(i: int) -> None:
        barrier.wait()
        codes.append(clients[i].post(f"/a/{tokens[i]}", data=forms[i] | {"decision": "approve"}).status_code)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    assert request_row(req.id).status == RequestStatus.approved
    [outbox] = outboxes()
    assert sorted(v["approver"] for v in outbox.payload["votes"]) == ["li@example.com", "wang@example.com"]


def test_all_mode_approve_and_reject_at_the_same_moment_reject_once(zhidu: Zhidu) -> None:
    req, tokens = open_step(spec(approvers=[WANG, LI], mode=Mode.all))
    clients = [zhidu.client() for _ in tokens]
    forms = [form_of(c, t) for c, t in zip(clients, tokens, strict=True)]
    barrier = threading.Barrier(2)

    def click(i: int, decision: str) -> None:
        barrier.wait()
        clients[i].post(f"/a/{tokens[i]}", data=forms[i] | {"decision": decision})

    threads = [threading.Thread(target=click, args=(0, "approve")), threading.Thread(target=click, args=(1, "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert request_row(req.id).status == RequestStatus.rejected
    [outbox] = outboxes()
    assert outbox.payload["outcome"] == "reject"
    with Session(get_engine()) as session:
        assert len(session.exec(select(ApprovalAudit)).all()) in (1, 2)  # the approval counts only if it came first


def test_the_decision_artifact_escapes_html_markdown_and_line_breaks_and_masks() -> None:
    # Was: a comment "ok\n- 决定：**同意**" added a line to the artifact that looked like the decision; HTML went in raw.
    from tasks.approvals import md_text

    text = md_text(f"ok\n- 决定：**同意**\n<script>alert(1)</script> {PHONE} [x](javascript:alert(1))")
    assert "\n" not in text and "<" not in text and PHONE not in text
    assert text == (r"ok ⏎ \- 决定：\*\*同意\*\* ⏎ &lt;script&gt;alert\(1\)&lt;/script&gt; 139\*\*\*\*5678 "
                    r"\[x\]\(javascript:alert\(1\)\)")


def test_an_approver_with_a_malformed_address_is_refused_when_the_step_is_described() -> None:
    # Was: accepted; the step's mail then failed three retries later and the flow failed on the mail task.
    import pytest
    from pydantic import ValidationError

    for bad in ["wang", "wang@", "wang@example", "王 <wang@example.com>", "a@b.com, c@d.com", "wang@example.com\n"]:
        with pytest.raises(ValidationError, match="is not a mail address"):
            spec(approvers=[{"email": bad, "name": "王"}])
    assert spec(approvers=[{"email": "Wang.Li+qa@sub.example.com.cn", "name": "王"}]).approvers[0].email == \
        "Wang.Li+qa@sub.example.com.cn"


def test_a_post_to_an_escalated_step_is_refused_and_says_so(zhidu: Zhidu) -> None:
    from datetime import timedelta

    from tests.test_approvals import BOSS, Recorder
    from zhidu.approvals.delivery import ResumeOutcome
    from zhidu.approvals.schemas import EscalationLevel
    from zhidu.approvals.sweeper import sweep
    from zhidu.db import utcnow

    req, [token] = open_step(spec(deadline=utcnow() + timedelta(minutes=1),
                                  escalation=[EscalationLevel(approvers=[BOSS], within_hours=4)]))
    client = zhidu.client()
    form = form_of(client, token)
    assert sweep(now=utcnow() + timedelta(minutes=2), resumer=Recorder(ResumeOutcome.delivered)).escalated == [req.id]
    r = client.post(f"/a/{token}", data=form | {"decision": "approve"})
    assert r.status_code == 409 and "已升级至上一级处理" in r.text and 'id="decision-form"' not in r.text
    assert request_row(req.id).status == RequestStatus.escalated
    [outbox] = outboxes()
    assert outbox.payload["outcome"] == "escalated"
