"""Prefect tasks of the purchase case (篇二 第二章): each one step; every result persisted, so a resumed flow
replays them from storage, and every write is idempotent by the approval request id besides."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from models.procurement import STAGE_LABELS, AssetRecord, Stage
from zhidu.approvals.schemas import ApprovalSpec, Decision
from zhidu.db import session_scope, utcnow
from zhidu.directory import load_directory
from zhidu.mail import send_email
from zhidu.masking import mask_text
from zhidu.procurement import progress, steps
from zhidu.procurement.case import order_items
from zhidu.procurement.inventory import open_inventory_tasks
from zhidu.procurement.reconcile import reconcile
from zhidu.procurement.status import case_status
from zhidu.procurement.views import inventory_task_mail
from zhidu.settings import get_settings
from zhidu.templating import local_dt, money

RETRY = {"retries": 3, "retry_delay_seconds": [5, 30, 120]}


@task(task_run_name="进度-{number}", cache_policy=NO_CACHE, persist_result=False)
def load_stage(number: str) -> Stage:
    """The stage the case is in now (read afresh at every start and resume: finished stages are not replayed)."""
    with session_scope() as session:
        return steps.case_by_number(session, number).stage


@task(task_run_name="申请审批-{number}-第{version}版-派发", persist_result=True)
def plan_request(number: str, version: int) -> ApprovalSpec:
    """The request approval step of version ``version`` (IT centre; above the threshold also the leader)."""
    with session_scope() as session:
        return steps.request_spec(session=session, number=number, now=utcnow())


@task(task_run_name="申请审批-{number}-第{version}版", persist_result=True)
def apply_request(number: str, version: int, decision: Decision) -> bool:
    """Apply the request decision; True when approved."""
    with session_scope() as session:
        return progress.apply_request(session=session, number=number, version=version, decision=decision)


@task(task_run_name="{label}-{number}-查验-{key}-{attempt}", persist_result=True)
def entry_done(number: str, kind: str, label: str, key: int, attempt: int) -> bool:
    """Whether the clerk has entered what the to-do asks for."""
    with session_scope() as session:
        return progress.entry_done(session=session, number=number, kind=kind, key=key)


@task(task_run_name="{label}-{number}-待办-{key}-{attempt}", persist_result=True)
def plan_todo(number: str, kind: str, label: str, key: int, attempt: int) -> ApprovalSpec:
    """The to-do (待办) asking the clerk to enter the data."""
    with session_scope() as session:
        return steps.todo_spec(session=session, number=number, kind=kind, key=key, attempt=attempt, now=utcnow())


@task(task_run_name="{label}-{number}-答复-{key}-{attempt}", persist_result=True)
def note_todo(number: str, kind: str, label: str, key: int, attempt: int, decision: Decision) -> None:
    """Keep a to-do answered without data (无法办理, overdue) in the case history."""
    with session_scope() as session:
        progress.note_todo(session=session, number=number, kind=kind, decision=decision)


@task(task_run_name="验收-{number}-合同行", persist_result=True)
def contract_lines(number: str) -> list[int]:
    """The contracted lines to accept, one form each."""
    with session_scope() as session:
        return [i.line for i in order_items(session, steps.case_by_number(session, number).id)]


@task(task_run_name="验收-{number}-第{line}项-状态-{round_}", persist_result=True)
def line_status(number: str, line: int, round_: int) -> str:
    """unchecked / returned (waiting for the replacement) / done."""
    with session_scope() as session:
        return progress.line_status(session=session, number=number, line=line)


@task(task_run_name="验收-{number}-第{line}项-派发-{round_}", persist_result=True)
def plan_check(number: str, line: int, round_: int) -> ApprovalSpec:
    """The receiver's acceptance form for one line (or the replacement's re-check)."""
    with session_scope() as session:
        return steps.check_spec(session=session, number=number, line=line, round_=round_, now=utcnow())


@task(task_run_name="验收-{number}-第{line}项-{round_}", persist_result=True)
def apply_check(number: str, line: int, round_: int, decision: Decision) -> str:
    """Record the form: conforming, or nonconforming with the reason (opens a return/exchange)."""
    with session_scope() as session:
        return progress.apply_check(session=session, number=number, line=line, decision=decision)


@task(task_run_name="验收签认-{number}-派发-{round_}", persist_result=True)
def plan_signoff(number: str, round_: int) -> ApprovalSpec:
    """The IT centre's sign-off of the acceptance record."""
    with session_scope() as session:
        return steps.signoff_spec(session=session, number=number, round_=round_, now=utcnow())


@task(task_run_name="验收签认-{number}-{round_}", persist_result=True)
def apply_signoff(number: str, round_: int, decision: Decision) -> bool:
    """Apply the sign-off; True when signed."""
    with session_scope() as session:
        return progress.apply_signoff(session=session, number=number, decision=decision)


@task(task_run_name="报销审批-{number}-派发-{round_}", persist_result=True)
def plan_finance(number: str, round_: int) -> ApprovalSpec:
    """Finance's approval of the pending claim."""
    with session_scope() as session:
        return steps.finance_spec(session=session, number=number, now=utcnow())


@task(task_run_name="报销审批-{number}-{round_}", persist_result=True)
def apply_finance(number: str, round_: int, decision: Decision) -> bool:
    """Apply finance's decision; True when approved."""
    with session_scope() as session:
        return progress.apply_finance(session=session, number=number, decision=decision)


@task(task_run_name="付款-{number}-派发-{round_}", persist_result=True)
def plan_payment(number: str, round_: int) -> ApprovalSpec:
    """Finance's payment form (voucher number, payee account)."""
    with session_scope() as session:
        return steps.payment_spec(session=session, number=number, round_=round_, now=utcnow())


@task(task_run_name="付款-{number}-{round_}", persist_result=True)
def apply_payment(number: str, round_: int, decision: Decision) -> bool:
    """Record the payment; True when paid."""
    with session_scope() as session:
        return progress.apply_payment(session=session, number=number, decision=decision)


@task(task_run_name="办结-{number}", persist_result=True)
def close_case(number: str) -> str:
    """Leave the case's summary and history as artifacts in the Prefect UI; the final stage."""
    with session_scope() as session:
        case = steps.case_by_number(session, number)
        status = case_status(session=session, case_id=case.id)
    md = "\n".join([f"# 采购 {number} {status.title}", "", f"- 当前环节：**{status.stage_label}**",
                    f"- 申请部门：{status.department}（{status.requester}）",
                    f"- 合同金额：{money(status.order.total) if status.order else '—'}",
                    f"- 采购页面：{steps.case_url(number)}"])  # fmt: skip
    key = f"procurement-{number.lower()}"
    create_markdown_artifact(markdown=md, key=key, description=f"采购 {number}")
    rows = [{"时间": e.at.isoformat(), "环节": STAGE_LABELS[e.stage], "办理人": status.names.get(e.actor, e.actor),
             "内容": mask_text(e.message)} for e in status.events]  # fmt: skip
    create_table_artifact(table=rows, key=f"{key}-history", description=f"采购 {number} 办理记录")
    return status.stage.value


# --- accounts and goods agree (账物一致, §8, §22) ------------------------------------------------------------


@task(task_run_name="账物核对-比对", persist_result=True)
def find_mismatches() -> list[dict[str, str]]:
    """Compare purchases, acceptances, the ledger, the warehouse and reimbursements; one row per mismatch."""
    with session_scope() as session:
        return [{"类型": m.label, "采购": m.case_number or "（无采购记录）", "对象": m.subject,
                 "说明": mask_text(m.description)} for m in reconcile(session=session)]  # fmt: skip


@task(task_run_name="清查任务清单", persist_result=True)
def inventory_list() -> list[dict[str, str]]:
    """The open inventory (清查) tasks, earliest due first, one row each."""
    with session_scope() as session:
        names = {p.id: p.name for p in load_directory("procurement").people}
        rows = []
        for t in open_inventory_tasks(session=session):
            asset = session.get(AssetRecord, t.asset_id)
            assert asset is not None
            rows.append({"任务": str(t.id), "资产": f"{asset.tag} {asset.name}", "原因": t.reason,
                         "调配": f"{names.get(t.from_custodian, t.from_custodian)}（{t.from_location}）→ "
                                 f"{names.get(t.to_custodian, t.to_custodian)}（{t.to_location}）",
                         "期限": local_dt(t.due_at)})  # fmt: skip
        return rows


@task(task_run_name="清查任务派发-{task_id}", **RETRY, persist_result=True)  # type: ignore[call-overload]
def mail_inventory_task(task_id: int) -> str:
    """Ask the asset administrators to do one inventory task (mailed once per task)."""
    with session_scope() as session:
        mail = inventory_task_mail(session=session, task_id=task_id, url=f"{get_settings().public_url}/procurement")
        return send_email(to=mail.to, subject=mail.subject, template=mail.template, context=mail.context,
                          idempotency_key=f"procurement:inventory:{task_id}", session=session)  # fmt: skip


@task(task_run_name="账物核对-报告", **RETRY, persist_result=True)  # type: ignore[call-overload]
def report_ledger(mismatches: list[dict[str, str]], tasks: list[dict[str, str]], run_key: str) -> str:
    """Table artifacts in the Prefect UI and the report mailed to the IT centre (once per run)."""
    create_table_artifact(table=mismatches or [{"说明": "账物一致，未发现差异"}], key="procurement-ledger-mismatches",
                          description=f"采购账物核对：差异 {len(mismatches)} 项")  # fmt: skip
    create_table_artifact(table=tasks or [{"说明": "没有待办清查任务"}], key="procurement-inventory-tasks",
                          description=f"资产清查任务清单：{len(tasks)} 项")  # fmt: skip
    people = load_directory("procurement").by_role("it_centre")
    context = {"name": "、".join(p.name for p in people), "mismatches": mismatches, "tasks": tasks, "now": utcnow(),
               "url": f"{get_settings().public_url}/procurement"}  # fmt: skip
    with session_scope() as session:
        return send_email(to=[str(p.email) for p in people], template="procurement_ledger_report", context=context,
                          subject=f"【账物核对】差异 {len(mismatches)} 项，待清查 {len(tasks)} 项",
                          idempotency_key=f"procurement:ledger:{run_key}", session=session)  # fmt: skip
