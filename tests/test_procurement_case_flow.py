"""The purchase case end to end (篇二 第二章): a real Prefect server and runner, real SMTP, the real web app.

Decisions are made by clicking the emailed links; data entry goes through ``zhidu.procurement.entry`` (what the
CLI calls), which closes the waiting to-do and wakes the flow.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from models.procurement import PurchaseCase, Stage
from tests.conftest import Stack
from tests.prefect_stack import poll
from tests.test_quality_flow import decide, link_in
from zhidu.approvals.delivery import PrefectResumer
from zhidu.approvals.sweeper import sweep
from zhidu.db import get_engine, utcnow
from zhidu.devmail import InboxItem
from zhidu.procurement import entry
from zhidu.procurement.demo import D
from zhidu.procurement.schemas import ItemIn, QuoteIn, RequestIn

CASE = "procurement-case/procurement-case"
LEDGER = "procurement-ledger-check/procurement-ledger-check"
IT, LEADER, BUYER = "li.ming@factory.example.com", "wang.jianguo@factory.example.com", "zhang.wei@factory.example.com"
ASSET, KEEPER, FIN = "zhao.jing@factory.example.com", "sun.li@factory.example.com", "zhou.min@factory.example.com"
REQUESTER = "chen.qiang@factory.example.com"


class Mails:
    """Each mail once: the next not yet seen mail to ``who`` whose subject has ``part``."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.seen = stack, {m.id for m in stack.zhidu.inbox.list()}

    def next(self, who: str, part: str, timeout: float = 90) -> InboxItem:
        def find() -> InboxItem | None:
            # The test stack serves without schedules, so stand in for the minute sweeper: a decision posted
            # before its run had finished suspending waits in the outbox until a sweep delivers it.
            sweep(now=utcnow(), resumer=PrefectResumer())
            for m in self.stack.zhidu.inbox.list():
                if m.id not in self.seen and who in m.recipients and part in m.subject:
                    return m
            return None

        mail = poll(find, timeout, f"a new mail to {who} about {part}")
        self.seen.add(mail.id)
        return mail

    def decide(self, who: str, part: str, decision: str, comment: str = "", **fields: str) -> None:
        mail = self.next(who, part)
        decide(self.stack.zhidu.client(), link_in(self.stack, mail), decision, comment, **fields)

    def text(self, mail: InboxItem) -> str:
        return self.stack.zhidu.inbox.get(mail.id).text or ""


def request(title: str, items: list[ItemIn], amounts: list[str], need: str = "2026年度信息化发展计划") -> dict[str, Any]:
    quotes = [QuoteIn(supplier=s, amount=D(a), selected=n == 0)
              for n, (s, a) in enumerate(zip(["甲科技有限公司", "乙电脑商行", "丙信息技术公司"], amounts, strict=True))]
    data = RequestIn(title=title, need=need, items=items, quotes=quotes, comparison_note="三家比价，甲科技性价比最高")
    return data.model_dump(mode="json")


def start(stack: Stack, number: str) -> str:
    """Start the case flow (the runner registers the deployments one after another: wait for ours)."""
    poll(lambda: stack.prefect.deployment_id(CASE) and stack.prefect.deployment_id(LEDGER), 120, "our deployments")
    return stack.prefect.run(CASE, {"number": number})


def case(number: str) -> PurchaseCase:
    with Session(get_engine()) as session:
        return session.exec(select(PurchaseCase).where(PurchaseCase.number == number)).one()


def paused(stack: Stack, run: str) -> None:
    """The run waits (suspended) on its next step; a decision entered now is delivered at once."""
    stack.prefect.wait_state(run, "PAUSED")


def vat(number: str, amount: str, tax: str, kind: str = "vat_special") -> dict[str, str]:
    return {"kind": kind, "code": "4400261130", "number": number, "issued_on": utcnow().date().isoformat(),
            "amount": amount, "tax": tax}


def task_names(stack: Stack, run: str) -> set[str]:
    names: set[str] = set()
    for offset in range(0, 5000, 200):
        answer = httpx.post(f"{stack.prefect.api}/task_runs/filter", timeout=10,
                            json={"flow_runs": {"id": {"any_": [run]}}, "limit": 200, "offset": offset})
        page = [t["name"] for t in answer.raise_for_status().json()]
        names.update(page)
        if len(page) < 200:
            return names
    return names


def test_happy_path_request_to_paid_with_two_approvers_at_the_same_moment(stack: Stack) -> None:
    mails = Mails(stack)
    raw = request("机房服务器采购", [
        ItemIn(name="服务器", category="SRV", model="华为 2288H V6", specification="2×银牌4314/128G/4×2.4T",
               quantity=1, unit_price=D("52000.00"), configuration=["主机", "导轨", "电源模块×2"]),
        ItemIn(name="硒鼓", category="CON", model="HP 88A", specification="CC388A", quantity=2,
               unit_price=D("320.50"))], ["52641.00", "53800.00", "54100.00"])
    number = entry.new_case(raw=raw, requester="p-it-buyer", department="IT")
    run = start(stack, number)

    # above the threshold: IT centre and factory leader (会签); both click at the same moment
    pages: list[tuple[TestClient, str, dict[str, str]]] = []
    for who in (IT, LEADER):
        client, path = stack.zhidu.client(), link_in(stack, mails.next(who, "信息中心、厂领导会签"))
        page = client.get(path)
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        pages.append((client, path, form | {"decision": "approve", "comment": "同意"}))
    paused(stack, run)
    barrier, answers = threading.Barrier(2), []

    def click(client: TestClient, path: str, form: dict[str, str]) -> None:
        barrier.wait()
        answers.append(client.post(path, data=form).status_code)

    threads = [threading.Thread(target=click, args=p) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200]

    mails.next(BUYER, "【待办】下单")
    paused(stack, run)
    assert entry.order(number=number, raw={"supplier": "甲科技有限公司", "contract_no": f"HT-{number}",
                                           "signed_on": utcnow().date().isoformat()}, by="p-it-buyer") == f"HT-{number}"
    mails.decide(BUYER, "到货验收（第1项「服务器」）", "approve")
    mails.decide(BUYER, "到货验收（第2项「硒鼓」）", "approve")
    mails.decide(IT, "验收记录签字确认：机房服务器采购", "approve", "验收资料齐全")
    mails.next(ASSET, "【待办】入库/固定资产登记")
    paused(stack, run)
    [tag] = entry.register(number=number, line=1, custodian="p-it-head", location="机房 A-01", by="p-it-asset")
    assert tag.startswith("ZC-SRV-")
    entry.warehouse(number=number, line=2, quantity=2, location="仓库 A-03", by="p-wh-keeper")
    mails.next(BUYER, "【待办】报账")
    paused(stack, run)
    assert entry.claim(number=number, raw={"invoices": [vat("12000001", "46584.96", "6056.04")]}, by="p-it-buyer").accepted
    mails.decide(FIN, "报账审核：机房服务器采购", "approve", "票据齐全")
    mails.decide(FIN, "付款：机房服务器采购", "approve", payment_ref="付-2026-1203", account="6222 0202 0011 2233 445")
    stack.prefect.wait_state(run, "COMPLETED", timeout=120)

    done = case(number)
    assert done.stage == Stage.paid and done.closed_at is not None
    with Session(get_engine()) as session:
        votes = session.execute(text("select count(*) from approval_link l join approval_request r on "
                                     "r.id = l.request_id where r.case_id = :n and r.step = 'request_v1' "
                                     "and l.decision = 'approve'"), {"n": number}).scalar()  # fmt: skip
        outbox = session.execute(text("select count(*) from approval_outbox o join approval_request r on "
                                      "r.id = o.request_id where r.case_id = :n and r.step = 'request_v1'"),
                                 {"n": number}).scalar()  # fmt: skip
    assert (votes, outbox) == (2, 1)  # two votes, one decision
    page = stack.zhidu.client().get(f"/procurement/{number}")
    assert page.status_code == 200
    assert '<td id="stage">已付款</td>' in page.text and "会签：" in page.text
    assert "6222***********3445" in page.text and "2233445" not in page.text
    assert "已付款 ¥52,641.00" in page.text
    stages = ("申请审批", "下单", "验收", "验收签认", "入库/固定资产登记", "报账", "报销审批", "付款", "办结")

    def every_stage_shown() -> bool:  # task runs reach the API as events, shortly after the flow run's state
        names = task_names(stack, run)
        return all(any(n.startswith(f"{stage}-{number}") for n in names) for stage in stages)

    poll(every_stage_shown, 60, f"a task run per stage of {number} in the Prefect API")
    listing = stack.zhidu.client().get("/procurement")
    assert f'<a href="/procurement/{number}">{number}</a>' in listing.text


def test_returned_request_nonconforming_item_and_refused_claims_money_exact(stack: Stack) -> None:
    mails = Mails(stack)
    items = [ItemIn(name="U盘", category="CON", model="闪迪 CZ73", specification="64G", quantity=1,
                    unit_price=D("0.10")),
             ItemIn(name="数据线", category="CON", model="绿联 US287", specification="1米", quantity=1,
                    unit_price=D("0.20"))]  # fmt: skip
    number = entry.new_case(raw=request("车间数据采集耗材采购", items, ["0.30", "0.35", "0.40"]),
                            requester="p-prod-head", department="PROD")
    run = start(stack, number)
    mails.decide(IT, "采购申请审批（信息中心）：车间数据采集耗材采购", "reject", "", reason="未说明用于哪条产线")
    mails.next(REQUESTER, "【待办】修改申请")
    paused(stack, run)
    amended = request("车间数据采集耗材采购", items, ["0.30", "0.35", "0.40"], need="2026年度计划第9项：二号产线数据采集")
    assert entry.amend(number=number, raw=amended, by="p-prod-head", note="补充产线说明") == 2
    mails.decide(IT, "采购申请审批（信息中心）：车间数据采集耗材采购", "approve")
    mails.next(BUYER, "【待办】下单")
    paused(stack, run)
    entry.order(number=number, raw={"supplier": "甲科技有限公司", "contract_no": f"HT-{number}",
                                    "signed_on": utcnow().date().isoformat()}, by="p-it-buyer")
    mails.decide(BUYER, "到货验收（第1项「U盘」）", "reject", "", reason="外壳破损", nonconforming="1")
    replacement = mails.next(BUYER, "退换复验（第1项「U盘」）")
    assert "外壳破损" in stack.zhidu.client().get(f"/procurement/{number}").text
    decide(stack.zhidu.client(), link_in(stack, replacement), "approve", "换货合格")
    mails.decide(BUYER, "到货验收（第2项「数据线」）", "approve")
    mails.decide(IT, "验收记录签字确认：车间数据采集耗材采购", "approve")
    mails.next(KEEPER, "【待办】入库/固定资产登记")
    paused(stack, run)

    good = {"invoices": [vat("12000002", "0.27", "0.03")]}
    early = entry.claim(number=number, raw=good, by="p-it-buyer")
    assert not early.accepted and "第1项「U盘」：合同 1 件，已入库或转固定资产 0 件，尚有 1 件未入库" in early.reasons
    entry.warehouse(number=number, line=1, quantity=1, location="仓库 B-01", by="p-wh-keeper")
    entry.warehouse(number=number, line=2, quantity=1, location="仓库 B-01", by="p-wh-keeper")
    mails.next(BUYER, "【待办】报账")
    paused(stack, run)
    receipt = entry.claim(number=number, raw={"invoices": [vat("12000003", "0.27", "0.03", kind="other")]},
                          by="p-it-buyer")  # fmt: skip
    assert not receipt.accepted and any(r.startswith("缺少增值税发票") for r in receipt.reasons)
    wrong = entry.claim(number=number, raw={"invoices": [vat("12000004", "0.28", "0.03")]}, by="p-it-buyer")
    assert wrong.reasons == [f"发票价税合计 ¥0.31 与合同 HT-{number} 金额 ¥0.30 不一致，多 ¥0.01"]
    assert entry.claim(number=number, raw=good, by="p-it-buyer").accepted
    mails.decide(FIN, "报账审核：车间数据采集耗材采购", "approve")
    mails.decide(FIN, "付款：车间数据采集耗材采购", "approve", payment_ref="付-2026-0001", account="6222020200119988")
    stack.prefect.wait_state(run, "COMPLETED", timeout=120)

    refused = [m for m in stack.zhidu.inbox.list() if m.subject == f"报账未受理：采购 {number}"]
    assert len(refused) == 3
    page = stack.zhidu.client().get(f"/procurement/{number}").text
    refusals = page.split('id="refusals"')[1].split("</table>")[0]
    for reason in ("采购申请第1版被退回：未说明用于哪条产线", "1 件不合格（外壳破损），已办理退换", "尚有 1 件未入库",
                   "缺少增值税发票", "不一致，多 ¥0.01"):
        assert reason in refusals, reason
    assert "退换后的 1 件复验合格" in page
    with Session(get_engine()) as session:
        stored = {q: str(session.execute(text(q), {"n": number}).scalar()) for q in (
            "select v.total from procurement_request_version v join procurement_case c on c.id = v.case_id "
            "where c.number = :n and v.version = 2",
            "select o.total from procurement_order o join procurement_case c on c.id = o.case_id where c.number = :n",
            "select c2.amount from procurement_claim c2 join procurement_case c on c.id = c2.case_id "
            "where c.number = :n and c2.status = 'paid'",
        )}  # fmt: skip
        entries = session.execute(text("select w.amount from procurement_warehouse_entry w join procurement_case c "
                                       "on c.id = w.case_id where c.number = :n order by w.entry_no"),
                                  {"n": number}).scalars().all()  # fmt: skip
    assert list(stored.values()) == ["0.30", "0.30", "0.30"]
    assert [Decimal(str(a)) for a in entries] == [Decimal("0.10"), Decimal("0.20")]
    assert sum((Decimal(str(a)) for a in entries), Decimal("0")) == Decimal("0.30")
    assert case(number).stage == Stage.paid


def test_demo_purchase_waits_for_the_it_centre_and_ledger_check_finds_the_planted_mismatches(stack: Stack) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from zhidu.procurement.demo import start_demo

    mails = Mails(stack)
    poll(lambda: stack.prefect.deployment_id(CASE) and stack.prefect.deployment_id(LEDGER), 120, "our deployments")
    with temporary_settings(updates={PREFECT_API_URL: stack.prefect.api}):
        line = start_demo()
        assert line is not None and "演示采购" in line
        assert start_demo() is None  # loaded once
    with Session(get_engine()) as session:
        live = session.exec(select(PurchaseCase).where(PurchaseCase.title == "信息中心运维笔记本电脑采购")).one()
    assert "13,053.00" in mails.text(mails.next(IT, "采购申请审批（信息中心）：信息中心运维笔记本电脑采购"))
    report = mails.next(IT, "【账物核对】")
    body = mails.text(report)
    for planted in ("第2项「超五类网线」：已验收 20 件，已登记 0 件，尚有 20 件未入库",
                    "资产「ZC-NET-2025-0001」登记价值 ¥57,800.00，合同单价 ¥58,000.00",
                    "资产「ZC-PC-2025-0099」（笔记本电脑，¥6,500.00）没有对应的采购合同和验收记录",
                    "金额 ¥2,860.00，合同金额 ¥2,680.00，相差 ¥180.00", "同一采购报账 2 次"):
        assert planted in body, planted
    assert "待清查 1 项" in report.subject and "ZC-PC-2025-0002" in body
    task = mails.next(ASSET, "资产清查：ZC-PC-2025-0002")
    assert "质检楼 203 室 → 质检楼 305 室" in mails.text(task)
    answer = httpx.post(f"{stack.prefect.api}/artifacts/filter", timeout=10,
                        json={"artifacts": {"key": {"any_": ["procurement-ledger-mismatches"]}}})
    [artifact] = [a for a in answer.raise_for_status().json() if a["type"] == "table"][-1:]
    assert "ZC-PC-2025-0099" in str(artifact["data"]) and "ZC-NET-2025-0001" in str(artifact["data"])
    assert case(live.number).stage == Stage.approval
