"""Suspicious-customer review end to end (篇九): a real Prefect server and runner, real SMTP, the real web app.

The demo book's exports are dropped in ``var/customers/incoming``; the daily detection deployment imports them,
lists exactly the planted cases and starts one investigation run each; the channel staff answer by mail link and
compliance checks the result.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from models.customers import CaseKind, CaseMember, CaseStatus, Party, Policy, PolicyCorrection, SuspiciousCase
from tests.conftest import Stack
from tests.prefect_stack import poll
from tests.test_quality_flow import decide, link_in, mail_to
from zhidu.customers.deadlines import investigation_deadline
from zhidu.customers.demo import DEMO_POLICIES, DemoBook, build_demo_book
from zhidu.customers.followups import quarter_bounds
from zhidu.customers.normalize import normalize_account, normalize_phone
from zhidu.customers.review import case_number
from zhidu.db import get_engine, utcnow
from zhidu.templating import local_dt
from zhidu.workdays import get_calendar

DAILY = "customers-daily-detection/customers-daily-detection"
SUMMARY = "customers-quarterly-summary/customers-quarterly-summary"
STAFF = {"个人代理": "agy.liu@insurer.example.com", "银行保险": "banca.yang@insurer.example.com"}
COMPLIANCE = "comp.sun@insurer.example.com"
OFFICE = "office.wu@insurer.example.com"
NEW_PHONE = "13912345678"
WAIT = 300  # seconds: the machine is shared, and a child run starts only when the runner picks it up


def today() -> date:
    return get_calendar().local_date(utcnow())


def run(stack: Stack, name: str, parameters: dict[str, Any]) -> str:
    """Start a deployment run once the runner has registered it (it registers prefect.yaml in order)."""
    poll(lambda: stack.prefect.deployment_id(name), 120, f"the deployment {name}")
    return stack.prefect.run(name, parameters)


def demo(stack: Stack) -> DemoBook:
    """The demo book, imported through the daily detection deployment the first time it is asked for."""
    book = build_demo_book(policies=DEMO_POLICIES, today=today())
    with Session(get_engine()) as session:
        loaded = session.exec(select(Policy)).first() is not None
    if not loaded:
        book.write(stack.zhidu.root / "var" / "customers" / "incoming")
        daily = run(stack, DAILY, {"day": today().isoformat(), "force": True})
        stack.prefect.wait_state(daily, "COMPLETED", timeout=WAIT)
    return book


def case_of(kind: CaseKind) -> SuspiciousCase:
    with Session(get_engine()) as session:
        return session.exec(select(SuspiciousCase).where(SuspiciousCase.kind == kind)).one()


def listed_cases() -> set[tuple[str, str, tuple[str, ...]]]:
    out = set()
    with Session(get_engine()) as session:
        for case in session.exec(select(SuspiciousCase)):
            nos = session.exec(select(Policy.policy_no).join(CaseMember, col(CaseMember.policy_id) == col(Policy.id))
                               .where(CaseMember.case_id == case.id)).all()
            out.add((case.kind.value, case.value, tuple(sorted(set(nos)))))
    return out


def expected_deadline(book: DemoBook, policy_nos: list[str]) -> str:
    rows = {r["保单号"]: r for r in book.policies}
    due = min(investigation_deadline(today(), date.fromisoformat(rows[n]["回执签收日期"]), rows[n]["险种代码"])
              for n in policy_nos)
    return local_dt(due)


def raw_values(book: DemoBook) -> set[str]:
    """Every phone, account and ID number of the book, normalised as stored, plus the corrected phone."""
    values = {NEW_PHONE}
    for row in book.policies:
        for who in ("投保人", "被保险人"):
            values |= {v for v in (normalize_phone(row.get(f"{who}联系电话")),
                                   normalize_account(row.get(f"{who}银行账号")), row.get(f"{who}证件号码")) if v}
    values |= {normalize_phone(a["联系电话"]) or "" for a in book.agents} - {""}
    return values


def test_demo_book_cases_reach_their_inboxes_and_a_correction_is_checked(stack: Stack) -> None:
    book = demo(stack)
    planted = {(p.kind, p.value, tuple(sorted(p.policy_nos))) for p in book.planted}
    assert len(planted) == 4 and listed_cases() == planted
    rows = {r["保单号"]: r for r in book.policies}
    for p in book.planted:  # each case reaches its channel's staff with its deadline in local time
        case = case_of(CaseKind(p.kind))
        assert case.channel == rows[max(p.policy_nos)]["销售渠道"]
        mail = mail_to(stack, STAFF[case.channel], f"可疑客户信息排查 {case_number(case.id or 0)}", WAIT)
        text = stack.zhidu.inbox.get(mail.id).text or ""
        due = expected_deadline(book, p.policy_nos)
        assert f"办理期限：{due}" in text and f"排查期限：{due}" in text
        assert local_dt(case.deadline) == due
    phone_case = case_of(CaseKind.phone)
    number = case_number(phone_case.id or 0)
    assert phone_case.flow_run_id is not None
    planted_phone = next(p for p in book.planted if p.kind == "phone")
    corrected_no = planted_phone.policy_nos[1]
    mail = mail_to(stack, STAFF[phone_case.channel or ""], f"可疑客户信息排查 {number}", WAIT)
    decide(stack.zhidu.client(), link_in(stack, mail), "approve", "", result="已修正", policy_no=corrected_no,
           new_phone=f"+86 {NEW_PHONE}", confirmation="QR-2026-0117", evidence="回访客户本人，原号码为业务员代填")
    check = mail_to(stack, COMPLIANCE, f"可疑客户排查结果复核 {number}", WAIT)
    assert "已修正" in (stack.zhidu.inbox.get(check.id).text or "")
    decide(stack.zhidu.client(), link_in(stack, check), "approve", "材料齐全")
    stack.prefect.wait_state(phone_case.flow_run_id, "COMPLETED", timeout=WAIT)
    with Session(get_engine()) as session:
        case = session.get(SuspiciousCase, phone_case.id)
        assert case is not None and (case.status, case.closed_by, case.checked_by) == (
            CaseStatus.corrected, "刘芳" if case.channel == "个人代理" else "杨洋", "孙丽")
        policy = session.exec(select(Policy).where(Policy.policy_no == corrected_no)).one()
        holder = session.exec(select(Party).where(Party.policy_id == policy.id, Party.role == "holder")).one()
        assert holder.phone == NEW_PHONE
        [audit] = session.exec(select(PolicyCorrection).where(PolicyCorrection.policy_id == policy.id)).all()
        assert (audit.field_name, audit.old_value, audit.new_value, audit.confirmation) == (
            "phone", planted_phone.value, NEW_PHONE, "QR-2026-0117")
    # a second daily run finds nothing new and starts nothing
    again = run(stack, DAILY, {"day": today().isoformat(), "force": True})
    stack.prefect.wait_state(again, "COMPLETED", timeout=WAIT)
    assert listed_cases() == planted
    subjects = [m.subject for m in stack.zhidu.inbox.list() if number in m.subject]
    assert len(subjects) == len(set(subjects)) == 2


def _artifacts(stack: Stack) -> list[dict[str, Any]]:
    r = httpx.post(f"{stack.prefect.api}/artifacts/filter", json={"limit": 200}, timeout=10)
    r.raise_for_status()
    return list(r.json())


def test_sent_back_once_then_confirmed_false_and_nothing_unmasked_in_mails_xlsx_or_artifacts(stack: Stack) -> None:
    book = demo(stack)
    account_case = case_of(CaseKind.account)
    number, staff = case_number(account_case.id or 0), STAFF[account_case.channel or ""]
    first = mail_to(stack, staff, f"可疑客户信息排查 {number}", WAIT)
    decide(stack.zhidu.client(), link_in(stack, first), "approve", "", result="查实虚假",
           evidence="两名客户均称账号为业务员提供")
    check = mail_to(stack, COMPLIANCE, f"可疑客户排查结果复核 {number}", WAIT)
    decide(stack.zhidu.client(), link_in(stack, check), "reject", "请补充客户签字的情况说明")
    second = mail_to(stack, staff, f"可疑客户信息排查 {number}（同一银行账号多名客户）（第2次）", WAIT)
    second_text = stack.zhidu.inbox.get(second.id).text or ""
    assert "合规退回：请补充客户签字的情况说明" in second_text and "审批环节：排查（第2次）" in second_text
    decide(stack.zhidu.client(), link_in(stack, second), "approve", "", result="查实虚假",
           evidence="已取得两名客户签字的情况说明")
    final = mail_to(stack, COMPLIANCE, f"可疑客户排查结果复核 {number}（第2次）", WAIT)
    assert "最终复核" in (stack.zhidu.inbox.get(final.id).text or "")
    decide(stack.zhidu.client(), link_in(stack, final), "approve", "")
    assert account_case.flow_run_id is not None
    stack.prefect.wait_state(account_case.flow_run_id, "COMPLETED", timeout=WAIT)
    with Session(get_engine()) as session:
        case = session.get(SuspiciousCase, account_case.id)
        assert case is not None and (case.status, case.checked_by) == (CaseStatus.confirmed_false, "孙丽")
    # the quarterly summary names the agents of the false data, masked, as .xlsx and artifacts
    local = today()
    quarter = f"{local.year}Q{(local.month - 1) // 3 + 1}"
    assert quarter_bounds(quarter)[0] <= local
    summary = run(stack, SUMMARY, {"quarter": quarter})
    stack.prefect.wait_state(summary, "COMPLETED", timeout=WAIT)
    mail = mail_to(stack, OFFICE, f"【季度汇总】{quarter}", WAIT)
    [attachment] = stack.zhidu.inbox.get(mail.id).attachments
    assert attachment.filename == f"虚假客户资料季度汇总_{quarter}.xlsx"
    sheet = load_workbook(io.BytesIO(attachment.content)).worksheets[0]
    rows = [[str(c.value or "") for c in r] for r in sheet.iter_rows()]
    planted = next(p for p in book.planted if p.kind == "account")
    agents = {r["业务员代码"] for r in book.policies if r["保单号"] in planted.policy_nos}
    assert {r[1] for r in rows[1:] if r[0] == "业务员"} == agents
    masked = planted.value[:4] + "*" * (len(planted.value) - 8) + planted.value[-4:]
    assert all(masked in r[9] for r in rows[1:])
    # nothing the review sent or showed carries a full phone, account or ID number
    secrets = raw_values(book)
    texts: list[str] = []
    for item in stack.zhidu.inbox.list():
        if "可疑客户" in item.subject or "季度汇总" in item.subject:
            message = stack.zhidu.inbox.get(item.id)
            texts += [item.subject, message.text or "", message.html or ""]
    texts += ["\n".join(str(c.value or "") for r in sheet.iter_rows() for c in r)]
    artifacts = poll(lambda: [a for a in _artifacts(stack) if str(a.get("key") or "").startswith(
        ("customers-", "approval-"))] or None, 30, "the review's artifacts")
    texts += [str(a.get("data")) for a in artifacts]
    assert any(str(a.get("key")).startswith("customers-summary-") for a in artifacts)
    leaks = {s for s in secrets for t in texts if s in t}
    assert leaks == set()
    assert any(masked in t for t in texts)
