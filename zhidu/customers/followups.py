"""Follow-ups: agents to re-check after mis-selling complaints (§14) and the quarterly false-data summary (§22, §23)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.customers import Agent, CaseMember, CaseStatus, Complaint, Party, Policy, SuspiciousCase
from zhidu.customers.detection import DetectionResult, detect_policies
from zhidu.customers.display import KIND_LABEL, mask_value
from zhidu.customers.entry import ADULT_AGE, PARTY_COLUMNS, age_on, missing_key_fields
from zhidu.customers.idcheck import check_id_number
from zhidu.customers.normalize import GB_ID_TYPES
from zhidu.db import utcnow
from zhidu.workdays import get_calendar

RECHECK_COMPLAINTS = 2  # §14: 一年内 … 销售误导行为 2 次及以上


def one_year_before(day: date) -> date:
    """The same calendar day a year earlier (29 Feb → 28 Feb)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class AgentToRecheck:
    agent_code: str
    complaints: int  # verified mis-selling complaints in the year up to today


def agents_needing_recheck(*, session: Session, today: date) -> list[AgentToRecheck]:
    """Agents (or agencies, by code) with ≥ 2 verified mis-selling complaints dated after ``today`` one year ago
    and not after ``today``, most complaints first."""
    n = func.count(col(Complaint.id))
    query = (
        select(Complaint.agent_code, n)
        .where(col(Complaint.verified).is_(True))
        .where(Complaint.complaint_date > one_year_before(today), Complaint.complaint_date <= today)
        .group_by(col(Complaint.agent_code))
        .having(n >= RECHECK_COMPLAINTS)
        .order_by(n.desc(), col(Complaint.agent_code))
    )
    return [AgentToRecheck(code, int(count)) for code, count in session.exec(query)]


@dataclass(frozen=True)
class StoredProblem:
    policy_no: str
    field: str  # the export's column header
    code: str
    reason: str
    severity: str = "error"


@dataclass
class AgentRecheck:
    agent_code: str
    policies: int = 0
    problems: list[StoredProblem] = field(default_factory=list)
    detection: DetectionResult = field(default_factory=DetectionResult)


def check_stored_party(party: Party, policy: Policy, *, today: date) -> list[StoredProblem]:
    """The entry checks (§5, §6) again on a stored party."""
    out: list[StoredProblem] = []
    values = party.model_dump()
    minor = party.birth_date is not None and age_on(party.birth_date, policy.sign_date) < ADULT_AGE
    for name in missing_key_fields(party.role, values, minor=minor):
        out.append(StoredProblem(policy.policy_no, PARTY_COLUMNS[(party.role, name)], "missing", "关键信息缺失"))
    if party.id_number and party.id_type in GB_ID_TYPES:
        result = check_id_number(party.id_number, stated_birth=party.birth_date, stated_sex=party.sex, today=today)
        for issue in result.issues:
            out.append(
                StoredProblem(policy.policy_no, PARTY_COLUMNS[(party.role, "id_number")], issue.code, issue.reason,
                              "warning" if issue.warning else "error")
            )
    return out


def recheck_agent(*, session: Session, agent_code: str, today: date | None = None) -> AgentRecheck:
    """§14: run the entry checks and the detection again over every policy the agent sold."""
    today = today or get_calendar().local_date(utcnow())
    policies = list(session.exec(select(Policy).where(Policy.agent_code == agent_code).order_by(col(Policy.id))))
    result = AgentRecheck(agent_code=agent_code, policies=len(policies))
    by_id = {p.id: p for p in policies}
    ids = [p.id for p in policies if p.id is not None]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for party in session.exec(select(Party).where(col(Party.policy_id).in_(chunk)).order_by(col(Party.id))):
            result.problems += check_stored_party(party, by_id[party.policy_id], today=today)
    result.detection = detect_policies(session=session, policy_ids=ids, today=today)
    return result


SUMMARY_HEADERS = ["类别", "业务员/机构代码", "姓名/机构名称", "所属团队", "销售渠道", "查实案件数", "涉及保单数",
                   "涉及保单号", "可疑类型", "可疑信息(已脱敏)"]


@dataclass
class FalseDataSummary:
    quarter: str
    rows: list[dict[str, object]]
    path: Path | None = None


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """``"2025Q4"`` → (2025-10-01, 2026-01-01): first day and the day after the last."""
    m = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", quarter.strip())
    if m is None:
        raise ValueError(f"quarter {quarter!r}: expected e.g. 2025Q4")
    year, q = int(m.group(1)), int(m.group(2))
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end


def quarterly_false_data_summary(*, session: Session, quarter: str, out_dir: Path | None = None) -> FalseDataSummary:
    """§22, §23: agents and agencies whose customer data was confirmed false in cases closed in ``quarter``
    (Asia/Shanghai dates), for the general office. With ``out_dir`` an .xlsx (Chinese headers, masked) is written."""
    cal = get_calendar()
    start, end = quarter_bounds(quarter)
    lo = datetime.combine(start, time(0), tzinfo=cal.tz)
    hi = datetime.combine(end, time(0), tzinfo=cal.tz)
    query = (
        select(SuspiciousCase, Policy)
        .join(CaseMember, col(CaseMember.case_id) == col(SuspiciousCase.id))
        .join(Policy, col(Policy.id) == col(CaseMember.policy_id))
        .where(CaseMember.outcome == CaseStatus.confirmed_false)
        .where(col(SuspiciousCase.closed_at) >= lo, col(SuspiciousCase.closed_at) < hi)
        .order_by(col(SuspiciousCase.id), col(Policy.policy_no))
    )
    groups: dict[tuple[str, str], dict[str, set[object]]] = defaultdict(lambda: defaultdict(set))
    for case, policy in session.exec(query):
        keys = [("业务员", policy.agent_code)] + ([("代理机构", policy.agency)] if policy.agency else [])
        for key in keys:
            g = groups[key]
            g["cases"].add(case.id)
            g["policies"].add(policy.policy_no)
            g["kinds"].add(KIND_LABEL[case.kind])
            g["values"].add(mask_value(case.kind, case.value))
    agents = {a.code: a for a in session.exec(select(Agent).where(col(Agent.code).in_([k[1] for k in groups])))}
    rows: list[dict[str, object]] = []
    for (category, code), g in sorted(groups.items()):
        agent = agents.get(code) if category == "业务员" else None
        rows.append({
            "类别": category,
            "业务员/机构代码": code,
            "姓名/机构名称": agent.name if agent else ("" if category == "业务员" else code),
            "所属团队": agent.team or "" if agent else "",
            "销售渠道": agent.channel or "" if agent else "",
            "查实案件数": len(g["cases"]),
            "涉及保单数": len(g["policies"]),
            "涉及保单号": "、".join(sorted(str(v) for v in g["policies"])),
            "可疑类型": "、".join(sorted(str(v) for v in g["kinds"])),
            "可疑信息(已脱敏)": "、".join(sorted(str(v) for v in g["values"])),
        })
    summary = FalseDataSummary(quarter=quarter, rows=rows)
    if out_dir is not None:
        summary.path = write_summary_xlsx(rows, out_dir / f"虚假客户资料季度汇总_{quarter}.xlsx", quarter)
    return summary


def write_summary_xlsx(rows: list[dict[str, object]], path: Path, quarter: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{quarter}汇总"
    ws.append(SUMMARY_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row[h] for h in SUMMARY_HEADERS])  # type: ignore[misc]
    for column, width in zip("ABCDEFGHIJ", (10, 16, 14, 14, 10, 12, 12, 40, 28, 40), strict=True):
        ws.column_dimensions[column].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path

