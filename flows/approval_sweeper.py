"""The approval sweeper (审批巡检): delivers pending decisions, sends reminders, escalates at deadlines."""

from __future__ import annotations

from prefect import flow, get_run_logger

from zhidu.approvals.delivery import PrefectResumer
from zhidu.approvals.sweeper import sweep
from zhidu.db import utcnow


@flow(name="approval-sweeper", flow_run_name="审批巡检")
def approval_sweeper() -> dict[str, int]:
    """One pass; scheduled every minute in prefect.yaml."""
    report = sweep(now=utcnow(), resumer=PrefectResumer())
    counts = {"reminded": len(report.reminded), "escalated": len(report.escalated), "expired": len(report.expired),
              "delivered": report.delivered, "retrying": report.retrying, "dead": report.dead}
    get_run_logger().info("sweep: %s", counts)
    return counts
