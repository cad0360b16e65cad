"""Starting the market deployments (review runs) from the CLI, the web service, the demo or another flow."""

from __future__ import annotations

from typing import Any

from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from zhidu.settings import get_settings

REPORT_DEPLOYMENTS = {
    "weekly": "market-report/market-weekly-report",
    "monthly": "market-report/market-monthly-report",
    "quarterly": "market-report/market-quarterly-report",
}
IMMEDIATE_DEPLOYMENT = "market-immediate/market-immediate-report"
KIND_RUN_NAMES = {"weekly": "市场信息周报", "monthly": "市场信息月报", "quarterly": "市场信息季报"}


def _start(name: str, parameters: dict[str, Any], run_name: str, tags: list[str]) -> str:
    with temporary_settings({PREFECT_API_URL: get_settings().prefect_api_url}):
        run = run_deployment(name, parameters=parameters, timeout=0, flow_run_name=run_name, tags=tags)
    return str(run.id)  # type: ignore[union-attr]


def start_report_run(kind: str, period: str, *tags: str) -> str:
    """Start the periodic report for ``kind`` and the period label (without waiting); the run id."""
    return _start(REPORT_DEPLOYMENTS[kind], {"kind": kind, "period": period}, f"{KIND_RUN_NAMES[kind]}-{period}",
                  ["market", kind, *tags])


def start_immediate_run(report_id: str, title: str, *tags: str) -> str:
    """Start the review and distribution of an immediate report already filed; the run id."""
    return _start(IMMEDIATE_DEPLOYMENT, {"report_id": report_id, "title": title}, f"市场信息即时报告-{title}",
                  ["market", "immediate", *tags])
