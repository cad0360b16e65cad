"""Monthly statistics of quality information (质量信息月度统计, 篇五 §6), as Prefect artifacts."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from zhidu.db import session_scope, utcnow
from zhidu.quality.stats import month_stats, to_markdown
from zhidu.settings import get_settings


@task(task_run_name="统计-{month}")
def compute(month: str) -> str:
    """Compute the month's statistics and publish them as artifacts."""
    year, mon = (int(x) for x in month.split("-"))
    with session_scope() as session:
        stats = month_stats(session=session, month=date(year, mon, 1), now=utcnow())
    key = f"quality-stats-{month}"
    create_markdown_artifact(markdown=to_markdown(stats), key=key, description=f"质量信息月度统计 {month}")
    rows = [{"分级": k, "条数": stats.by_class.get(k, 0)} for k in ("A", "B", "C")]
    create_table_artifact(table=rows, key=f"{key}-table", description="按分级")
    return to_markdown(stats)


def previous_month_label() -> str:
    local = utcnow().astimezone(get_settings().tz).date().replace(day=1)
    prev = date(local.year - 1, 12, 1) if local.month == 1 else date(local.year, local.month - 1, 1)
    return f"{prev.year}-{prev.month:02d}"


@flow(name="quality-monthly-stats", flow_run_name="质量信息月度统计-{month}")
def quality_monthly_stats(month: str = "") -> str:
    """The statistics of ``month`` (YYYY-MM; default: the previous local month)."""
    return compute(month or previous_month_label())
