"""Immediate market reports (不定期即时上报, 篇四 §15): filed by hand or by the price rule on new entries, then the
same review by the deputy general manager and distribution with his instruction as the periodic reports."""

from __future__ import annotations

from prefect import flow

from models.approval import Outcome
from tasks.approvals import await_approval
from tasks.market import build_review, distribute, publish_immediate, send_back, submit


@flow(name="market-immediate", flow_run_name="市场信息即时报告-{title}", log_prints=True)
def market_immediate(report_id: str, title: str = "") -> str:
    """Review and distribute the immediate report ``report_id`` (filed before the run starts)."""
    name = publish_immediate(report_id)
    if not submit(report_id):
        return f"{name}：已由其他运行报送，不重复发送"
    decision = await_approval(build_review(report_id, None))
    if decision.outcome == Outcome.reject:
        send_back(report_id, decision)
        return f"{name}：已退回市场部"
    count = distribute(report_id, decision)
    return f"{name}：已按批示下发 {count} 人"
