"""The case flow's plain functions: step specs, applying emailed decisions once, to-dos closed by data entry."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from models.approval import ApprovalRequest, DecisionOutbox, Mode, OutboxStatus, Outcome, RequestStatus
from models.procurement import CaseEvent, ReturnRecord, Stage
from tests.conftest import Zhidu
from zhidu.approvals.schemas import Decision, Vote
from zhidu.approvals.service import open_request
from zhidu.db import get_engine, session_scope, utcnow
from zhidu.procurement import entry, progress, steps
from zhidu.procurement.demo import request_pcs

IT, LEADER, BUYER = "li.ming@factory.example.com", "wang.jianguo@factory.example.com", "zhang.wei@factory.example.com"


def decision(request_id: str, outcome: str, by: str, **fields: str) -> Decision:
    return Decision(request_id=request_id, outcome=Outcome(outcome), decided_by=by, decided_by_name=by,
                    fields=fields, decided_at=utcnow())  # fmt: skip


def submitted() -> str:
    return entry.new_case(raw=request_pcs().model_dump(mode="json"), requester="p-qc-head", department="QC")


def events(number: str) -> list[CaseEvent]:
    with Session(get_engine()) as session:
        case = steps.case_by_number(session, number)
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)))


def ordered(number: str) -> None:
    with session_scope() as session:
        progress.apply_request(session=session, number=number, version=1, decision=decision("r1", "approve", IT))
    entry.order(number=number, raw={"supplier": "甲科技有限公司", "contract_no": f"HT-{number}",
                                    "signed_on": "2026-12-01"}, by="p-it-buyer")  # fmt: skip


def test_request_spec_routes_escalates_and_reminds(zhidu: Zhidu) -> None:
    number = submitted()
    with session_scope() as session:
        spec = steps.request_spec(session=session, number=number, now=utcnow())
    assert (spec.step, spec.mode, [a.email for a in spec.approvers]) == ("request_v1", Mode.any, [IT])
    assert [a.email for a in spec.escalation[0].approvers] == [LEADER] and spec.escalation[0].within_workdays == 2
    assert spec.remind_before_hours == 8 and spec.details["采购页面"] == f"http://testserver/procurement/{number}"
    assert [(f.name, f.required_for) for f in spec.fields] == [("reason", "reject")]


def test_a_decision_is_applied_once_however_often_the_flow_replays(zhidu: Zhidu) -> None:
    number = submitted()
    reject = decision("r1", "reject", IT, reason="预算不足")
    for _ in range(3):
        with session_scope() as session:
            assert progress.apply_request(session=session, number=number, version=1, decision=reject) is False
    assert [e.message for e in events(number)][-1] == "采购申请第1版被退回：预算不足"
    assert [e.action for e in events(number)] == ["submitted", "rejected"]


def test_all_mode_approval_names_every_vote(zhidu: Zhidu) -> None:
    number = submitted()
    votes = [Vote(approver=IT, name="李明", outcome=Outcome.approve, at=utcnow()),
             Vote(approver=LEADER, name="王建国", outcome=Outcome.approve, at=utcnow())]  # fmt: skip
    both = decision("r1", "approve", LEADER).model_copy(update={"votes": votes})
    with session_scope() as session:
        assert progress.apply_request(session=session, number=number, version=1, decision=both)
    assert events(number)[-1].message == "采购申请第1版审批通过：会签：李明同意、王建国同意"


def test_entry_closes_the_waiting_todo_and_queues_the_wake_up(zhidu: Zhidu) -> None:
    number = submitted()
    with session_scope() as session:
        progress.apply_request(session=session, number=number, version=1, decision=decision("r1", "approve", IT))
        spec = steps.todo_spec(session=session, number=number, kind="order", key=1, attempt=1, now=utcnow())
        todo = open_request(session=session, spec=spec, level=0, flow_run_id=None, now=utcnow()).id
        assert not progress.entry_done(session=session, number=number, kind="order", key=1)
    assert spec.title == "【待办】下单：质检部检测数据录入终端采购" and [a.email for a in spec.approvers] == [BUYER]
    entry.order(number=number, raw={"supplier": "甲科技有限公司", "contract_no": "HT-1", "signed_on": "2026-12-01"},
                by="p-it-buyer")  # fmt: skip
    with Session(get_engine()) as session:
        request = session.get(ApprovalRequest, todo)
        assert request is not None and (request.status, request.decided_by) == (RequestStatus.approved, BUYER)
        [row] = session.exec(select(DecisionOutbox).where(DecisionOutbox.request_id == todo)).all()
        assert row.status == OutboxStatus.pending  # no run waits yet: the sweeper delivers it later
        assert progress.entry_done(session=session, number=number, kind="order", key=1)
        assert steps.case_by_number(session, number).stage == Stage.acceptance


def test_partly_nonconforming_form_opens_a_return_and_the_replacement_closes_it(zhidu: Zhidu) -> None:
    number = submitted()
    ordered(number)
    with session_scope() as session:
        spec = steps.check_spec(session=session, number=number, line=1, round_=1, now=utcnow())
        assert spec.step == "check_1_1" and spec.details["本次验收数量"] == "2 件"
        bad = decision("c1", "reject", BUYER, reason="屏幕坏点", nonconforming="1")
        assert progress.apply_check(session=session, number=number, line=1, decision=bad) == "returned"
        assert progress.apply_check(session=session, number=number, line=1, decision=bad) == "returned"  # replay
        [ret] = session.exec(select(ReturnRecord)).all()
        assert (ret.quantity, ret.reason) == (1, "屏幕坏点")
        again = steps.check_spec(session=session, number=number, line=1, round_=2, now=utcnow())
        assert again.step == "replace_1_2" and again.title.startswith("退换复验（第1项「台式计算机」）")
        good = decision("c2", "approve", BUYER)
        assert progress.apply_check(session=session, number=number, line=1, decision=good) == "done"
    assert [e.message for e in events(number) if e.action == "checked"] == [
        "第1项「台式计算机」：1 件验收合格", "第1项「台式计算机」：1 件不合格（屏幕坏点），已办理退换",
        "第1项「台式计算机」：退换后的 1 件复验合格"]


def test_invalid_nonconforming_count_counts_every_unit_and_says_so(zhidu: Zhidu) -> None:
    number = submitted()
    ordered(number)
    with session_scope() as session:
        bad = decision("c1", "reject", BUYER, reason="型号不符", nonconforming="七")
        assert progress.apply_check(session=session, number=number, line=2, decision=bad) == "returned"
    assert events(number)[-1].message == "第2项「硒鼓」：4 件不合格（型号不符（不合格数量「七」无效，按全部 4 件处理）），已办理退换"


def test_deferred_payment_keeps_the_reason_in_the_history(zhidu: Zhidu) -> None:
    number = submitted()
    with session_scope() as session:
        case = steps.case_by_number(session, number)
        case.stage, case.stage_due_at = Stage.reimbursement, utcnow() + timedelta(days=3)
        session.add(case)
    with session_scope() as session:
        later = decision("p1", "reject", "zhou.min@factory.example.com", reason="月底统一付款")
        assert progress.apply_payment(session=session, number=number, decision=later) is False
    assert events(number)[-1].message == "财务部暂缓付款：月底统一付款"
