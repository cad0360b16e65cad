"""The daily list's coverage, the investigation and check steps, and the incoming-file import (plain functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, select

from models.customers import CaseKind, CaseStatus, DetectionRun, SuspiciousCase
from tests.conftest import Zhidu
from zhidu.customers.daily import open_cases, run_daily_detection, run_full_detection
from zhidu.customers.demo import build_demo_book
from zhidu.customers.importing import import_agents, import_policies, write_policy_csv
from zhidu.customers.inbox import import_incoming_files, incoming_dir
from zhidu.customers.outcomes import mark_checked, record_cleared, reopen_case
from zhidu.customers.review import case_view, check_step, investigation_step, result_problems
from zhidu.db import session_scope

TODAY = date(2025, 11, 3)  # a Monday


def _load(session: Session, tmp_path: Path, policies: int = 40) -> None:
    book = build_demo_book(policies=policies, today=TODAY)
    paths = book.write(tmp_path / "demo")
    import_agents(paths["agents"], session=session)
    import_policies(paths["policies"], session=session, today=TODAY)


def test_daily_run_covers_everything_since_the_last_one_and_nothing_twice(session: Session, tmp_path: Path) -> None:
    book = build_demo_book(policies=40, today=TODAY)
    paths = book.write(tmp_path / "demo")
    import_agents(paths["agents"], session=session)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_policy_csv(first, book.policies[:8])  # policy 4 and 8 share the planted phone; 10 has the agent's
    write_policy_csv(second, book.policies[8:])
    import_policies(first, session=session, today=TODAY)
    run1, result1 = run_daily_detection(session=session, today=TODAY)
    assert (run1.from_policy_id, run1.up_to_policy_id, run1.checked_parties) == (0, 8, result1.checked_parties)
    assert [c.kind for c in session.exec(select(SuspiciousCase))] == [CaseKind.phone]
    phone_case = session.exec(select(SuspiciousCase)).one()
    import_policies(second, session=session, today=TODAY)  # two more days of entries, one run
    run2, result2 = run_daily_detection(session=session, today=date(2025, 11, 5))
    assert (run2.from_policy_id, run2.up_to_policy_id) == (8, 40)
    assert result2.grown_cases == [phone_case.id] and len(result2.new_cases) == 3
    run3, result3 = run_daily_detection(session=session, today=date(2025, 11, 6))
    assert (run3.from_policy_id, run3.up_to_policy_id, run3.checked_parties, result3.changed) == (40, 40, 0, [])
    _, full = run_full_detection(session=session, today=date(2025, 11, 6))
    assert full.changed == [] and len(session.exec(select(DetectionRun)).all()) == 4
    assert [n for _, n in open_cases(session=session, case_ids=result2.changed)] == [
        "KY000001", "KY000002", "KY000003", "KY000004"]


def test_a_closed_case_that_grows_opens_a_new_round(session: Session, tmp_path: Path) -> None:
    book = build_demo_book(policies=40, today=TODAY)
    paths = book.write(tmp_path / "demo")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_policy_csv(first, book.policies[:8])
    write_policy_csv(second, book.policies[8:])
    import_agents(paths["agents"], session=session)
    import_policies(first, session=session, today=TODAY)
    run_daily_detection(session=session, today=TODAY)
    case = session.exec(select(SuspiciousCase)).one()
    record_cleared(session=session, case_id=case.id or 0, by="刘芳", evidence="夫妻共用")
    mark_checked(session=session, case_id=case.id or 0, by="孙丽")
    import_policies(second, session=session, today=TODAY)
    run_daily_detection(session=session, today=date(2025, 11, 4))
    session.refresh(case)
    assert (case.status, case.round, case.checked_by, case.list_date) == (CaseStatus.open, 2, None, date(2025, 11, 4))
    assert open_cases(session=session, case_ids=[case.id or 0]) == [(case.id, "KY000001-2")]


def test_investigation_step_masks_everything_and_escalates_by_channel(session: Session, tmp_path: Path) -> None:
    _load(session, tmp_path)
    run_daily_detection(session=session, today=TODAY)
    case = session.exec(select(SuspiciousCase).where(SuspiciousCase.kind == CaseKind.phone)).one()
    view = case_view(session=session, case_id=case.id or 0)
    spec = investigation_step(view, 1, None)
    staff = {"个人代理": "agy.liu@insurer.example.com", "银行保险": "banca.yang@insurer.example.com"}
    managers = {"个人代理": "agy.wang@insurer.example.com", "银行保险": "banca.chen@insurer.example.com"}
    assert [a.email for a in spec.approvers] == [staff[view.channel]]
    assert [[a.email for a in e.approvers] for e in spec.escalation] == [
        [managers[view.channel]], ["comp.sun@insurer.example.com"]]
    assert spec.deadline == case.deadline and spec.details["排查期限"].endswith("24:00")  # end of a day
    text = " ".join(spec.details.values())
    assert case.value not in text and f"{case.value[:3]}****{case.value[-4:]}" in text
    assert [f.name for f in spec.fields] == ["result", "evidence", "policy_no", "new_phone", "new_account",
                                             "confirmation"]
    assert spec.fields[2].choices == view.policy_nos and len(view.policy_nos) == 3
    # sent back: the later of the case deadline and the end of the next working day (Fri → Mon 24:00)
    again = investigation_step(view, 2, datetime(2025, 11, 14, 2, tzinfo=UTC), "合规退回：补充材料")
    assert again.step == "排查（第2次）" and again.details["说明"] == "合规退回：补充材料"
    assert again.deadline == max(case.deadline, datetime(2025, 11, 17, 16, tzinfo=UTC))
    final = check_step(view, 2, "排除可疑", "夫妻共用", datetime(2025, 11, 14, 2, tzinfo=UTC))
    assert final.step == "合规复核（第2次）" and "最终复核" in final.details["提示"]
    assert [a.email for a in final.approvers] == ["comp.sun@insurer.example.com"]


def test_result_problems_name_what_is_missing(session: Session, tmp_path: Path) -> None:
    _load(session, tmp_path)
    run_daily_detection(session=session, today=TODAY)
    view = case_view(session=session, case_id=1)
    assert result_problems({"result": "排除可疑", "evidence": "同一家庭"}, view) == []
    assert result_problems({"result": "已修正", "evidence": "回访"}, view) == [
        "已修正时须选择修正的保单", "已修正时须填写正确的联系电话或银行账号", "已修正时须填写客户签名确认书编号"]
    ok = {"result": "已修正", "evidence": "回访", "policy_no": view.policy_nos[0], "new_phone": "13912345678",
          "confirmation": "QR-1"}
    assert result_problems(ok, view) == []
    assert result_problems({"result": "随便"}, view) == ["排查结果无效：随便", "缺少排查说明/证明材料"]


def test_reopen_resets_outcomes_and_check_needs_a_closed_case(session: Session, tmp_path: Path) -> None:
    _load(session, tmp_path)
    run_daily_detection(session=session, today=TODAY)
    record_cleared(session=session, case_id=1, by="刘芳", evidence="同一家庭")
    reopen_case(session=session, case_id=1, by="孙丽", note="合规退回：证据不足")
    case = session.get(SuspiciousCase, 1)
    assert case is not None and (case.status, case.closed_at, case.note) == (
        CaseStatus.open, None, "合规退回：证据不足（孙丽退回）")
    try:
        mark_checked(session=session, case_id=1, by="孙丽")
    except ValueError as exc:
        assert "only a closed case" in str(exc)
    else:
        raise AssertionError("an open case was marked checked")


def test_incoming_exports_are_imported_once_agents_first(zhidu: Zhidu) -> None:
    book = build_demo_book(policies=30, today=TODAY)
    folder = incoming_dir()
    paths = book.write(folder)
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    bad = folder / "policies_bad.csv"
    bad.write_text("保单号,险种代码\nP1,L101\n", encoding="utf-8")
    lines = import_incoming_files(today=TODAY)
    assert lines[0].startswith("agents.csv：读取12，入库12")
    assert "complaints.csv：读取5，入库5" in lines[1] and "policies.csv：读取30，入库30" in lines[2]
    assert lines[3].startswith("policies_bad.csv：未导入（policies_bad.csv: 缺少列")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert len(list((folder.parent / "imported").iterdir())) == 4
    assert import_incoming_files(today=TODAY) == []
    with session_scope() as session:
        _, result = run_daily_detection(session=session, today=TODAY)
        assert len(result.new_cases) == 4 and paths["policies"].name == "policies.csv"


def test_demo_loads_once_and_lists_exactly_the_planted_cases(zhidu: Zhidu) -> None:
    from zhidu.customers.demo import DEMO_POLICIES, load_demo

    cases = load_demo(TODAY)
    assert cases is not None and [n for _, n in cases] == ["KY000001", "KY000002", "KY000003", "KY000004"]
    with session_scope() as session:
        kinds = {c.kind.value: c.value for c in session.exec(select(SuspiciousCase))}
    planted = build_demo_book(policies=DEMO_POLICIES, today=TODAY).planted
    assert kinds == {p.kind: p.value for p in planted}
    assert load_demo(TODAY) is None
