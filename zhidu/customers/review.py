"""The investigation (排查) and the compliance check (合规复核) of one suspicious case (§7, §13), as approval steps.

* Investigation: the staff of the case's channel (渠道内勤, ``channel_staff:<channel>`` in
  ``data/directory/insurance.yaml``) answer with a form — 排除可疑 (evidence), 已修正 (new phone/account and the
  customer's signed confirmation) or 查实虚假 — by the case deadline (3 working days / before the 犹豫期回访).
  Late: escalated to the channel manager (渠道管理部门), then to compliance, one working day each.
* Check: compliance (合规) confirms the result (复核通过) or sends it back (退回重新排查). A case is sent back at
  most once (``MAX_ROUNDS``): the second check's answer is final, and a second rejection leaves the case open
  for compliance to handle by hand.

Everything people read here is masked (phones, accounts, ID numbers, addresses).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from models.customers import CaseMember, CaseStatus, Party, Policy, SuspiciousCase
from zhidu.approvals.schemas import ApprovalSpec, Approver, EscalationLevel, FormField
from zhidu.customers.display import KIND_LABEL, STATUS_LABEL, mask_address, mask_value
from zhidu.directory import Directory, Person, load_directory
from zhidu.masking import mask_account, mask_id, mask_phone
from zhidu.templating import local_dt
from zhidu.workdays import get_calendar

PROCESS = "customers"
DIRECTORY = "insurance"
MAX_ROUNDS = 2  # investigation attempts: the first, and once more after compliance sends it back
ESCALATION_WORKDAYS = 1
CHECK_WORKDAYS = 2  # compliance checks a result within 2 working days (the regulation is silent)
RESULT_STATUS = {"排除可疑": CaseStatus.cleared, "已修正": CaseStatus.corrected, "查实虚假": CaseStatus.confirmed_false}
ROLE_TEXT = {"holder": "投保人", "insured": "被保险人"}


class MemberView(BaseModel):
    party_id: int
    policy_no: str
    role: str
    name: str
    agent_code: str
    phone: str  # masked
    account: str  # masked
    id_number: str  # masked
    address: str  # masked


class CaseView(BaseModel):
    """One case as people may see it: every identifying value masked."""

    id: int
    number: str  # 案件编号, e.g. KY000012 (KY000012-2 in the second round)
    round: int
    kind: str
    kind_label: str
    value_masked: str
    status: str
    list_date: date
    deadline: datetime
    channel: str
    agent_code: str | None
    members: list[MemberView]

    @property
    def policy_nos(self) -> list[str]:
        return sorted({m.policy_no for m in self.members})


def case_number(case_id: int, round_: int = 1) -> str:
    return f"KY{case_id:06d}" + (f"-{round_}" if round_ > 1 else "")


def case_view(*, session: Session, case_id: int) -> CaseView:
    case = session.get(SuspiciousCase, case_id)
    if case is None:
        raise KeyError(f"no suspicious case {case_id}")
    query = (
        select(Party, Policy).join(CaseMember, col(CaseMember.party_id) == col(Party.id))
        .join(Policy, col(Policy.id) == col(Party.policy_id))
        .where(CaseMember.case_id == case_id).order_by(col(Policy.policy_no), col(Party.role))
    )
    members = [
        MemberView(party_id=party.id or 0, policy_no=policy.policy_no, role=ROLE_TEXT.get(party.role, party.role),
                   name=party.name, agent_code=policy.agent_code, phone=mask_phone(party.phone),
                   account=mask_account(party.bank_account), id_number=mask_id(party.id_number),
                   address=mask_address(party.address))
        for party, policy in session.exec(query)
    ]
    return CaseView(id=case_id, number=case_number(case_id, case.round), round=case.round, kind=case.kind.value,
                    kind_label=KIND_LABEL[case.kind.value], value_masked=mask_value(case.kind, case.value),
                    status=STATUS_LABEL[case.status.value], list_date=case.list_date, deadline=case.deadline,
                    channel=case.channel or "", agent_code=case.agent_code, members=members)


def _directory() -> Directory:
    return load_directory(DIRECTORY)


def approver(person: Person) -> Approver:
    return Approver(email=person.email, name=person.name)


def _role_or(directory: Directory, role: str, fallback: str) -> list[Person]:
    try:
        return directory.by_role(role)
    except KeyError:
        return directory.by_role(fallback)


def investigators(channel: str) -> list[Person]:
    """The 渠道内勤 of the channel (customer service when the channel has none in the directory)."""
    return _role_or(_directory(), f"channel_staff:{channel}", "customer_service")


def escalation(channel: str) -> list[EscalationLevel]:
    """Late: the channel manager (渠道管理部门), then compliance (合规), one working day each."""
    d = _directory()
    managers = _role_or(d, f"channel_manager:{channel}", "customer_service")
    return [EscalationLevel(approvers=[approver(p) for p in managers], within_workdays=ESCALATION_WORKDAYS),
            EscalationLevel(approvers=[approver(p) for p in d.by_role("compliance")],
                            within_workdays=ESCALATION_WORKDAYS)]


def details(view: CaseView, note: str = "") -> dict[str, str]:
    lines = [f"{m.policy_no} {m.role} {m.name} 电话{m.phone or '-'} 账号{m.account or '-'} 证件{m.id_number or '-'}"
             f" 业务员{m.agent_code}" for m in view.members]
    out = {"案件编号": view.number, "可疑类型": view.kind_label, "可疑信息": view.value_masked,
           "销售渠道": view.channel or "-", "列入清单日期": view.list_date.isoformat(),
           "排查期限": local_dt(view.deadline), "涉及客户": "；".join(lines)}
    if view.agent_code:
        out["相同信息的业务员"] = view.agent_code
    if note:
        out["说明"] = note
    return out


def investigation_fields(view: CaseView) -> list[FormField]:
    return [
        FormField(name="result", label="排查结果", kind="choice", required=True, choices=list(RESULT_STATUS)),
        FormField(name="evidence", label="排查说明/证明材料", kind="textarea", required=True),
        FormField(name="policy_no", label="修正的保单（已修正时）", kind="choice", choices=view.policy_nos),
        FormField(name="new_phone", label="客户正确的联系电话（已修正时）"),
        FormField(name="new_account", label="客户正确的银行账号（已修正时）"),
        FormField(name="confirmation", label="客户签名确认书编号（已修正时）"),
    ]


def investigation_deadline_for(view: CaseView, sent_back_at: datetime | None) -> datetime:
    """The case deadline; sent back: the later of that and the end of the next working day after."""
    if sent_back_at is None:
        return view.deadline
    return max(view.deadline, get_calendar().workday_deadline(sent_back_at, 1))


def investigation_step(view: CaseView, attempt: int, sent_back_at: datetime | None, note: str = "") -> ApprovalSpec:
    """The 排查 step to the channel staff, with the result form, reminders and escalation."""
    step = "排查" if attempt == 1 else f"排查（第{attempt}次）"
    return ApprovalSpec(
        process=PROCESS, case_id=view.number, step=step,
        title=f"可疑客户信息排查 {view.number}（{view.kind_label}）" + (f"（第{attempt}次）" if attempt > 1 else ""),
        details=details(view, note), approvers=[approver(p) for p in investigators(view.channel)],
        deadline=investigation_deadline_for(view, sent_back_at), remind_before_hours=24,
        escalation=escalation(view.channel), fields=investigation_fields(view), instructions_label="补充说明",
        choice_labels={"approve": "提交排查结果", "reject": "无法完成排查"},
    )


def check_step(view: CaseView, attempt: int, result: str, summary: str, now: datetime) -> ApprovalSpec:
    """The 合规复核 step: compliance confirms the investigation's result or sends it back."""
    d = _directory()
    compliance = d.by_role("compliance")
    up = d.escalation_of(compliance[0].department)
    step = "合规复核" if attempt == 1 else f"合规复核（第{attempt}次）"
    info = details(view) | {"排查结果": result, "排查说明": summary}
    if attempt >= MAX_ROUNDS:
        info["提示"] = "本案已退回重查一次，本次复核为最终复核；不通过时案件保持待排查，由合规人工处理。"
    return ApprovalSpec(
        process=PROCESS, case_id=view.number, step=step,
        title=f"可疑客户排查结果复核 {view.number}" + (f"（第{attempt}次）" if attempt > 1 else ""),
        details=info, approvers=[approver(p) for p in compliance],
        deadline=get_calendar().workday_deadline(now, CHECK_WORKDAYS), remind_before_hours=24,
        escalation=[EscalationLevel(approvers=[approver(up)], within_workdays=ESCALATION_WORKDAYS)] if up else [],
        instructions_label="复核意见", choice_labels={"approve": "复核通过", "reject": "退回重新排查"},
    )


def result_problems(fields: dict[str, object], view: CaseView) -> list[str]:
    """What is missing from an investigation answer (in Chinese); empty when it can be applied."""
    result = str(fields.get("result", ""))
    problems = []
    if result not in RESULT_STATUS:
        problems.append(f"排查结果无效：{result or '空'}")
    if not str(fields.get("evidence", "")).strip():
        problems.append("缺少排查说明/证明材料")
    if result == "已修正":
        if str(fields.get("policy_no", "")) not in view.policy_nos:
            problems.append("已修正时须选择修正的保单")
        if not (str(fields.get("new_phone", "")).strip() or str(fields.get("new_account", "")).strip()):
            problems.append("已修正时须填写正确的联系电话或银行账号")
        if not str(fields.get("confirmation", "")).strip():
            problems.append("已修正时须填写客户签名确认书编号")
    return problems
