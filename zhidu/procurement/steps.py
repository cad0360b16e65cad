"""The approval steps of the case flow (``flows/procurement_case.py``) as ``ApprovalSpec``s.

Two kinds of step go through the one approval mechanism (mail, link, suspend, reminders, escalation):

- decisions: request approval (申请审批), the acceptance form per contracted line (验收, 退换复验), the IT
  centre's sign-off (验收签认), finance's approval (报销审批) and the payment (付款);
- to-dos (待办) for data entry — amend a returned request, enter the contract, register the goods, claim with the
  invoices: the clerk enters the data (CLI ``zhidu procurement …``), which closes the to-do and wakes the flow.

Step names carry the case's counters (``request_v2``, ``check_1_2``, ``order_1_1``), so each is opened once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models.approval import Mode
from models.procurement import PurchaseCase, Registration, Stage
from zhidu.approvals.schemas import ApprovalSpec, Approver, EscalationLevel, FormField
from zhidu.directory import Directory
from zhidu.procurement.acceptance import acceptance_signoff_plan, line_state
from zhidu.procurement.case import PROCESS, case_order, config_or_default, directory_or_default, order_line
from zhidu.procurement.config import ProcurementConfig
from zhidu.procurement.registration import unregistered
from zhidu.procurement.reimbursement import reimbursement_plan
from zhidu.procurement.requests import request_approval_plan
from zhidu.procurement.schemas import item_label
from zhidu.settings import get_settings
from zhidu.templating import money
from zhidu.workdays import get_calendar

TODO_KINDS = ("amend", "order", "register", "claim")
TODO_LABELS = {"amend": "修改申请", "order": "下单", "register": "入库/固定资产登记", "claim": "报账"}
TODO_CHOICES = {"approve": "已办理", "reject": "无法办理（请写明原因）"}
REASON = FormField(name="reason", label="原因（不同意/不合格时必填）", kind="textarea", required=True,
                   required_for="reject")  # fmt: skip


def case_by_number(session: Session, number: str) -> PurchaseCase:
    case = session.exec(select(PurchaseCase).where(PurchaseCase.number == number)).first()
    if case is None:
        raise KeyError(f"没有采购 {number}")
    return case


def case_url(number: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/procurement/{number}"


def _people(directory: Directory, *roles: str) -> list[Approver]:
    found = {str(p.email): p.name for role in roles for p in directory.by_role(role)}
    return [Approver(email=e, name=n) for e, n in found.items()]


def _escalation(directory: Directory, cfg: ProcurementConfig, role: str | None) -> list[EscalationLevel]:
    people = _people(directory, role) if role else []
    return [EscalationLevel(approvers=people, within_workdays=cfg.escalation_workdays)] if people else []


def _deadline(case: PurchaseCase, stage: Stage, now: datetime, cfg: ProcurementConfig) -> datetime:
    """The stage's SLA end; a step opened after it (a second round) gets the stage's SLA from now."""
    if case.stage_due_at is not None and case.stage_due_at > now:
        return case.stage_due_at
    return get_calendar().workday_deadline(now, cfg.sla_workdays[stage])


def _spec(case: PurchaseCase, *, step: str, title: str, approvers: list[Approver], deadline: datetime,
          details: dict[str, str], escalate_to: str | None, cfg: ProcurementConfig, directory: Directory,
          mode: Mode = Mode.any, fields: list[FormField] | None = None, choices: dict[str, str] | None = None,
          ) -> ApprovalSpec:  # fmt: skip
    return ApprovalSpec(
        process=PROCESS, case_id=case.number, step=step, title=title, approvers=approvers, mode=mode,
        deadline=deadline, details=details | {"采购页面": case_url(case.number)},
        remind_before_hours=cfg.remind_before_hours, escalation=_escalation(directory, cfg, escalate_to),
        fields=fields if fields is not None else [REASON],
        choice_labels=choices or {"approve": "同意", "reject": "不同意"},
    )  # fmt: skip


def request_spec(*, session: Session, number: str, now: datetime, config: ProcurementConfig | None = None,
                 directory: Directory | None = None) -> ApprovalSpec:  # fmt: skip
    """申请审批: the IT centre (and above the threshold the factory leader, 会签) approve the current version."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    [plan] = request_approval_plan(session=session, case_id=case.id, config=cfg, directory=dir_)
    approvers = [Approver(email=a.email, name=a.name) for a in plan.approvers]
    return _spec(case, step=plan.step, title=plan.title, approvers=approvers, mode=plan.mode,
                 deadline=_deadline(case, Stage.approval, now, cfg), details=plan.details,
                 escalate_to="factory_leader", cfg=cfg, directory=dir_)  # fmt: skip


def todo_spec(*, session: Session, number: str, kind: str, key: int, attempt: int, now: datetime,
              config: ProcurementConfig | None = None, directory: Directory | None = None,
) -> ApprovalSpec:  # fmt: skip
    """A data-entry to-do (待办) for the clerk who enters it; the entry itself closes it."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    n = case.number
    if kind == "amend":
        person = dir_.person(case.requester_id)
        who, stage, escalate = [Approver(email=str(person.email), name=person.name)], Stage.request, None
        what = (f"采购申请第{key}版被退回，请按退回意见修改后重新提交",
                f"zhidu procurement amend {n} 修改后的申请.yaml --by {case.requester_id} --note 修改说明")
    elif kind == "order":
        who, stage, escalate = _people(dir_, "buyer"), Stage.order, "it_centre"
        what = ("采购申请已批准，请与选定供应商签订合同并录入合同及配置清单",
                f"zhidu procurement order {n} 合同.yaml --by 本人编号")
    elif kind == "register":
        pending = unregistered(session=session, case_id=case.id, config=cfg)
        roles = sorted({"asset_admin" if u.registration is Registration.fixed_asset else "warehouse_keeper"
                        for u in pending}) or ["asset_admin"]  # fmt: skip
        who, stage, escalate = _people(dir_, *roles), Stage.registration, "it_centre"
        what = ("验收记录已签认，请将全部验收合格的物品入库或转固定资产：" + "；".join(u.describe() for u in pending),
                f"zhidu procurement register {n} 行号 … / zhidu procurement warehouse {n} 行号 …")
    elif kind == "claim":
        who, stage, escalate = _people(dir_, "buyer"), Stage.reimbursement, "it_centre"
        again = "财务部退回了上次报账，" if key else ""
        what = (f"{again}全部物品已入库或转固定资产，请持增值税发票到财务部报账（金额须与合同一致）",
                f"zhidu procurement claim {n} 发票.yaml --by 本人编号")
    else:
        raise ValueError(f"unknown to-do kind {kind!r}")
    details = {"采购编号": n, "事项": what[0], "办理方式": what[1]}
    return _spec(case, step=f"{kind}_{key}_{attempt}", title=f"【待办】{TODO_LABELS[kind]}：{case.title}",
                 approvers=who, deadline=_deadline(case, stage, now, cfg), details=details, escalate_to=escalate,
                 cfg=cfg, directory=dir_, fields=[REASON], choices=TODO_CHOICES)  # fmt: skip


def check_spec(*, session: Session, number: str, line: int, round_: int, now: datetime,
               config: ProcurementConfig | None = None, directory: Directory | None = None,
) -> ApprovalSpec:  # fmt: skip
    """验收: the receiver's form for one contracted line — conforming, or nonconforming with the reason.

    When the line's units are all checked but some were returned, this is the replacement's check (退换复验).
    """
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    item = order_line(session, case.id, line)
    state = line_state(session, item)
    where = item_label(item.line, item.name)
    details = {"采购编号": number, "物品": f"{where} {item.model} / {item.specification}",
               "合同配置清单": "、".join(item.configuration) or "（无）"}  # fmt: skip
    if state.unchecked:
        details["本次验收数量"] = f"{state.unchecked} 件"
        title, step = f"到货验收（{where}）：{case.title}", f"check_{line}_{round_}"
        fields = [FormField(name="nonconforming", label="不合格数量（不填为全部）"), REASON]
        choices = {"approve": "全部合格", "reject": "有不合格"}
    else:
        details["待复验数量"] = f"{state.awaiting_replacement} 件（供应商退换后到货）"
        title, step = f"退换复验（{where}）：{case.title}", f"replace_{line}_{round_}"
        fields, choices = [REASON], {"approve": "复验合格", "reject": "仍不合格"}
    return _spec(case, step=step, title=title, approvers=_people(dir_, "buyer"), details=details,
                 deadline=_deadline(case, Stage.acceptance, now, cfg), escalate_to="it_centre", cfg=cfg,
                 directory=dir_, fields=fields, choices=choices)  # fmt: skip


def signoff_spec(*, session: Session, number: str, round_: int, now: datetime,
                 config: ProcurementConfig | None = None, directory: Directory | None = None,
) -> ApprovalSpec:  # fmt: skip
    """验收签认: the IT centre signs the acceptance record."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    [plan] = acceptance_signoff_plan(session=session, case_id=case.id, config=cfg, directory=dir_)
    approvers = [Approver(email=a.email, name=a.name) for a in plan.approvers]
    return _spec(case, step=f"signoff_{round_}", title=plan.title, approvers=approvers, details=plan.details,
                 deadline=_deadline(case, Stage.acceptance, now, cfg), escalate_to="factory_leader", cfg=cfg,
                 directory=dir_, choices={"approve": "签字确认", "reject": "不予签认"})  # fmt: skip


def finance_spec(*, session: Session, number: str, now: datetime, config: ProcurementConfig | None = None,
                 directory: Directory | None = None) -> ApprovalSpec:  # fmt: skip
    """报销审批: finance approves the pending claim."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    [plan] = reimbursement_plan(session=session, case_id=case.id, config=cfg, directory=dir_)
    approvers = [Approver(email=a.email, name=a.name) for a in plan.approvers]
    return _spec(case, step=plan.step, title=plan.title, approvers=approvers, details=plan.details,
                 deadline=_deadline(case, Stage.reimbursement, now, cfg), escalate_to="factory_leader", cfg=cfg,
                 directory=dir_)  # fmt: skip


def payment_spec(*, session: Session, number: str, round_: int, now: datetime,
                 config: ProcurementConfig | None = None, directory: Directory | None = None,
) -> ApprovalSpec:  # fmt: skip
    """付款: finance pays the approved claim and records the voucher and the payee's account."""
    cfg, dir_ = config_or_default(config), directory_or_default(directory)
    case = case_by_number(session, number)
    order = case_order(session, case.id)
    assert order is not None
    details = {"采购编号": number, "收款单位": order.supplier, "合同": order.contract_no,
               "付款金额": money(order.total)}  # fmt: skip
    fields = [FormField(name="payment_ref", label="付款凭证号", required=True),
              FormField(name="account", label="收款账号", required=True), REASON]  # fmt: skip
    return _spec(case, step=f"payment_{round_}", title=f"付款：{case.title}", approvers=_people(dir_, "finance"),
                 details=details, deadline=_deadline(case, Stage.reimbursement, now, cfg),
                 escalate_to="factory_leader", cfg=cfg, directory=dir_, fields=fields,
                 choices={"approve": "已付款", "reject": "暂缓付款"})  # fmt: skip
