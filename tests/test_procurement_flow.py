"""Procurement (篇二 第二章): request → approval → order → acceptance → registration → reimbursement → paid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from models.approval import Mode
from models.procurement import AssetRecord, ClaimStatus, Stage, VersionStatus
from tests.dbs import new_database_url
from zhidu import ROOT
from zhidu.db import load_models, make_engine
from zhidu.procurement import (
    ProcurementError,
    StageError,
    acceptance_signoff_plan,
    acceptance_state,
    amend_request,
    apply_acceptance_decision,
    apply_reimbursement_decision,
    apply_request_decision,
    approval_plan,
    case_status,
    decisions,
    enter_warehouse,
    history,
    open_case,
    parse_request,
    place_order,
    record_check,
    record_payment,
    register_assets,
    reimbursement_plan,
    request_approval_plan,
    request_versions,
    submit_claim,
    unregistered,
    validate_request,
)
from zhidu.procurement.config import load_config
from zhidu.procurement.demo import T0, as_order, request_pcs, vat

H = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    load_models()
    engine = make_engine(new_database_url(tmp_path, "procurement"))
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def test_approval_plan_routes_by_threshold() -> None:
    small = approval_plan(Decimal("50000.00"))
    big = approval_plan(Decimal("50000.01"), version=2)
    assert [(s.step, s.roles, s.mode, [a.name for a in s.approvers]) for s in small] == [
        ("request_v1", ("it_centre",), Mode.any, ["李明"])
    ]
    assert [(s.step, s.roles, s.mode, [a.name for a in s.approvers]) for s in big] == [
        ("request_v2", ("it_centre", "factory_leader"), Mode.all, ["李明", "王建国"])
    ]
    assert big[0].title == "采购申请审批（信息中心、厂领导会签）"
    assert load_config().leader_threshold == Decimal("50000.00")


def test_happy_path_through_every_stage(session: Session) -> None:
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=T0)
    assert (case.number, case.stage) == ("CG-2025-0001", Stage.approval)
    # 3 working days after Monday 2025-03-03 → end of Thursday 2025-03-06, Shanghai
    assert case.stage_due_at == datetime(2025, 3, 6, 16, 0, tzinfo=UTC)
    status = case_status(session=session, case_id=case.id, now=T0)
    assert (status.waiting_for, status.waiting_what) == (["李明"], "审批采购申请第1版")

    [step] = request_approval_plan(session=session, case_id=case.id)
    assert (step.step, step.mode, step.deadline) == ("request_v1", Mode.any, case.stage_due_at)
    assert step.details["合计金额"] == "¥13,280.00"
    spec = step.to_spec(case.id)
    assert (spec.process, spec.step, [a.email for a in spec.approvers]) == (
        "procurement", "request_v1", ["li.ming@factory.example.com"],
    )  # fmt: skip

    apply_request_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                           comment="同意", decided_at=T0 + 2 * H)  # fmt: skip
    assert case.stage is Stage.order
    assert case_status(session=session, case_id=case.id).waiting_for == ["张伟"]

    order = place_order(session=session, case_id=case.id, supplier="甲科技有限公司", contract_no="HT-2025-031",
                        signed_on=date(2025, 3, 4), lines=as_order(data), by="p-it-buyer", at=T0 + DAY)  # fmt: skip
    assert (order.total, order.differences, case.stage) == (Decimal("13280.00"), [], Stage.acceptance)

    record_check(session=session, case_id=case.id, line=1, quantity=2, conforming=True, by="p-it-buyer",
                 at=T0 + 8 * DAY)  # fmt: skip
    with pytest.raises(StageError) as early:
        acceptance_signoff_plan(session=session, case_id=case.id)
    assert early.value.reasons == ["第2项「硒鼓」：尚有 4 件未验收"]
    record_check(session=session, case_id=case.id, line=2, quantity=4, conforming=True, by="p-it-buyer",
                 at=T0 + 8 * DAY)  # fmt: skip
    [signoff] = acceptance_signoff_plan(session=session, case_id=case.id)
    assert (signoff.step, [a.name for a in signoff.approvers]) == ("acceptance_1", ["李明"])
    assert case_status(session=session, case_id=case.id).waiting_what == "信息中心签字确认验收记录"
    apply_acceptance_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                              decided_at=T0 + 8 * DAY + 3 * H)  # fmt: skip
    assert case.stage is Stage.registration

    assets = register_assets(session=session, case_id=case.id, line=1, quantity=2, custodian="p-qc-head",
                             location="质检楼 203 室", by="p-it-asset", at=T0 + 9 * DAY)  # fmt: skip
    assert [(a.tag, a.value, a.configuration[0]) for a in assets] == [
        ("ZC-PC-2025-0001", Decimal("5999.00"), "主机"), ("ZC-PC-2025-0002", Decimal("5999.00"), "主机"),
    ]  # fmt: skip
    [left] = unregistered(session=session, case_id=case.id)
    assert left.describe() == "第2项「硒鼓」：已验收 4 件，已登记 0 件，尚有 4 件未入库"
    assert case_status(session=session, case_id=case.id).waiting_for == ["孙丽"]
    entry = enter_warehouse(session=session, case_id=case.id, line=2, quantity=4, location="仓库 A-02",
                            by="p-wh-keeper", at=T0 + 9 * DAY)  # fmt: skip
    assert (entry.entry_no, entry.amount, case.stage) == ("RK-2025-0001", Decimal("1282.00"), Stage.reimbursement)
    assert unregistered(session=session) == []

    outcome = submit_claim(session=session, case_id=case.id, claimant="p-it-buyer",
                           invoices=[vat("03190001", "11752.21", "1527.79")], at=T0 + 17 * DAY)  # fmt: skip
    assert (outcome.accepted, outcome.reasons) == (True, [])
    assert outcome.claim is not None and outcome.claim.amount == Decimal("13280.00")
    [fin] = reimbursement_plan(session=session, case_id=case.id)
    assert (fin.step, [a.name for a in fin.approvers]) == (f"claim_{outcome.claim.id}", ["周敏", "吴芳"])
    apply_reimbursement_decision(session=session, case_id=case.id, outcome="approve", approver="p-fin-head",
                                 decided_at=T0 + 17 * DAY + H)  # fmt: skip
    assert case_status(session=session, case_id=case.id).waiting_what == "财务部付款"
    claim = record_payment(session=session, case_id=case.id, paid_by="p-fin-clerk", payment_ref="付-2025-0318",
                           at=T0 + 18 * DAY)  # fmt: skip
    assert (claim.status, case.stage, case.stage_due_at) == (ClaimStatus.paid, Stage.paid, None)
    session.commit()

    status = case_status(session=session, case_id=case.id)
    assert (status.waiting_for, status.waiting_what, status.overdue) == ([], "已办结", False)
    assert [m.state for m in status.stages] == ["done"] * 7
    assert [e.action for e in history(session=session, case_id=case.id)] == [
        "submitted", "approved", "ordered", "checked", "checked", "acceptance_signed", "asset_registered",
        "warehouse_entry", "registered_all", "claim_submitted", "claim_approve", "paid",
    ]  # fmt: skip
    assert [d.subject for d in decisions(session=session, case_id=case.id)] == [
        "request",
        "acceptance",
        "reimbursement",
    ]


def test_nonconforming_item_is_exchanged_and_checked_again(session: Session) -> None:
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=T0)
    apply_request_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head", decided_at=T0)
    place_order(session=session, case_id=case.id, supplier="甲科技有限公司", contract_no="HT-1",
                signed_on=date(2025, 3, 4), lines=as_order(data), by="p-it-buyer", at=T0 + DAY)  # fmt: skip
    record_check(session=session, case_id=case.id, line=1, quantity=1, conforming=True, by="p-it-buyer", at=T0)
    with pytest.raises(ProcurementError) as no_reason:
        record_check(session=session, case_id=case.id, line=1, quantity=1, conforming=False, by="p-it-buyer")
    assert no_reason.value.reasons == ["第1项「台式计算机」：不合格须填写原因"]
    record_check(session=session, case_id=case.id, line=1, quantity=1, conforming=False, by="p-it-buyer",
                 reason="显示器屏幕有坏点，与配置清单不符", at=T0 + H)  # fmt: skip
    record_check(session=session, case_id=case.id, line=2, quantity=4, conforming=True, by="p-it-buyer", at=T0)
    [line1, line2] = acceptance_state(session=session, case_id=case.id)
    assert (line1.accepted, line1.awaiting_replacement, line1.unchecked, line2.complete) == (1, 1, 0, True)
    status = case_status(session=session, case_id=case.id)
    assert status.waiting_for == ["供应商「甲科技有限公司」", "张伟"]
    assert status.problems == ["第1项「台式计算机」：1 件不合格，等待供应商退换后复验"]
    with pytest.raises(StageError) as waiting:
        apply_acceptance_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                                  decided_at=T0 + 2 * H)  # fmt: skip
    assert waiting.value.reasons == ["第1项「台式计算机」：1 件不合格，等待供应商退换后复验"]

    # the first replacement fails again, the second conforms
    again = record_check(session=session, case_id=case.id, line=1, quantity=1, conforming=False, by="p-it-buyer",
                         reason="更换后的显示器缺少电源线", at=T0 + 3 * DAY)  # fmt: skip
    assert again.replacement_for == line1.open_returns[0]
    assert acceptance_state(session=session, case_id=case.id)[0].awaiting_replacement == 1
    record_check(session=session, case_id=case.id, line=1, quantity=1, conforming=True, by="p-it-buyer",
                 at=T0 + 5 * DAY)  # fmt: skip
    [line1, _] = acceptance_state(session=session, case_id=case.id)
    assert (line1.accepted, line1.awaiting_replacement, line1.complete) == (2, 0, True)
    apply_acceptance_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                              decided_at=T0 + 5 * DAY + H)  # fmt: skip
    assert case.stage is Stage.registration
    assert [e.message for e in history(session=session, case_id=case.id) if e.action == "checked"] == [
        "第1项「台式计算机」：1 件验收合格",
        "第2项「硒鼓」：4 件验收合格",  # checked at T0, before the failing unit (T0 + 1h)
        "第1项「台式计算机」：1 件不合格（显示器屏幕有坏点，与配置清单不符），已办理退换",
        "第1项「台式计算机」：退换后的 1 件复验仍不合格（更换后的显示器缺少电源线），继续退换",
        "第1项「台式计算机」：退换后的 1 件复验合格",
    ]


def test_rejected_request_is_amended_and_keeps_history(session: Session) -> None:
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=T0)
    apply_request_decision(session=session, case_id=case.id, outcome="reject", approver="p-it-head",
                           comment="显示器可利旧，只买主机", decided_at=T0 + H)  # fmt: skip
    assert case.stage is Stage.request
    assert case_status(session=session, case_id=case.id).waiting_for == ["杨帆"]
    with pytest.raises(StageError):
        place_order(session=session, case_id=case.id, supplier="x", contract_no="HT-x", signed_on=date(2025, 3, 4),
                    lines=as_order(data), by="p-it-buyer")  # fmt: skip
    amended = data.model_copy(deep=True)
    amended.items[0].unit_price = Decimal("4999.00")
    amended.items[0].configuration = ["主机", "键盘", "鼠标", "电源线"]
    amended.quotes[0].amount = Decimal("11280.00")
    version = amend_request(session=session, case_id=case.id, data=amended, by="p-qc-head",
                            change_note="去掉显示器，利旧", at=T0 + DAY)  # fmt: skip
    assert (version.version, version.total, case.current_version, case.stage) == (
        2, Decimal("11280.00"), 2, Stage.approval,
    )  # fmt: skip
    with pytest.raises(StageError) as stale:
        apply_request_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                               decided_at=T0 + DAY, version=1)  # fmt: skip
    assert stale.value.reasons == ["该决定针对第1版申请，当前为第2版，已不适用"]
    assert request_approval_plan(session=session, case_id=case.id)[0].step == "request_v2"
    apply_request_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head",
                           decided_at=T0 + 2 * DAY, version=2)  # fmt: skip
    session.commit()
    versions = request_versions(session=session, case_id=case.id)
    assert [(v.version, v.status, v.total) for v in versions] == [
        (1, VersionStatus.rejected, Decimal("13280.00")), (2, VersionStatus.approved, Decimal("11280.00")),
    ]  # fmt: skip
    assert [(d.version, d.outcome, d.comment) for d in decisions(session=session, case_id=case.id)] == [
        (1, "reject", "显示器可利旧，只买主机"), (2, "approve", None),
    ]  # fmt: skip
    assert [(e.action, e.stage) for e in history(session=session, case_id=case.id)] == [
        ("submitted", Stage.approval), ("rejected", Stage.approval), ("amended", Stage.request),
        ("approved", Stage.approval),
    ]  # fmt: skip


def test_request_validation_names_item_and_field(session: Session) -> None:
    bad = parse_request({
        "title": "", "need": " ", "comparison_note": "",
        "items": [
            {"name": "交换机", "category": "XX", "model": "", "specification": "24口", "quantity": 0,
             "unit_price": "100.005", "configuration": []},
            {"name": "服务器", "category": "SRV", "model": "R750", "specification": "2U", "quantity": 1,
             "unit_price": "30000.00", "configuration": []},
        ],
        "quotes": [{"supplier": "甲", "amount": "30000.00", "selected": True}, {"supplier": "乙", "amount": "1"}],
    })  # fmt: skip
    with pytest.raises(ProcurementError) as refused:
        open_case(session=session, data=bad, requester="p-nobody", department="QC", at=T0)
    assert refused.value.reasons == [
        "申请人「p-nobody」不在某厂通讯录中",
        "标题不能为空",
        "须说明本次采购依据的需求或计划（第二十三条：严格按需求或计划采购）",
        "第1项「交换机」：类别「XX」不存在，可选 "
        "PC(计算机)、SRV(服务器)、NET(网络设备)、PRN(打印设备)、SW(软件)、CON(耗材及配件)",
        "第1项「交换机」：型号不能为空",
        "第1项「交换机」：数量须为正整数（现为 0）",
        "第1项「交换机」：单价 100.005 超过两位小数（精确到分）",
        "第2项「服务器」：配置清单不能为空（验收严格按配置清单执行）",
        "硬件采购须货比三家：至少需要 3 家供应商报价，现有 2 家",
        "须填写比价说明（比较性价比、实用性、安全性及扩充性）",
    ]
    with pytest.raises(ProcurementError) as typed:
        parse_request({"title": "t", "need": "n", "items": [{"name": "a", "quantity": "many"}], "quotes": []})
    assert typed.value.reasons[:2] == ["采购项目 第1项 类别：格式不正确", "采购项目 第1项 型号：格式不正确"]
    with pytest.raises(ProcurementError) as floats:
        parse_request(
            {
                "title": "t",
                "need": "n",
                "quotes": [],
                "items": [
                    {
                        "name": "a",
                        "category": "PC",
                        "model": "m",
                        "specification": "s",
                        "quantity": 1,
                        "unit_price": 0.1,
                    }
                ],
            }
        )
    assert floats.value.reasons == ["采购项目 第1项 单价：格式不正确"]


def test_software_needs_two_offers_and_the_chosen_offer_must_match(session: Session) -> None:
    data = parse_request({
        "title": "MES 软件", "need": "2025年度计划第9项", "comparison_note": "功能与实施能力对比",
        "items": [{"name": "MES 许可", "category": "SW", "model": "V5", "specification": "50用户", "quantity": 1,
                   "unit_price": "80000.00", "configuration": ["许可证书", "安装介质"]}],
        "quotes": [{"supplier": "原厂", "amount": "80000.10", "selected": True}],
    })  # fmt: skip
    with pytest.raises(ProcurementError) as refused:
        open_case(session=session, data=data, requester="p-prod-head", department="生产部", at=T0)
    assert refused.value.reasons == [
        "软件选型须多比较：至少需要 2 家供应商报价，现有 1 家",
        "选定报价「原厂」金额 ¥80,000.10 与申请合计 ¥80,000.00 不一致，相差 ¥0.10",
    ]


def test_order_differences_are_recorded_and_must_be_explained(session: Session) -> None:
    data = request_pcs()
    case = open_case(session=session, data=data, requester="p-qc-head", department="QC", at=T0)
    apply_request_decision(session=session, case_id=case.id, outcome="approve", approver="p-it-head", decided_at=T0)
    lines = as_order(data)
    lines[0].model = "联想 启天 M438"
    lines[0].configuration = ["主机", "23.8英寸显示器", "键盘", "鼠标"]
    lines[1].quantity = 3
    expected = [
        "合同第1项「台式计算机」与申请第1项不一致：型号「联想 启天 M437」→「联想 启天 M438」；配置缺少「电源线」",
        "合同第2项「硒鼓」与申请第2项不一致：数量 4 → 3",
        "合同金额 ¥12,959.50 与批准金额 ¥13,280.00 不一致，相差 ¥320.50",
    ]
    with pytest.raises(ProcurementError) as unexplained:
        place_order(session=session, case_id=case.id, supplier="甲科技有限公司", contract_no="HT-9",
                    signed_on=date(2025, 3, 4), lines=lines, by="p-it-buyer")  # fmt: skip
    assert unexplained.value.reasons == ["合同与批准的采购申请存在差异，须填写差异说明", *expected]
    order = place_order(session=session, case_id=case.id, supplier="甲科技有限公司", contract_no="HT-9",
                        signed_on=date(2025, 3, 4), lines=lines, by="p-it-buyer",
                        explanation="M437 停产，同价换 M438；硒鼓库存尚有1支")  # fmt: skip
    assert (order.differences, order.total) == (expected, Decimal("12959.50"))
    assert session.get(AssetRecord, 1) is None


def test_sample_request_file_is_the_demo_request() -> None:
    raw = yaml.safe_load((ROOT / "data" / "samples" / "procurement_request.yaml").read_text(encoding="utf-8"))
    data = parse_request(raw)
    assert data == request_pcs()
    assert validate_request(data, load_config()) == []
