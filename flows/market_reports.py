"""Weekly, monthly and quarterly market information reports (市场信息周报/月报/季报, 篇四 §14–§16, 篇七 §二.1).

At the end of each week, month and quarter the market department's report (totals, averages, 环比/同比 by region,
product and company, favourable and unfavourable effects) goes to the deputy general manager in charge; his
instruction (批示) comes back as the approval comment and the report is distributed to the departments with the
instruction on top. Exactly once per type and period: the run that moves the report from draft to review owns
it; any other run for the same period (a duplicate schedule, a redeploy, a manual re-run) stops without mail.
"""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run

from models.approval import Outcome
from models.market import ReportStatus
from tasks.approvals import await_approval
from tasks.market import (
    build_review,
    claim,
    distribute,
    prepare_report,
    resolve_period,
    scheduled_time,
    send_back,
    submit,
)
from zhidu.market.periods import period_for, previous_period
from zhidu.market.runs import KIND_RUN_NAMES


def run_name() -> str:
    params = flow_run.parameters
    kind, period = str(params.get("kind", "weekly")), str(params.get("period") or "")
    try:
        label = period_for(kind, period).label if period else previous_period(kind, scheduled_time()).label  # type: ignore[arg-type]
    except ValueError:
        label = period or "?"
    return f"{KIND_RUN_NAMES.get(kind, kind)}-{label}"


@flow(name="market-report", flow_run_name=run_name, log_prints=True)
def market_report(kind: str = "weekly", period: str = "") -> str:
    """The report of ``kind`` (weekly/monthly/quarterly) for ``period`` (2026-W48, 2026-11, 2026-Q4; default: the
    previous local period at the scheduled time), reviewed and distributed once."""
    label = resolve_period(kind, period)
    claimed = claim(kind, label)
    if claimed.status != ReportStatus.draft:
        return f"{label}：报告已由其他运行处理（{claimed.status.value}），不重复发送"
    summary = prepare_report(claimed.report_id, label)
    if not submit(claimed.report_id):
        return f"{label}：报告已由其他运行报送，不重复发送"
    decision = await_approval(build_review(claimed.report_id, summary))
    if decision.outcome == Outcome.reject:
        send_back(claimed.report_id, decision)
        return f"{label}：已退回市场部"
    count = distribute(claimed.report_id, decision)
    return f"{label}：已按批示下发 {count} 人"
