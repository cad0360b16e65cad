"""The T+1 suspicious-customer list (可疑客户清单, 篇九 §7, §11) and the start of one investigation per case.

``customers-daily-detection`` (weekday mornings; skips non-working days): imports the core system's exports
dropped in ``var/customers/incoming/``, checks every policy stored since the last daily run against the whole
book through the indexes, and starts one ``customers-investigation`` run per new or grown open case.
``customers-full-detection``: the full re-scan (on demand).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.deployments import run_deployment

from zhidu.customers.daily import open_cases, run_daily_detection, run_full_detection
from zhidu.db import session_scope, utcnow
from zhidu.workdays import get_calendar

INVESTIGATION_DEPLOYMENT = "customers-investigation/customers-investigation"


def start_investigation_run(case_id: int, number: str, *tags: str) -> str:
    """Start the investigation of one case (round) without waiting; Prefect's idempotency key (the case number,
    which carries the round) makes a second start return the first run."""
    run = run_deployment(INVESTIGATION_DEPLOYMENT, parameters={"case_id": case_id, "number": number}, timeout=0,
                         flow_run_name=f"可疑客户排查-{number}", idempotency_key=f"customers-investigation-{number}",
                         as_subflow=False,  # a subflow cannot suspend; the case run stands on its own
                         tags=["customers", number, *tags])
    return str(run.id)  # type: ignore[union-attr]


@task(task_run_name="启动排查-{number}", retries=3, retry_delay_seconds=[2, 10, 30], persist_result=True)
def start_investigation(case_id: int, number: str) -> str:
    """Start the investigation run of one case (does not wait for it)."""
    return start_investigation_run(case_id, number)


@task(task_run_name="导入待处理文件", persist_result=True)
def import_incoming(day: str) -> list[str]:
    """Import the policy exports waiting in var/customers/incoming (moved to imported/ after); one line each."""
    from zhidu.customers.inbox import import_incoming_files

    lines = import_incoming_files(today=date.fromisoformat(day))
    for line in lines:
        get_run_logger().info(line)
    return lines


@task(task_run_name="筛查-{kind}-{day}", persist_result=True)
def detect(kind: str, day: str) -> list[tuple[int, str]]:
    """Run the daily (T+1) or full detection; the open cases that changed, with an artifact of the counts."""
    today = date.fromisoformat(day)
    with session_scope() as session:
        run, result = (run_daily_detection if kind == "daily" else run_full_detection)(session=session, today=today)
        changed = open_cases(session=session, case_ids=result.changed)
    md = (f"# 可疑客户{'T+1' if kind == 'daily' else '全量'}筛查 {day}\n\n"
          f"- 检查的客户记录：{run.checked_parties}\n- 保单范围：{run.from_policy_id + 1}–{run.up_to_policy_id}\n"
          f"- 新增案件：{run.new_cases}\n- 新增成员的已有案件：{run.grown_cases}\n"
          f"- 启动排查：{'、'.join(n for _, n in changed) or '无'}")
    create_markdown_artifact(markdown=md, key=f"customers-detection-{kind}-{day}", description="可疑客户筛查")
    return changed


def _local_day(day: str) -> str:
    return day or get_calendar().local_date(utcnow()).isoformat()


@flow(name="customers-daily-detection", flow_run_name="可疑客户T+1筛查-{day}")
def customers_daily_detection(day: str = "", force: bool = False) -> list[str]:
    """Import waiting exports, detect over everything stored since the last run, start the investigations."""
    day = _local_day(day)
    if not force and not get_calendar().is_workday(date.fromisoformat(day)):
        get_run_logger().info("%s 不是工作日，不筛查（下一个工作日一并筛查）", day)
        return []
    import_incoming(day)
    changed = detect("daily", day)
    return [start_investigation(case_id, number) for case_id, number in changed]


@flow(name="customers-full-detection", flow_run_name="可疑客户全量筛查-{day}")
def customers_full_detection(day: str = "") -> list[str]:
    """Re-scan the whole book and start the investigation of every new or grown case."""
    day = _local_day(day)
    changed = detect("full", day)
    return [start_investigation(case_id, number) for case_id, number in changed]
