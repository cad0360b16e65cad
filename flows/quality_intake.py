"""Quality-information intake (质量信息登记, 篇五 §7, §10): register items, then start one routing run each."""

from __future__ import annotations

from prefect import flow, task
from prefect.deployments import run_deployment

from models.quality import QualityItemCreate
from zhidu.db import session_scope, utcnow
from zhidu.quality.intake import store_items

ROUTING_DEPLOYMENT = "quality-routing/quality-routing"


@task(task_run_name="登记-{count}条", persist_result=True)
def register(items: list[QualityItemCreate], count: int) -> list[str]:
    """Validate, classify and register the items (all or nothing)."""
    with session_scope() as session:
        return [s.number for s in store_items(session=session, items=items, now=utcnow())]


def start_routing_run(number: str, *tags: str) -> str:
    """Start the routing deployment for one registered item without waiting for it; the run id."""
    run = run_deployment(ROUTING_DEPLOYMENT, parameters={"number": number}, timeout=0, as_subflow=False,
                         flow_run_name=f"质量信息-{number}", tags=["quality", number, *tags])
    return str(run.id)  # type: ignore[union-attr]


@task(task_run_name="启动流转-{number}", retries=3, retry_delay_seconds=[2, 10, 30], persist_result=True)
def start_routing(number: str) -> str:
    """Start the routing deployment for one item (does not wait for it)."""
    return start_routing_run(number)


@flow(name="quality-intake", flow_run_name="质量信息登记")
def quality_intake(items: list[QualityItemCreate]) -> list[str]:
    """Register items given as deployment parameters and start their routing."""
    numbers = register(items, len(items))
    for number in numbers:
        start_routing(number)
    return numbers
