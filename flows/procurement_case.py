"""One purchase as one case (篇二 第二章 §7, §8, §23, §24): request → approval → order → acceptance →
warehouse or fixed asset → reimbursement → paid.

- 申请审批 (§7, §23): the IT centre approves; above ``leader_threshold`` the factory leader too (会签, mode all).
  A returned request waits for the requester's amendment (a to-do closed by ``zhidu procurement amend``); every
  version and decision stays in the history.
- 下单 (§7): the buyer enters the signed contract (to-do closed by ``zhidu procurement order``).
- 验收 (§23): one emailed form per contracted line — conforming, or nonconforming with the reason; a
  nonconforming line opens a return/exchange and waits for the replacement's re-check (退换复验).
- 验收签认: the IT centre signs the acceptance record.
- 入库/固定资产登记 (§24): every accepted unit into the warehouse or the asset ledger (to-do closed by the CLI).
- 报账 / 报销审批 (§24): the claim with a VAT invoice, amounts equal to the contract (refusals recorded with
  their reasons by ``zhidu procurement claim``); finance approves.
- 付款: finance records the payment; the case closes.

Each step is one approval (mail, link, suspend, 催办 reminders and 升级 escalation at the working-day SLA of
``data/procurement.yaml``). After every resume Prefect runs this function again from the top: every task
result is persisted and every write is idempotent by the approval request id, so the replay is exact. The
case's stage is read afresh at every start, so a resume replays only the stage it is in, not the finished ones
(each stage reads what it needs from the database, nothing is carried from one stage to the next).
"""

from __future__ import annotations

from prefect import flow

from models.procurement import Stage
from tasks.approvals import await_approval
from tasks.procurement import (
    apply_check,
    apply_finance,
    apply_payment,
    apply_request,
    apply_signoff,
    close_case,
    contract_lines,
    entry_done,
    line_status,
    load_stage,
    note_todo,
    plan_check,
    plan_finance,
    plan_payment,
    plan_request,
    plan_signoff,
    plan_todo,
)
from zhidu.procurement.steps import TODO_LABELS

ORDER = list(Stage)
CASE_DEPLOYMENT = "procurement-case/procurement-case"


def wait_for_entry(number: str, kind: str, key: int) -> None:
    """Until the clerk has entered the data: a to-do (mail, reminders, escalation), closed by the entry."""
    label = TODO_LABELS[kind]
    if entry_done(number, kind, label, key, 0):
        return
    attempt = 1
    while True:
        decision = await_approval(plan_todo(number, kind, label, key, attempt))
        if entry_done(number, kind, label, key, attempt):
            return
        note_todo(number, kind, label, key, attempt, decision)
        attempt += 1


def request_approval(number: str) -> None:
    """申请审批, and amendment after every return, until a version is approved."""
    version = 1
    while True:
        if apply_request(number, version, await_approval(plan_request(number, version))):
            return
        wait_for_entry(number, "amend", version)
        version += 1


def acceptance(number: str) -> None:
    """验收 per contracted line (with 退换复验 until the replacement conforms), then 验收签认."""
    for line in contract_lines(number):
        round_ = 1
        while line_status(number, line, round_) != "done":
            apply_check(number, line, round_, await_approval(plan_check(number, line, round_)))
            round_ += 1
    round_ = 1
    while not apply_signoff(number, round_, await_approval(plan_signoff(number, round_))):
        round_ += 1


def reimbursement(number: str) -> None:
    """报账 (the claim, entered with its invoices) and 报销审批; a returned claim waits for a new one."""
    round_ = 0
    while True:
        wait_for_entry(number, "claim", round_)
        if apply_finance(number, round_, await_approval(plan_finance(number, round_))):
            return
        round_ += 1


@flow(name="procurement-case", flow_run_name="采购-{number}", log_prints=True)
def procurement_case(number: str) -> str:
    """Carry one purchase from its request to payment; each stage a visible step in the Prefect UI."""
    start = ORDER.index(load_stage(number))
    if start <= ORDER.index(Stage.approval):
        request_approval(number)
    if start <= ORDER.index(Stage.order):
        wait_for_entry(number, "order", 1)
    if start <= ORDER.index(Stage.acceptance):
        acceptance(number)
    if start <= ORDER.index(Stage.registration):
        wait_for_entry(number, "register", 1)
    if start <= ORDER.index(Stage.reimbursement):
        reimbursement(number)
        round_ = 1
        while not apply_payment(number, round_, await_approval(plan_payment(number, round_))):
            round_ += 1
    return close_case(number)


def start_case_run(number: str, *tags: str) -> str:
    """Start the case flow of a submitted purchase without waiting for it; the run id."""
    from prefect.deployments import run_deployment

    run = run_deployment(CASE_DEPLOYMENT, parameters={"number": number}, timeout=0, flow_run_name=f"采购-{number}",
                         tags=["procurement", number, *tags])  # fmt: skip
    return str(run.id)  # type: ignore[union-attr]
