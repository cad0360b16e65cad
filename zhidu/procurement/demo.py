"""Demo data: one purchase along the happy path, and planted ledger mismatches (see data/samples/procurement_demo.md).

``seed_demo`` runs three purchases through the real functions, then plants exactly five mismatches, which
``reconcile`` must find (tests/test_procurement_reconcile.py asserts exactly those):

1. accepted_not_registered — CG-2025-0002 line 2 (超五类网线, 20 units accepted, never entered into the warehouse)
2. value_differs — ZC-NET-2025-0001 ledger value edited to ¥57,800.00, contract price ¥58,000.00
3. registered_without_acceptance — ZC-PC-2025-0099, a laptop put in the ledger with no purchase at all
4. reimbursed_amount_differs — claim 3 of CG-2025-0003, ¥2,860.00 against a contract of ¥2,680.00
5. reimbursed_twice — CG-2025-0003 reimbursed by claims 2 and 3
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from models.approval import Outcome
from models.procurement import AssetRecord, Claim, ClaimStatus, Invoice, InvoiceKind
from zhidu.procurement.acceptance import apply_acceptance_decision, record_check
from zhidu.procurement.case import order_items
from zhidu.procurement.orders import place_order
from zhidu.procurement.registration import enter_warehouse, register_assets
from zhidu.procurement.reimbursement import apply_reimbursement_decision, record_payment, submit_claim
from zhidu.procurement.requests import apply_request_decision, open_case
from zhidu.procurement.schemas import InvoiceIn, ItemIn, OrderLineIn, QuoteIn, RequestIn

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 3 March 2025, 09:00 Shanghai
DEMO_MARKER = "CG-2025-0001"  # the happy-path demo purchase: present means the demo is loaded
PC_CONFIG = ["主机", "23.8英寸显示器", "键盘", "鼠标", "电源线"]


def D(value: str) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(value)


def request_pcs() -> RequestIn:
    """质检部: 2 desktop PCs (fixed assets) and 4 toner cartridges (warehouse), ¥13,280.00."""
    return RequestIn(
        title="质检部检测数据录入终端采购",
        need="2025年度信息化发展计划第3项：质检部检测数据录入终端更新",
        items=[
            ItemIn(name="台式计算机", category="PC", model="联想 启天 M437", specification="i5-12500/16G/512G SSD",
                   quantity=2, unit_price=D("5999.00"), configuration=PC_CONFIG),
            ItemIn(name="硒鼓", category="CON", model="HP 88A", specification="CC388A 黑色", quantity=4,
                   unit_price=D("320.50")),
        ],
        quotes=[
            QuoteIn(supplier="甲科技有限公司", amount=D("13280.00"), selected=True),
            QuoteIn(supplier="乙电脑商行", amount=D("13650.00")),
            QuoteIn(supplier="丙信息技术公司", amount=D("13900.00")),
        ],
        comparison_note="三家配置相同，甲科技价格最低且提供三年上门保修，性价比最高",
    )  # fmt: skip


def as_order(data: RequestIn) -> list[OrderLineIn]:
    """The contract lines exactly as requested."""
    return [OrderLineIn(request_line=n, **i.model_dump()) for n, i in enumerate(data.items, start=1)]


def vat(number: str, amount: str, tax: str, issued_on: date = date(2025, 3, 20)) -> InvoiceIn:
    return InvoiceIn(kind=InvoiceKind.vat_special, code="4400251130", number=number, issued_on=issued_on,
                     amount=D(amount), tax=D(tax))  # fmt: skip


def advance_to_registration(session: Session, case_id: str, data: RequestIn, contract_no: str, at: datetime) -> None:
    """Approve, order exactly as requested, accept everything, sign the acceptance record."""
    apply_request_decision(session=session, case_id=case_id, outcome=Outcome.approve, approver="p-it-head",
                           decided_at=at + timedelta(hours=2))  # fmt: skip
    place_order(session=session, case_id=case_id, supplier=data.quotes[0].supplier, contract_no=contract_no,
                signed_on=date(2025, 3, 4), lines=as_order(data), by="p-it-buyer",
                at=at + timedelta(days=1))  # fmt: skip
    for item in order_items(session, case_id):
        record_check(session=session, case_id=case_id, line=item.line, quantity=item.quantity, conforming=True,
                     by="p-it-buyer", at=at + timedelta(days=8))  # fmt: skip
    apply_acceptance_decision(session=session, case_id=case_id, outcome=Outcome.approve, approver="p-it-head",
                              decided_at=at + timedelta(days=8, hours=3))  # fmt: skip


def run_happy_path(session: Session, at: datetime = T0) -> str:
    """CG-2025-0001: request → approval → order → acceptance → registration → reimbursement → paid."""
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=at)
    advance_to_registration(session, case.id, data, "HT-2025-031", at)
    register_assets(session=session, case_id=case.id, line=1, quantity=2, custodian="p-qc-head",
                    location="质检楼 203 室", by="p-it-asset", at=at + timedelta(days=9))  # fmt: skip
    enter_warehouse(session=session, case_id=case.id, line=2, quantity=4, location="仓库 A-02",
                    by="p-wh-keeper", at=at + timedelta(days=9))  # fmt: skip
    outcome = submit_claim(session=session, case_id=case.id, claimant="p-it-buyer",
                           invoices=[vat("03190001", "11752.21", "1527.79")], at=at + timedelta(days=17))  # fmt: skip
    assert outcome.accepted, outcome.reasons
    apply_reimbursement_decision(session=session, case_id=case.id, outcome=Outcome.approve, approver="p-fin-head",
                                 decided_at=at + timedelta(days=17, hours=2))  # fmt: skip
    record_payment(session=session, case_id=case.id, paid_by="p-fin-clerk", payment_ref="付-2025-0318",
                   at=at + timedelta(days=18))  # fmt: skip
    return case.id


@dataclass(frozen=True)
class DemoSeed:
    happy: str  # case id of CG-2025-0001 (paid, consistent)
    network: str  # case id of CG-2025-0002 (planted 1 and 2)
    printer: str  # case id of CG-2025-0003 (planted 4 and 5)
    orphan_tag: str  # planted 3


def seed_demo(*, session: Session, at: datetime = T0) -> DemoSeed:
    """The demo purchases and the five planted mismatches listed in this module's docstring."""
    happy = run_happy_path(session, at)

    network = RequestIn(
        title="生产部车间网络改造", need="2025年度信息化发展计划第5项：生产车间网络改造",
        items=[
            ItemIn(name="核心交换机", category="NET", model="华为 S5735", specification="48口千兆/4口万兆",
                   quantity=1, unit_price=D("58000.00"), configuration=["主机", "电源模块×2", "光模块×4"]),
            ItemIn(name="超五类网线", category="CON", model="安普 CAT5e", specification="305米/箱", quantity=20,
                   unit_price=D("12.50")),
        ],
        quotes=[QuoteIn(supplier="丁网络工程公司", amount=D("58250.00"), selected=True),
                QuoteIn(supplier="戊通信设备公司", amount=D("59900.00")),
                QuoteIn(supplier="己系统集成公司", amount=D("61000.00"))],
        comparison_note="丁网络报价最低，设备同型号，含安装调试",
    )  # fmt: skip
    case2 = open_case(session=session, data=network, requester="p-prod-head", department="PROD", at=at)
    advance_to_registration(session, case2.id, network, "HT-2025-032", at)
    [switch] = register_assets(session=session, case_id=case2.id, line=1, custodian="p-it-head",
                               location="生产楼弱电间", by="p-it-asset", at=at + timedelta(days=9))  # fmt: skip
    switch.value = D("57800.00")  # planted 2: ledger value edited by hand

    printer = RequestIn(
        title="厂办公室打印机采购", need="厂办公室打印机报废更新（2025年度计划第7项）",
        items=[ItemIn(name="激光打印机", category="PRN", model="HP M405dn", specification="A4 黑白 双面",
                      quantity=1, unit_price=D("2680.00"), configuration=["主机", "硒鼓", "电源线", "USB线"])],
        quotes=[QuoteIn(supplier="甲科技有限公司", amount=D("2680.00"), selected=True),
                QuoteIn(supplier="乙电脑商行", amount=D("2750.00")),
                QuoteIn(supplier="庚办公设备公司", amount=D("2799.00"))],
        comparison_note="甲科技价格最低",
    )  # fmt: skip
    case3 = open_case(session=session, data=printer, requester="p-off-head", department="ADM", at=at)
    advance_to_registration(session, case3.id, printer, "HT-2025-033", at)
    register_assets(session=session, case_id=case3.id, line=1, custodian="p-off-head", location="办公楼 101 室",
                    by="p-it-asset", at=at + timedelta(days=9))  # fmt: skip
    outcome = submit_claim(session=session, case_id=case3.id, claimant="p-it-buyer",
                           invoices=[vat("03190002", "2371.68", "308.32")], at=at + timedelta(days=17))  # fmt: skip
    assert outcome.accepted, outcome.reasons
    apply_reimbursement_decision(session=session, case_id=case3.id, outcome="approve", approver="p-fin-head",
                                 decided_at=at + timedelta(days=17, hours=1))  # fmt: skip
    record_payment(session=session, case_id=case3.id, paid_by="p-fin-clerk", payment_ref="付-2025-0319",
                   at=at + timedelta(days=18))  # fmt: skip
    # planted 4 and 5: a second, paid claim of a different amount, entered outside zhidu
    paid_at = at + timedelta(days=25)
    extra = Claim(case_id=case3.id, claimant="p-it-buyer", amount=D("2860.00"), status=ClaimStatus.paid,
                  submitted_at=paid_at, decided_by="p-fin-head", decided_at=paid_at, paid_by="p-fin-clerk",
                  paid_at=paid_at, payment_ref="付-2025-0327")  # fmt: skip
    session.add(extra)
    session.flush()
    assert extra.id is not None
    session.add(Invoice(claim_id=extra.id, case_id=case3.id, kind=InvoiceKind.vat_ordinary, code="4400251130",
                        number="03190003", issued_on=date(2025, 3, 27), amount=D("2530.97"),
                        tax=D("329.03")))  # fmt: skip

    orphan = AssetRecord(
        tag="ZC-PC-2025-0099", category="PC", name="笔记本电脑", model="ThinkPad E14", configuration=["主机", "电源"],
        custodian="p-off-head", location="办公楼 102 室", value=D("6500.00"), registered_by="p-it-asset",
        registered_at=at + timedelta(days=20),
    )  # planted 3: in the ledger, but never purchased or accepted  # fmt: skip
    session.add(orphan)
    session.flush()
    return DemoSeed(happy=happy, network=case2.id, printer=case3.id, orphan_tag=orphan.tag)


def request_laptops() -> RequestIn:
    """The live demo purchase: 信息中心 2 laptops (fixed assets) and 10 mice (warehouse), ¥13,053.00."""
    return RequestIn(
        title="信息中心运维笔记本电脑采购",
        need="2026年度信息化发展计划第2项：信息中心运维终端更新",
        items=[
            ItemIn(name="笔记本电脑", category="PC", model="ThinkPad T14", specification="i7-1355U/32G/1T SSD",
                   quantity=2, unit_price=D("6299.00"), configuration=["主机", "电源适配器", "说明书"]),
            ItemIn(name="无线鼠标", category="CON", model="罗技 M330", specification="静音 黑色", quantity=10,
                   unit_price=D("45.50")),
        ],
        quotes=[
            QuoteIn(supplier="甲科技有限公司", amount=D("13053.00"), selected=True),
            QuoteIn(supplier="乙电脑商行", amount=D("13399.00")),
            QuoteIn(supplier="丙信息技术公司", amount=D("13560.00")),
        ],
        comparison_note="三家同型号，甲科技价格最低、到货最快并提供三年上门保修",
    )  # fmt: skip


def start_demo() -> str | None:
    """Load the demo once: the three 2025 purchases with their planted mismatches, a reallocated asset (清查 task),
    and a live purchase whose request approval mail is in the inbox; start its case flow and a ledger check."""
    from prefect.deployments import run_deployment
    from sqlmodel import select

    from flows.procurement_case import start_case_run
    from models.procurement import PurchaseCase
    from zhidu.db import session_scope
    from zhidu.procurement.inventory import reallocate_asset

    with session_scope() as session:
        if session.exec(select(PurchaseCase).where(PurchaseCase.number == DEMO_MARKER)).first() is not None:
            return None
        seed_demo(session=session)
        reallocate_asset(session=session, tag="ZC-PC-2025-0002", custodian="p-qc-head", location="质检楼 305 室",
                         by="p-it-asset", reason="质检部检测室搬迁", at=T0 + timedelta(days=30))  # fmt: skip
        number = open_case(session=session, data=request_laptops(), requester="p-it-buyer", department="IT").number
    start_case_run(number, "demo")
    run_deployment("procurement-ledger-check/procurement-ledger-check", timeout=0, tags=["procurement", "demo"])
    return (f"采购：演示采购 {number} 已提交并启动流程（审批邮件已发往信息中心）；"
            "已载入 3 项历史采购（含 5 处账物差异、1 项清查任务）并启动账物核对")
