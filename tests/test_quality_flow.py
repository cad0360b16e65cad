"""Quality-information routing end to end: a real Prefect server and runner, real SMTP, the real web app."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.approval import ApprovalRequest, DecisionOutbox, OutboxStatus
from models.quality import ItemStatus, QualityExecution, QualityItem, QualityItemCreate, Source
from tests.conftest import Stack
from tests.prefect_stack import poll
from zhidu.approvals.delivery import PrefectResumer
from zhidu.approvals.sweeper import sweep
from zhidu.db import get_engine, session_scope, utcnow
from zhidu.devmail import InboxItem
from zhidu.quality.intake import store_items

ROUTING = "quality-routing/quality-routing"


def register(item: QualityItemCreate) -> str:
    with session_scope() as session:
        [stored] = store_items(session=session, items=[item], now=utcnow())
    return stored.number


def mail_to(stack: Stack, who: str, subject_part: str, timeout: float = 60) -> InboxItem:
    def find() -> InboxItem | None:
        if stack.prefect.server is not None:  # stand in for the minute sweeper (the test stack has no schedules)
            sweep(now=utcnow(), resumer=PrefectResumer())
        return next((m for m in stack.zhidu.inbox.list() if who in m.recipients and subject_part in m.subject), None)

    return poll(find, timeout, f"a mail to {who} about {subject_part}")


def link_in(stack: Stack, mail: InboxItem) -> str:
    text = stack.zhidu.inbox.get(mail.id).text or ""
    found = re.search(r"http://testserver(/a/\S+)", text)
    assert found, text
    return found.group(1)


def decide(client: TestClient, path: str, decision: str, comment: str = "", **fields: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    form |= {"decision": decision, "comment": comment} | {f"f_{k}": v for k, v in fields.items()}
    answer = client.post(path, data=form)
    assert answer.status_code == 200 and 'id="confirmation"' in answer.text, answer.text


def item(number: str) -> QualityItem:
    with Session(get_engine()) as session:
        return session.exec(select(QualityItem).where(QualityItem.number == number)).one()


def test_class_c_department_decides_executes_and_reports_to_qa(stack: Stack) -> None:
    number = register(QualityItemCreate(source=Source.outside, kind="质量投诉", title="包装破损", departments=["STORE"],
                                        description="顾客来电 13912345678 反映包装破损", reporter="郑客服"))
    assert item(number).qclass == "C"
    run = stack.prefect.run(ROUTING, {"number": number})
    mail = mail_to(stack, "zhou.store@pharmacy.example.com", "C类决策")
    state = stack.prefect.wait_state(run, "PAUSED")
    assert state["name"] == "Suspended"
    path = link_in(stack, mail)
    client = stack.zhidu.client()
    for _ in range(2):  # a scanner and a preview: nothing moves
        client.get(path)
        client.head(path)
    assert stack.prefect.state(run)["type"] == "PAUSED" and item(number).status == ItemStatus.open
    decide(client, path, "approve", "同意换货")
    confirm = mail_to(stack, "zhou.store@pharmacy.example.com", "执行确认")
    decide(stack.zhidu.client(), link_in(stack, confirm), "approve", "", result="已为顾客换货")
    stack.prefect.wait_state(run, "COMPLETED")
    report = mail_to(stack, "qian.qa@pharmacy.example.com", "处理结果报告")
    assert "已为顾客换货" in (stack.zhidu.inbox.get(report.id).text or "")
    done = item(number)
    assert (done.status, done.decision, done.decided_by) == (ItemStatus.closed, "同意换货", "周店长")
    with Session(get_engine()) as session:
        [execution] = session.exec(select(QualityExecution)).all()
        assert (execution.department, execution.result) == ("STORE", "已为顾客换货")
    # every mail went out exactly once, even though the run was resumed twice
    subjects = [m.subject for m in stack.zhidu.inbox.list() if number in m.subject or "包装破损" in m.subject]
    assert len(subjects) == len(set(subjects)) == 3


def test_class_a_sudden_major_feedback_then_leader_then_all_departments(stack: Stack) -> None:
    number = register(QualityItemCreate(source=Source.outside, kind="药品抽查公告", title="抽查不合格批次",
                                        departments=["PUR", "WH"], description="批号 A2611 抽查不合格",
                                        reporter="孙质管员", sudden_major=True))
    got = item(number)
    assert got.qclass == "A" and got.feedback_due == got.created_at + timedelta(hours=24)
    run = stack.prefect.run(ROUTING, {"number": number})
    feedback = mail_to(stack, "qian.qa@pharmacy.example.com", "书面反馈")
    decide(stack.zhidu.client(), link_in(stack, feedback), "approve", "", feedback="已通知全店下架")
    leader = mail_to(stack, "zhao.gm@pharmacy.example.com", "A类决策")
    forms = [m for m in stack.zhidu.inbox.list() if "质量信息反馈单" in m.subject]
    assert sorted(r for m in forms for r in m.recipients) == [
        "li.buy@pharmacy.example.com", "wu.wh@pharmacy.example.com", "zhao.gm@pharmacy.example.com"]
    decide(stack.zhidu.client(), link_in(stack, leader), "approve", "立即下架，通知顾客")
    li = mail_to(stack, "li.buy@pharmacy.example.com", "执行确认")
    wu = mail_to(stack, "wu.wh@pharmacy.example.com", "执行确认")
    decide(stack.zhidu.client(), link_in(stack, li), "approve", "", result="已联系供应商退货")
    assert stack.prefect.wait_state(run, "PAUSED")  # still waiting for the warehouse (会签)
    decide(stack.zhidu.client(), link_in(stack, wu), "approve", "", result="已封存")
    stack.prefect.wait_state(run, "COMPLETED")
    done = item(number)
    assert done.status == ItemStatus.closed and done.feedback_sent_at is not None
    assert done.feedback_sent_at <= done.feedback_due  # type: ignore[operator]


def test_class_b_rejected_closes_and_decision_survives_prefect_outage(stack: Stack, monkeypatch: object) -> None:
    number = register(QualityItemCreate(source=Source.inside, kind="质量信息反馈单", title="温度记录缺失",
                                        departments=["PUR", "WH"], description="到货温度记录缺失", reporter="吴仓管"))
    assert item(number).qclass == "B"
    run = stack.prefect.run(ROUTING, {"number": number})
    mail = mail_to(stack, "li.buy@pharmacy.example.com", "B类决策")
    stack.prefect.wait_state(run, "PAUSED")
    stack.prefect.stop_server()
    try:
        decide(stack.zhidu.client(), link_in(stack, mail), "reject", "供应商已补交记录，无需处理")
        with Session(get_engine()) as session:
            [row] = session.exec(select(DecisionOutbox).join(ApprovalRequest, ApprovalRequest.id == DecisionOutbox.request_id)
                                 .where(ApprovalRequest.case_id == number)).all()
        assert row.status == OutboxStatus.pending and "unreachable" in (row.last_error or "")
    finally:
        stack.prefect.start_server()
    poll(lambda: sweep(now=utcnow() + timedelta(minutes=10), resumer=PrefectResumer()).delivered, 60, "delivery")
    stack.prefect.wait_state(run, "COMPLETED", timeout=120)
    done = item(number)
    assert (done.status, done.decision) == (ItemStatus.rejected, "供应商已补交记录，无需处理")
