"""The approval step without a flow: links, pages, atomic decisions, the outbox, reminders and escalation."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.approval import (
    ApprovalAudit,
    ApprovalLink,
    ApprovalRequest,
    DecisionOutbox,
    Mode,
    OutboxStatus,
    PageView,
    RequestStatus,
)
from tests.conftest import Zhidu
from zhidu.approvals.delivery import ResumeOutcome, ResumeResult, deliver_one
from zhidu.approvals.notify import send_approval_mail
from zhidu.approvals.schemas import ApprovalSpec, Approver, EscalationLevel, FormField
from zhidu.approvals.service import links_of, open_request
from zhidu.approvals.sweeper import sweep
from zhidu.approvals.tokens import csrf_token, make_token, read_token
from zhidu.db import get_engine, utcnow

WANG = Approver(email="wang@example.com", name="王经理")
LI = Approver(email="li@example.com", name="李主任")
BOSS = Approver(email="boss@example.com", name="赵总")


def spec(**kw: object) -> ApprovalSpec:
    base: dict[str, object] = {
        "process": "test", "case_id": "T-1", "step": "决策", "title": "测试事项",
        "details": {"客户电话": "13800138000", "说明": "<script>alert(1)</script>"},
        "approvers": [WANG], "deadline": utcnow() + timedelta(days=2),
    }
    return ApprovalSpec.model_validate(base | kw)


def open_step(s: ApprovalSpec, level: int = 0, now: datetime | None = None) -> tuple[ApprovalRequest, list[str]]:
    with Session(get_engine(), expire_on_commit=False) as session:
        req = open_request(session=session, spec=s, level=level, flow_run_id="run-1", now=now or utcnow())
        links = links_of(session=session, request_id=req.id)
        for link in links:
            send_approval_mail(session=session, request=req, link=link, kind="request")
        return req, [make_token(link_id=lk.id, request_id=req.id) for lk in links]


def form_of(client: TestClient, token: str) -> dict[str, str]:
    page = client.get(f"/a/{token}")
    assert page.status_code == 200
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))


def post(client: TestClient, token: str, decision: str, **extra: str) -> tuple[int, str]:
    data = form_of(client, token) | {"decision": decision, "comment": "同意"} | extra
    r = client.post(f"/a/{token}", data=data)
    return r.status_code, r.text


def request_row(request_id: str) -> ApprovalRequest:
    with Session(get_engine()) as session:
        row = session.get(ApprovalRequest, request_id)
        assert row is not None
        return row


def test_mail_has_masked_details_link_and_local_deadline(zhidu: Zhidu) -> None:
    deadline = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    req, tokens = open_step(spec(deadline=deadline))
    [item] = zhidu.inbox.wait_for(1)
    assert item.subject == "【待审批】测试事项"
    assert item.recipients == ["wang@example.com"]
    msg = zhidu.inbox.get(item.id)
    assert msg.text is not None and msg.html is not None
    assert "138****8000" in msg.text and "13800138000" not in msg.text and "13800138000" not in msg.html
    assert "2026年12月4日 17:30" in msg.text
    assert f"http://testserver/a/{tokens[0]}" in msg.text and f'href="http://testserver/a/{tokens[0]}"' in msg.html
    assert "<script>" not in msg.html and "&lt;script&gt;" in msg.html
    assert "<" not in msg.text.replace("<script>alert(1)</script>", "")


def test_get_and_head_never_decide(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    client = zhidu.client()
    for _ in range(3):
        assert client.get(f"/a/{token}", headers={"user-agent": "scanner"}).status_code == 200
    assert client.head(f"/a/{token}").status_code == 200
    assert request_row(req.id).status == RequestStatus.pending
    with Session(get_engine()) as session:
        assert len(session.exec(select(PageView)).all()) == 4
        assert session.exec(select(ApprovalAudit)).all() == []


def test_approve_once_then_page_shows_who_and_when(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    client = zhidu.client()
    form = form_of(client, token)
    code, text = post(client, token, "approve", comment="按规定处理")
    assert code == 200 and 'id="confirmation"' in text
    row = request_row(req.id)
    assert row.status == RequestStatus.approved and row.decided_by == "wang@example.com" and row.comment == "按规定处理"
    again = client.get(f"/a/{token}").text
    assert "此审批已由 王经理" in again and "decision-form" not in again
    second = client.post(f"/a/{token}", data=form | {"decision": "reject"})  # the same form a second time
    assert second.status_code == 409 and "此审批已由 王经理" in second.text and request_row(req.id).status == RequestStatus.approved
    with Session(get_engine()) as session:
        [audit] = session.exec(select(ApprovalAudit)).all()
        assert (audit.actor, audit.action, audit.comment, audit.ip) == ("wang@example.com", "approve", "按规定处理",
                                                                        "testclient")
        [outbox] = session.exec(select(DecisionOutbox)).all()
        assert outbox.status == OutboxStatus.pending and outbox.payload["outcome"] == "approve"
        assert outbox.last_error and "unreachable" in outbox.last_error  # Prefect is down in this fixture


def test_tampered_and_foreign_tokens_are_refused(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    other, [other_token] = open_step(spec(step="复核"))
    client = zhidu.client()
    assert client.get(f"/a/{token[:-2]}xx").status_code == 404
    # a link of step 1 posted with the form of step 2
    data = form_of(client, token) | {"request_id": other.id, "step": "复核", "decision": "approve"}
    assert client.post(f"/a/{token}", data=data).status_code == 409
    # a token whose link belongs to another request
    with Session(get_engine()) as session:
        link_of_other = links_of(session=session, request_id=other.id)[0]
    forged = make_token(link_id=link_of_other.id, request_id=req.id)
    assert client.get(f"/a/{forged}").status_code == 404
    assert request_row(req.id).status == request_row(other.id).status == RequestStatus.pending


def test_post_without_csrf_or_from_another_site_is_refused(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    client = zhidu.client()
    data = form_of(client, token) | {"decision": "approve"}
    assert client.post(f"/a/{token}", data=data, headers={"origin": "https://evil.example"}).status_code == 403
    fresh = TestClient(client.app, base_url="http://testserver")  # no cookie
    assert fresh.post(f"/a/{token}", data=data).status_code == 403
    assert request_row(req.id).status == RequestStatus.pending


def test_expired_link_says_when(zhidu: Zhidu) -> None:
    past = utcnow() - timedelta(days=10)
    req, [token] = open_step(spec(deadline=past), now=past - timedelta(days=1))
    client = zhidu.client()
    page = client.get(f"/a/{token}").text
    assert "此链接已于" in page and "过期" in page and "decision-form" not in page
    link_id, _ = read_token(token)
    csrf = csrf_token(cookie_value=client.cookies["zhidu_csrf"], link_id=link_id)
    data = {"csrf": csrf, "request_id": req.id, "step": req.step, "decision": "approve"}
    late = client.post(f"/a/{token}", data=data)
    assert late.status_code == 409 and "此链接已于" in late.text
    assert request_row(req.id).status == RequestStatus.pending


def test_concurrent_approve_and_reject_give_one_decision(zhidu: Zhidu) -> None:
    req, tokens = open_step(spec(approvers=[WANG, LI]))
    clients = [zhidu.client() for _ in tokens]
    forms = [form_of(c, t) for c, t in zip(clients, tokens, strict=True)]
    codes: list[int] = []
    barrier = threading.Barrier(len(tokens) * 2)

    def click(i: int, decision: str) -> None:
        barrier.wait()
        r = clients[i].post(f"/a/{tokens[i]}", data=forms[i] | {"decision": decision})
        codes.append(r.status_code)

    threads = [threading.Thread(target=click, args=(i, d)) for i in range(len(tokens)) for d in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409, 409, 409]
    with Session(get_engine()) as session:
        assert len(session.exec(select(DecisionOutbox)).all()) == 1
        assert len(session.exec(select(ApprovalAudit)).all()) == 1
        assert sum(1 for lk in session.exec(select(ApprovalLink)).all() if lk.used_at) == 1


def test_all_mode_needs_everyone_and_one_rejection_ends_it(zhidu: Zhidu) -> None:
    req, tokens = open_step(spec(approvers=[WANG, LI], mode=Mode.all))
    client = zhidu.client()
    code, text = post(client, tokens[0], "approve")
    assert code == 200 and "其余审批人尚未全部决定" in text
    assert request_row(req.id).status == RequestStatus.pending
    code, _ = post(client, tokens[1], "approve")
    assert code == 200 and request_row(req.id).status == RequestStatus.approved

    req2, tokens2 = open_step(spec(case_id="T-2", approvers=[WANG, LI], mode=Mode.all))
    post(client, tokens2[1], "reject")
    assert request_row(req2.id).status == RequestStatus.rejected
    assert "此审批已由 王经理" in client.get(f"/a/{tokens2[0]}").text  # links are in e-mail order: li, wang


def test_required_field_is_asked_for_and_nothing_changes(zhidu: Zhidu) -> None:
    s = spec(fields=[FormField(name="result", label="处理结果", kind="textarea", required=True)])
    req, [token] = open_step(s)
    client = zhidu.client()
    code, text = post(client, token, "approve")
    assert code == 422 and "请填写「处理结果」" in text
    assert request_row(req.id).status == RequestStatus.pending
    code, _ = post(client, token, "approve", f_result="已下架")
    assert code == 200
    with Session(get_engine()) as session:
        [outbox] = session.exec(select(DecisionOutbox)).all()
        assert outbox.payload["fields"] == {"result": "已下架"}


def test_opening_a_step_twice_creates_and_mails_once(zhidu: Zhidu) -> None:
    first, _ = open_step(spec())
    second, _ = open_step(spec())
    assert first.id == second.id
    assert len(zhidu.inbox.wait_for(1)) == 1
    with Session(get_engine()) as session:
        assert len(session.exec(select(ApprovalRequest)).all()) == 1


class Recorder:
    """A resumer standing in for Prefect where a test needs to see exactly what would be delivered."""

    def __init__(self, outcome: ResumeOutcome) -> None:
        self.outcome = outcome
        self.calls: list[tuple[str, str, dict[str, object]]] = []

    def resume(self, *, flow_run_id: str, key: str, run_input: dict[str, object]) -> ResumeResult:
        self.calls.append((flow_run_id, key, run_input))
        return ResumeResult(self.outcome)


def test_reminder_then_escalation_then_expiry(zhidu: Zhidu) -> None:
    t0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
    s = spec(deadline=t0 + timedelta(hours=8), remind_before_hours=2,
             escalation=[EscalationLevel(approvers=[BOSS], within_hours=4)])
    req, _ = open_step(s, now=t0)
    zhidu.inbox.wait_for(1)
    resumer = Recorder(ResumeOutcome.delivered)
    report = sweep(now=t0 + timedelta(hours=6, minutes=1), resumer=resumer)
    assert report.reminded == [req.id] and report.escalated == []
    subjects = [m.subject for m in zhidu.inbox.wait_for(2)]
    assert subjects[0].startswith("【催办】测试事项")
    assert sweep(now=t0 + timedelta(hours=6, minutes=2), resumer=resumer).reminded == []  # once only
    report = sweep(now=t0 + timedelta(hours=8, minutes=1), resumer=resumer)
    assert report.escalated == [req.id] and report.delivered == 1
    [(run, key, payload)] = resumer.calls
    assert (run, key, payload["outcome"], payload["level"]) == ("run-1", f"approval-{req.id}", "escalated", 0)
    # the flow opens level 1 for the boss; it expires after its deadline plus the grace period
    with Session(get_engine(), expire_on_commit=False) as session:
        level1 = open_request(session=session, spec=s, level=1, flow_run_id="run-1", now=t0 + timedelta(hours=8))
    assert level1.deadline == t0 + timedelta(hours=12)
    late = level1.expires_at + timedelta(minutes=1)
    report = sweep(now=late, resumer=resumer)
    assert report.expired == [level1.id] and request_row(level1.id).status == RequestStatus.expired


def test_decision_waits_in_outbox_until_delivery_succeeds(zhidu: Zhidu) -> None:
    req, [token] = open_step(spec())
    post(zhidu.client(), token, "approve")
    with Session(get_engine()) as session:
        [row] = session.exec(select(DecisionOutbox)).all()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    now = utcnow() + timedelta(seconds=1)
    assert deliver_one(outbox_id=row.id, resumer=Recorder(ResumeOutcome.retry), now=now) == ResumeOutcome.retry
    ok = Recorder(ResumeOutcome.delivered)
    assert deliver_one(outbox_id=row.id, resumer=ok, now=now + timedelta(seconds=1)) == ResumeOutcome.delivered
    assert deliver_one(outbox_id=row.id, resumer=ok, now=now + timedelta(seconds=2)) is None  # not twice
    assert len(ok.calls) == 1


@pytest.mark.parametrize("missing", ["approvers"])
def test_spec_needs_approvers(missing: str) -> None:
    with pytest.raises(ValueError):
        spec(approvers=[])
