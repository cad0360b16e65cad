"""Reimbursement guard (§24) and exact money through every path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from models.procurement import (
    Claim,
    InvoiceKind,
    OrderItem,
    PurchaseOrder,
    RequestItem,
    RequestVersion,
    Stage,
    SupplierQuote,
    WarehouseEntry,
)
from tests.dbs import new_database_url
from zhidu.db import load_models, make_engine
from zhidu.procurement import (
    InvoiceIn,
    apply_reimbursement_decision,
    enter_warehouse,
    history,
    open_case,
    parse_request,
    record_payment,
    register_assets,
    submit_claim,
)
from zhidu.procurement.demo import T0, advance_to_registration, request_pcs, vat

DAY = timedelta(days=1)


@pytest.fixture
def engine_url(tmp_path: Path) -> str:
    return new_database_url(tmp_path, "procurement")


@pytest.fixture
def session(engine_url: str) -> Iterator[Session]:
    load_models()
    engine = make_engine(engine_url)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def _registration_stage(session: Session) -> str:
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=T0)
    advance_to_registration(session, case.id, data, "HT-2025-031", T0)
    return case.id


def test_claim_before_registration_is_refused_with_every_item(session: Session) -> None:
    case_id = _registration_stage(session)
    register_assets(session=session, case_id=case_id, line=1, quantity=1, custodian="p-qc-head", location="203",
                    by="p-it-asset", at=T0 + 9 * DAY)  # fmt: skip
    invoice = vat("03190001", "11752.21", "1527.79", date(2025, 3, 5))
    outcome = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer", invoices=[invoice],
                           at=T0 + 10 * DAY)  # fmt: skip
    reasons = [
        "第1项「台式计算机」：合同 2 件，已入库或转固定资产 1 件，尚有 1 件未转固定资产",
        "第2项「硒鼓」：合同 4 件，已入库或转固定资产 0 件，尚有 4 件未入库",
    ]
    assert (outcome.accepted, outcome.claim, outcome.reasons) == (False, None, reasons)
    session.commit()
    [refusal] = [e for e in history(session=session, case_id=case_id) if e.action == "claim_refused"]
    assert (refusal.stage, refusal.actor, refusal.data) == (Stage.registration, "p-it-buyer", {"reasons": reasons})
    assert refusal.message == "报账被拒：" + "；".join(reasons)
    assert session.exec(select(Claim)).all() == []


def test_claim_at_approval_stage_lists_all_reasons(session: Session) -> None:
    case = open_case(session=session, data=request_pcs(), requester="p-qc-head", department="QC", at=T0)
    outcome = submit_claim(session=session, case_id=case.id, claimant="p-it-buyer", invoices=[], at=T0)
    assert outcome.reasons == ["采购申请尚未批准", "尚未签订采购合同", "未提供发票"]


def _registered(session: Session) -> str:
    case_id = _registration_stage(session)
    register_assets(session=session, case_id=case_id, line=1, quantity=2, custodian="p-qc-head", location="203",
                    by="p-it-asset", at=T0 + 9 * DAY)  # fmt: skip
    enter_warehouse(session=session, case_id=case_id, line=2, quantity=4, location="A-02", by="p-wh-keeper",
                    at=T0 + 9 * DAY)  # fmt: skip
    return case_id


def test_claim_without_vat_invoice_is_refused(session: Session) -> None:
    case_id = _registered(session)
    receipt = InvoiceIn(kind=InvoiceKind.other, code="1100251130", number="00000042", issued_on=date(2025, 3, 20),
                        amount=Decimal("13280.00"), tax=Decimal("0.00"))  # fmt: skip
    outcome = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer", invoices=[receipt],
                           at=T0 + 17 * DAY)  # fmt: skip
    assert outcome.reasons == ["缺少增值税发票（第二十四条：须开具增值税发票），现有：其他票据"]


def test_claim_with_a_different_amount_is_refused_then_corrected(session: Session) -> None:
    case_id = _registered(session)
    short = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer",
                         invoices=[vat("03190001", "11752.21", "1527.78"), vat("0319", "1.00", "0.001")],
                         at=T0 + 17 * DAY)  # fmt: skip
    assert short.reasons == [
        "第2张发票（号码 0319）：发票号码须为8位或20位数字",
        "第2张发票（号码 0319）：税额 0.001 须为不小于零、精确到分的数",
        "发票价税合计 ¥13,280.99 与合同 HT-2025-031 金额 ¥13,280.00 不一致，多 ¥0.99",
    ]
    less = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer",
                        invoices=[vat("03190001", "11752.21", "1527.78")], at=T0 + 17 * DAY)  # fmt: skip
    assert less.reasons == ["发票价税合计 ¥13,279.99 与合同 HT-2025-031 金额 ¥13,280.00 不一致，少 ¥0.01"]
    ok = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer",
                      invoices=[vat("03190001", "11752.21", "1527.79")], at=T0 + 18 * DAY)  # fmt: skip
    assert ok.accepted
    twice = submit_claim(session=session, case_id=case_id, claimant="p-it-buyer",
                         invoices=[vat("03190001", "11752.21", "1527.79")], at=T0 + 18 * DAY)  # fmt: skip
    assert ok.claim is not None
    assert twice.reasons == [f"采购 CG-2025-0001 已提交报账（报账单 {ok.claim.id}，¥13,280.00），不得重复报账"]
    assert [e.action for e in history(session=session, case_id=case_id)][-4:] == [
        "claim_refused",
        "claim_refused",
        "claim_submitted",
        "claim_refused",
    ]


def test_money_is_exact_through_every_path(session: Session, engine_url: str) -> None:
    data = parse_request({
        "title": "标签耗材", "need": "仓库标签更新计划", "comparison_note": "三家比价，甲最低",
        "items": [
            {"name": "资产标签", "category": "CON", "model": "L1", "specification": "40×20mm", "quantity": 1,
             "unit_price": "0.10"},
            {"name": "封签", "category": "CON", "model": "S1", "specification": "易碎", "quantity": 1,
             "unit_price": "0.20"},
        ],
        "quotes": [{"supplier": "甲", "amount": "0.30", "selected": True}, {"supplier": "乙", "amount": "0.31"},
                   {"supplier": "丙", "amount": "0.32"}],
    })  # fmt: skip
    case = open_case(session=session, data=data, requester="p-it-asset", department="IT", at=T0)
    advance_to_registration(session, case.id, data, "HT-0.30", T0)
    for line in (1, 2):
        enter_warehouse(session=session, case_id=case.id, line=line, quantity=1, location="A-01", by="p-wh-keeper",
                        at=T0 + 9 * DAY)  # fmt: skip
    outcome = submit_claim(session=session, case_id=case.id, claimant="p-it-buyer",
                           invoices=[vat("03190009", "0.27", "0.03", date(2025, 3, 13))], at=T0 + 10 * DAY)  # fmt: skip
    assert outcome.accepted
    apply_reimbursement_decision(session=session, case_id=case.id, outcome="approve", approver="p-fin-head",
                                 decided_at=T0 + 10 * DAY)  # fmt: skip
    record_payment(session=session, case_id=case.id, paid_by="p-fin-clerk", payment_ref="P1", at=T0 + 11 * DAY)
    session.commit()

    engine = make_engine(engine_url)
    with Session(engine) as fresh:
        assert fresh.exec(select(RequestVersion)).one().total == Decimal("0.30")
        assert [q.amount for q in fresh.exec(select(SupplierQuote)) if q.selected] == [Decimal("0.30")]
        prices = [i.unit_price for i in fresh.exec(select(RequestItem))]
        assert prices[0] + prices[1] == Decimal("0.30")
        assert fresh.exec(select(PurchaseOrder)).one().total == Decimal("0.30")
        assert sum((i.unit_price for i in fresh.exec(select(OrderItem))), Decimal("0")) == Decimal("0.30")
        assert sorted(e.amount for e in fresh.exec(select(WarehouseEntry))) == [Decimal("0.10"), Decimal("0.20")]
        claim = fresh.exec(select(Claim)).one()
        assert (claim.amount, str(claim.amount), claim.status.value) == (Decimal("0.30"), "0.30", "paid")
        raw = fresh.connection().execute(text("SELECT amount FROM procurement_claim")).scalar_one()
        assert str(raw) == "0.30"  # the stored value itself: text on SQLite, NUMERIC on PostgreSQL, never a float
        assert not isinstance(raw, float)
    engine.dispose()
