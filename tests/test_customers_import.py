"""Import of core-system exports: entry checks (§5, §6), scope (§4), idempotent re-import, reconciled counts."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import Session, func, select

import models.customers  # noqa: F401
from models.customers import Agent, Complaint, Party, Policy
from zhidu import ROOT
from zhidu.customers.entry import ALL_POLICY_HEADERS
from zhidu.customers.importing import (
    ImportFormatError,
    import_agents,
    import_complaints,
    import_policies,
    write_policy_csv,
)

TODAY = date(2025, 11, 3)
GB = "11010519491231002X"  # female, 1949-12-31



def row(no: str, **over: Any) -> dict[str, Any]:
    base = {
        "保单号": no, "险种代码": "L101", "保险期间": "20", "期间单位": "年", "销售渠道": "个人代理", "业务员代码": "A0001",
        "签单日期": "2025-10-28", "回执签收日期": "2025/10/30", "保费": "12,000.50",
        "投保人姓名": "王芳", "投保人性别": "女", "投保人出生日期": "1949-12-31", "投保人证件号码": GB,
        "投保人联系电话": "+86 138-0013-8000", "投保人联系地址": "广州市天河区体育东路1号", "投保人银行账号": "6222 0200 1111",
        "与投保人关系": "本人",
    }
    base.update(over)
    return base


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_sample_file_imports_with_listed_problems(session: Session) -> None:
    s = import_policies(ROOT / "data" / "samples" / "policies_sample.csv", session=session, today=TODAY)
    assert (s.read, s.stored, s.duplicates, s.rejected, s.skipped, s.warned) == (8, 4, 1, 2, 1, 1)
    assert s.reconciles
    assert [(p.row, p.field, p.code, p.severity) for p in s.problems] == [
        (5, "投保人证件号码", "check_digit", "error"),
        (6, "投保人联系电话", "missing", "error"),
        (6, "被保险人出生日期", "missing", "error"),
        (7, "险种代码", "out_of_scope", "skipped"),
        (8, "被保险人证件号码", "region_not_yet", "warning"),
        (9, "保单号", "duplicate_in_file", "warning"),
    ]


def test_valid_rows_kept_beside_bad_ones_and_reimport_adds_nothing(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    write_policy_csv(path, [
        row("P1"),
        row("P2", **{"投保人证件号码": "110105194912310021"}),  # bad check character
        row("P3", **{"投保人性别": "男"}),  # sex disagrees with the 17th digit
        row("P4", **{"保险期间": "6", "期间单位": "月"}),  # under one year: out of scope (§4)
        row("P5", **{"险种代码": "G401"}),  # group business: out of scope
        row("P6", **{"与投保人关系": "子女", "被保险人姓名": "王小明", "被保险人性别": "男",
                     "被保险人出生日期": "2015-06-01"}),  # a minor insured without ID number is fine
        row("P7", **{"与投保人关系": "配偶", "被保险人姓名": "李强", "被保险人性别": "男",
                     "被保险人出生日期": "1950-01-01"}),  # an adult insured needs one
    ])
    first = import_policies(path, session=session, today=TODAY)
    assert (first.read, first.stored, first.duplicates, first.rejected, first.skipped) == (7, 2, 0, 3, 2)
    assert [(p.row, p.field, p.code) for p in first.problems] == [
        (3, "投保人证件号码", "check_digit"),
        (4, "投保人证件号码", "sex_mismatch"),
        (5, "保险期间", "out_of_scope"),
        (6, "险种代码", "out_of_scope"),
        (8, "被保险人证件号码", "missing"),
    ]
    assert first.problems[1].reason == "性别男与号码(第17位)表示的女不一致"
    stored = session.exec(select(Party).join(Policy).where(Policy.policy_no == "P1")).all()
    holder = next(p for p in stored if p.role == "holder")
    assert (holder.phone, holder.bank_account, holder.id_number, holder.address) == (
        "13800138000", "62220200111" + "1", GB, "广州市天河区体育东路1号")
    policy = session.exec(select(Policy).where(Policy.policy_no == "P1")).one()
    assert (str(policy.premium), policy.receipt_date, policy.batch_id) == ("12000.50", date(2025, 10, 30), first.batch_id)
    again = import_policies(path, session=session, today=TODAY)
    assert (again.read, again.stored, again.duplicates, again.rejected, again.skipped) == (7, 0, 2, 3, 2)
    assert again.reconciles and (count(session, Policy), count(session, Party)) == (2, 4)


def test_xlsx_with_date_cells_and_missing_columns(session: Session, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(ALL_POLICY_HEADERS)
    values = row("X1", **{"签单日期": date(2025, 10, 28), "投保人出生日期": date(1949, 12, 31), "保险期间": 20.0})
    ws.append([values.get(h) for h in ALL_POLICY_HEADERS])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    s = import_policies(path, session=session, today=TODAY)
    assert (s.read, s.stored, s.problems) == (1, 1, [])
    bad = tmp_path / "bad.csv"
    bad.write_text("保单号,险种代码\nP1,L101\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="缺少列 保险期间、期间单位"):
        import_policies(bad, session=session, today=TODAY)


def test_agents_and_complaints_import_and_update(session: Session, tmp_path: Path) -> None:
    agents = tmp_path / "a.csv"
    agents.write_text("业务员代码,姓名,联系电话,联系地址,所属团队,销售渠道\nA1,张三,139 0000 1111,广州,一组,个人代理\n"
                      "A2,,139,广州,一组,个人代理\n", encoding="utf-8-sig")
    s = import_agents(agents, session=session)
    assert (s.read, s.stored, s.rejected, [(p.row, p.field) for p in s.problems]) == (2, 1, 1, [(3, "姓名")])
    agents.write_text("业务员代码,姓名,联系电话\nA1,张三,13900002222\n", encoding="utf-8")
    s = import_agents(agents, session=session)
    assert (s.read, s.updated, s.reconciles) == (1, 1, True)
    assert session.get(Agent, "A1").phone == "13900002222"  # type: ignore[union-attr]
    complaints = tmp_path / "c.csv"
    complaints.write_text("投诉编号,业务员代码,投诉日期,是否查实\nT1,A1,2025-10-01,否\nT2,A1,2025-13-01,是\n",
                          encoding="gb18030")
    s = import_complaints(complaints, session=session)
    assert (s.stored, s.rejected, [p.code for p in s.problems]) == (1, 1, ["date_invalid"])
    complaints.write_text("投诉编号,业务员代码,投诉日期,是否查实\nT1,A1,2025-10-01,是\n", encoding="utf-8")
    s = import_complaints(complaints, session=session)
    assert (s.updated, session.exec(select(Complaint.verified)).one()) == (1, True)
