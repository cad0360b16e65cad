"""账物一致 (§8, §22): reconciliation finds exactly the planted mismatches; inventory after reallocation; pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.procurement import PurchaseCase
from tests.dbs import new_database_url
from zhidu.db import load_models, make_engine
from zhidu.mail import render_email
from zhidu.procurement import (
    MismatchKind,
    ProcurementError,
    case_status,
    complete_inventory,
    open_inventory_tasks,
    reallocate_asset,
    reconcile,
)
from zhidu.procurement.demo import T0, seed_demo
from zhidu.procurement.inventory import asset_by_tag
from zhidu.procurement.views import claim_refused_mail, inventory_task_mail, render_case_page


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    load_models()
    engine = make_engine(new_database_url(tmp_path, "procurement"))
    with Session(engine, expire_on_commit=False) as s:
        seed_demo(session=s)
        s.commit()
        yield s
    engine.dispose()


PLANTED = [
    (MismatchKind.accepted_not_registered, "CG-2025-0002", "第2项",
     "第2项「超五类网线」：已验收 20 件，已登记 0 件，尚有 20 件未入库"),
    (MismatchKind.value_differs, "CG-2025-0002", "ZC-NET-2025-0001",
     "资产「ZC-NET-2025-0001」登记价值 ¥57,800.00，合同单价 ¥58,000.00，相差 ¥200.00"),
    (MismatchKind.registered_without_acceptance, None, "ZC-PC-2025-0099",
     "资产「ZC-PC-2025-0099」（笔记本电脑，¥6,500.00）没有对应的采购合同和验收记录"),
    (MismatchKind.reimbursed_amount_differs, "CG-2025-0003", "报账单 3",
     "报账单 3 金额 ¥2,860.00，合同金额 ¥2,680.00，相差 ¥180.00"),
    (MismatchKind.reimbursed_twice, "CG-2025-0003", "报账单 2、3",
     "同一采购报账 2 次（报账单 2、3），合计 ¥5,540.00"),
]  # fmt: skip


def test_reconcile_finds_exactly_the_planted_mismatches(session: Session) -> None:
    found = reconcile(session=session)
    assert [(m.kind, m.case_number, m.subject, m.description) for m in found] == PLANTED
    assert [m.label for m in found] == [
        "已验收未登记", "登记价值与合同不符", "未经验收即登记", "报账金额与合同不符", "重复报账",
    ]  # fmt: skip


def test_reallocation_opens_an_inventory_task_that_updates_the_ledger(session: Session) -> None:
    at = datetime(2025, 4, 1, 2, 0, tzinfo=UTC)  # Tuesday 1 April 2025
    with pytest.raises(ProcurementError) as bad:
        reallocate_asset(session=session, tag="ZC-PC-2025-0001", custodian="p-nobody", location=" ", by="p-it-head",
                         reason="", at=at)  # fmt: skip
    assert bad.value.reasons == ["新保管人「p-nobody」不在通讯录中", "新存放地点不能为空", "须说明调配原因"]
    task = reallocate_asset(session=session, tag="ZC-PC-2025-0001", custodian="p-prod-clerk", location="生产楼 305 室",
                            by="p-it-head", reason="质检部富余，调给生产部统计员", at=at)  # fmt: skip
    # 5 working days after Tue 2025-04-01: 4 April (清明) is a holiday → Wed 9 April, end of day Shanghai
    assert task.due_at == datetime(2025, 4, 9, 16, 0, tzinfo=UTC)
    assert [t.id for t in open_inventory_tasks(session=session)] == [task.id]
    asset = asset_by_tag(session, "ZC-PC-2025-0001")
    assert (asset.custodian, asset.location) == ("p-qc-head", "质检楼 203 室")  # moves when the check is done
    mail = inventory_task_mail(session=session, task_id=task.id or 0, url="http://x/t/1")
    assert (mail.to, mail.subject) == (["zhao.jing@factory.example.com"], "资产清查：ZC-PC-2025-0001")
    html, txt = render_email(mail.template, mail.context)
    assert "保管人：杨帆 → 刘洋" in txt and "2025年4月9日 24:00" in txt and "生产楼 305 室" in html

    with pytest.raises(ProcurementError) as incomplete:
        complete_inventory(session=session, task_id=task.id or 0, by="p-it-asset", configuration_complete=False,
                           seal_no="", missing=["光驱"], at=at)  # fmt: skip
    assert incomplete.value.reasons == [
        "资产「ZC-PC-2025-0001」：须作好封记并填写封记号",
        "资产「ZC-PC-2025-0001」：「光驱」不在台账配置清单中",
    ]
    asset = complete_inventory(session=session, task_id=task.id or 0, by="p-it-asset", configuration_complete=False,
                               seal_no="FJ-2025-0107", missing=["鼠标"], at=at)  # fmt: skip
    assert (asset.custodian, asset.location, asset.seal_no, asset.missing, asset.last_inventory_at) == (
        "p-prod-clerk", "生产楼 305 室", "FJ-2025-0107", ["鼠标"], at,
    )  # fmt: skip
    assert open_inventory_tasks(session=session) == []
    extra = [m for m in reconcile(session=session) if m.kind is MismatchKind.configuration_incomplete]
    assert [(m.subject, m.description) for m in extra] == [
        ("ZC-PC-2025-0001", "资产「ZC-PC-2025-0001」清查发现缺少「鼠标」")
    ]


def test_case_page_and_refusal_mail_render_in_chinese(session: Session) -> None:
    network = session.exec(select(PurchaseCase).where(PurchaseCase.number == "CG-2025-0002")).one()
    status = case_status(session=session, case_id=network.id, now=T0)
    page = render_case_page(status)
    assert "<title>采购 CG-2025-0002 · 制度流程平台</title>" in page
    assert '<td id="waiting">孙丽：入库或转固定资产</td>' in page
    assert "<li>第2项「超五类网线」：已验收 20 件，已登记 0 件，尚有 20 件未入库</li>" in page
    assert '<li class="current">入库/转固定资产</li>' in page
    assert "2025年3月14日 24:00" in page  # registration due: the end of the 3rd working day after 11 March
    mail = claim_refused_mail(session=session, case_id=network.id, claimant="p-it-buyer",
                              reasons=["缺少增值税发票"], url="http://x/c")  # fmt: skip
    html, txt = render_email(mail.template, mail.context)
    assert (mail.to, mail.subject) == (["zhang.wei@factory.example.com"], "报账未受理：采购 CG-2025-0002")
    assert "1. 缺少增值税发票" in txt and "<li>缺少增值税发票</li>" in html
