"""Accounts and goods agree (账物一致, 篇二 §8, §22): a scheduled check of purchases, acceptances, the asset
ledger, the warehouse and reimbursements. Every mismatch is reported (mail to the IT centre + a table artifact);
the open inventory (清查) tasks — opened by reallocations (调配) — are issued to the asset administrators."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run

from tasks.procurement import find_mismatches, inventory_list, mail_inventory_task, report_ledger


@flow(name="procurement-ledger-check", flow_run_name="采购账物核对", log_prints=True)
def procurement_ledger_check() -> int:
    """Report every mismatch and issue the inventory task list; the number of mismatches."""
    mismatches = find_mismatches()
    tasks = inventory_list()
    for row in tasks:
        mail_inventory_task(int(row["任务"]))
    report_ledger(mismatches, tasks, str(flow_run.get_id() or "manual"))
    print(f"账物核对：差异 {len(mismatches)} 项，待清查任务 {len(tasks)} 项")
    return len(mismatches)
