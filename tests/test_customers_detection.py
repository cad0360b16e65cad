"""Detection (§7, §11), outcomes (§13) and follow-ups (§14, §22) on real SQLite files."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, col, select

import models.customers  # noqa: F401
from models.customers import CaseMember, CaseStatus, Party, Policy, PolicyCorrection, SuspiciousCase
from zhidu.customers.demo import build_demo_book
from zhidu.customers.detection import detect_full, detect_incremental
from zhidu.customers.followups import agents_needing_recheck, quarterly_false_data_summary, recheck_agent
from zhidu.customers.importing import import_agents, import_complaints, import_policies, write_policy_csv
from zhidu.customers.outcomes import apply_correction, record_cleared, record_confirmed_false

TODAY = date(2025, 11, 3)



def cases(session: Session) -> set[tuple[str, str, tuple[str, ...]]]:
    out = set()
    for case in session.exec(select(SuspiciousCase)):
        nos = session.exec(
            select(Policy.policy_no).join(CaseMember, col(CaseMember.policy_id) == col(Policy.id))
            .where(CaseMember.case_id == case.id)
        ).all()
        out.add((case.kind.value, case.value, tuple(sorted(set(nos)))))
    return out


def test_demo_book_gives_exactly_the_planted_cases(session: Session, tmp_path: Path) -> None:
    book = build_demo_book()
    paths = book.write(tmp_path / "demo")
    import_agents(paths["agents"], session=session)
    summary = import_policies(paths["policies"], session=session, today=TODAY)
    assert (summary.read, summary.stored, summary.problems) == (300, 300, [])
    result = detect_incremental(session=session, batch_id=summary.batch_id, today=TODAY)
    planted = {(p.kind, p.value, tuple(sorted(p.policy_nos))) for p in book.planted}
    assert len(planted) == 4 and cases(session) == planted
    assert (len(result.new_cases), result.grown_cases, result.checked_parties) == (4, [], 600)
    full = detect_full(session=session, today=TODAY)  # the re-scan agrees and changes nothing
    assert (full.new_cases, full.grown_cases) == ([], [])
    # the same person on two policies (policies 16 and 18) is in no case
    same = {book.policies[15]["保单号"], book.policies[17]["保单号"]}
    assert not any(same & set(nos) for _, _, nos in cases(session))


def test_full_scan_finds_the_demo_groups_too(session: Session, tmp_path: Path) -> None:
    book = build_demo_book(policies=40, seed=3)
    paths = book.write(tmp_path / "demo")
    import_agents(paths["agents"], session=session)
    import_policies(paths["policies"], session=session, today=TODAY)
    result = detect_full(session=session, today=TODAY)
    assert len(result.new_cases) == 4
    assert cases(session) == {(p.kind, p.value, tuple(sorted(p.policy_nos))) for p in book.planted}


def holder(no: str, pid: str, phone: str, name: str, account: str = "", **over: Any) -> dict[str, Any]:
    row = {
        "保单号": no, "险种代码": "L101", "保险期间": "10", "期间单位": "年", "销售渠道": "银行保险", "业务员代码": "B01",
        "代理机构": "天河支行", "签单日期": "2025-10-30", "回执签收日期": "2025-10-31", "投保人姓名": name,
        "投保人性别": "女" if int(pid[16]) % 2 == 0 else "男", "投保人出生日期": f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}",
        "投保人证件号码": pid, "投保人联系电话": phone, "投保人联系地址": f"广州市{no}号", "投保人银行账号": account,
        "与投保人关系": "本人",
    }
    row.update(over)
    return row


def ids(n: int) -> list[str]:
    from stdnum.iso7064 import mod_11_2

    return [b + mod_11_2.calc_check_digit(b) for b in (f"11010519800101{i:02d}{i % 2}" for i in range(10, 10 + n))]


def load(session: Session, tmp_path: Path, name: str, rows: list[dict[str, Any]]) -> str:
    path = tmp_path / f"{name}.csv"
    write_policy_csv(path, rows)
    s = import_policies(path, session=session, today=TODAY)
    assert s.rejected == 0, s.problems
    return s.batch_id


def test_same_person_is_not_suspicious_and_a_growing_group_keeps_its_case(session: Session, tmp_path: Path) -> None:
    a, b, c = ids(3)
    batch = load(session, tmp_path, "d1", [holder("Q1", a, "13700000001", "甲"), holder("Q2", a, "137 0000 0001", "甲")])
    assert detect_incremental(session=session, batch_id=batch, today=TODAY).new_cases == []
    batch = load(session, tmp_path, "d2", [holder("Q3", b, "+8613700000001", "乙")])
    first = detect_incremental(session=session, batch_id=batch, today=TODAY)
    assert cases(session) == {("phone", "13700000001", ("Q1", "Q2", "Q3"))}
    record_cleared(session=session, case_id=first.new_cases[0], by="banca-yang", evidence="户籍证明:夫妻同住")
    batch = load(session, tmp_path, "d3", [holder("Q4", c, "13700000001", "丙")])
    later = date(2025, 11, 10)
    grown = detect_incremental(session=session, batch_id=batch, today=later)
    assert (grown.new_cases, grown.grown_cases) == ([], first.new_cases)
    case = session.get(SuspiciousCase, first.new_cases[0])
    assert case is not None
    session.refresh(case)
    assert (case.status, case.list_date, case.deadline) == (CaseStatus.open, later, datetime(2025, 11, 13, 16, tzinfo=UTC))
    assert cases(session) == {("phone", "13700000001", ("Q1", "Q2", "Q3", "Q4"))}


def test_agent_contact_match_and_correction_audit(session: Session, tmp_path: Path) -> None:
    agents = tmp_path / "agents.csv"
    agents.write_text("业务员代码,姓名,联系电话,联系地址\nB01,钱七,13911112222,广州市 天河路 9号\n", encoding="utf-8")
    import_agents(agents, session=session)
    a, b = ids(2)
    batch = load(session, tmp_path, "d", [
        holder("R1", a, "139-1111-2222", "甲", "6222 1111"),
        holder("R2", b, "13800000002", "乙", "62221111", **{"投保人联系地址": "广州市天河路9号"}),
    ])
    result = detect_incremental(session=session, batch_id=batch, today=TODAY)
    assert cases(session) == {
        ("agent_phone", "13911112222", ("R1",)),
        ("agent_address", "广州市天河路9号", ("R2",)),
        ("account", "62221111", ("R1", "R2")),
    }
    assert len(result.new_cases) == 3
    phone_case = session.exec(select(SuspiciousCase).where(SuspiciousCase.kind == "agent_phone")).one()
    party = session.exec(select(Party).join(Policy).where(Policy.policy_no == "R1", Party.role == "holder")).one()
    rows = apply_correction(session=session, case_id=phone_case.id or 0, party_id=party.id or 0, by="agy-liu",
                            confirmation="客户签名确认书 2025-11-04", phone="+86 135 0000 0009")
    assert [(r.field_name, r.old_value, r.new_value, r.by) for r in rows] == [
        ("phone", "13911112222", "13500000009", "agy-liu")]
    assert session.exec(select(PolicyCorrection)).one().confirmation == "客户签名确认书 2025-11-04"
    session.refresh(phone_case)
    session.refresh(party)
    assert (phone_case.status, party.phone) == (CaseStatus.corrected, "13500000009")


def test_rechecks_and_quarterly_false_data_summary(session: Session, tmp_path: Path) -> None:
    book = build_demo_book(policies=40, seed=5)
    paths = book.write(tmp_path / "demo")
    import_agents(paths["agents"], session=session)
    import_complaints(paths["complaints"], session=session)
    summary = import_policies(paths["policies"], session=session, today=TODAY)
    detect_incremental(session=session, batch_id=summary.batch_id, today=TODAY)
    assert [(a.agent_code, a.complaints) for a in agents_needing_recheck(session=session, today=TODAY)] == [("A0003", 3)]
    assert agents_needing_recheck(session=session, today=date(2026, 9, 1)) == []
    recheck = recheck_agent(session=session, agent_code="A0003", today=TODAY)
    assert (recheck.policies, recheck.problems, recheck.detection.changed) == (4, [], [])
    account_case = session.exec(select(SuspiciousCase).where(SuspiciousCase.kind == "account")).one()
    closed = datetime(2025, 12, 31, 17, tzinfo=UTC)  # 2026-01-01 01:00 in Shanghai: first quarter of 2026
    record_confirmed_false(session=session, case_id=account_case.id or 0, by="comp-sun", note="代理人代填账号", at=closed)
    assert quarterly_false_data_summary(session=session, quarter="2025Q4").rows == []
    report = quarterly_false_data_summary(session=session, quarter="2026Q1", out_dir=tmp_path)
    planted = next(p for p in book.planted if p.kind == "account")
    agent_codes = sorted({r["业务员代码"] for r in book.policies if r["保单号"] in planted.policy_nos})
    assert [r["业务员/机构代码"] for r in report.rows if r["类别"] == "业务员"] == agent_codes
    masked = planted.value[:4] + "*" * (len(planted.value) - 8) + planted.value[-4:]
    assert {r["可疑信息(已脱敏)"] for r in report.rows} == {masked}
    assert report.path is not None
    sheet = load_workbook(report.path).active
    assert sheet is not None
    assert sheet["A1"].value == "类别" and sheet["J2"].value == masked
