"""Follow-ups of the suspicious-customer review (篇九 §14, §22, §23).

``customers-agent-recheck``: agents with two or more verified mis-selling complaints (销售误导) in the last 12
months get all customer data of their policies checked again — entry checks and detection — and every new or
grown case is investigated like the daily list's (weekly, and after ``zhidu customers import-complaints``).
``customers-quarterly-summary``: on the first day of each quarter, the agents and agencies with confirmed false
customer data in the previous quarter, as an .xlsx mailed to the general office and as Prefect artifacts.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.customers_detection import start_investigation
from zhidu.customers.daily import open_cases
from zhidu.customers.followups import agents_needing_recheck, quarterly_false_data_summary, recheck_agent
from zhidu.db import session_scope, utcnow
from zhidu.directory import load_directory
from zhidu.mail import send_email
from zhidu.masking import mask_text
from zhidu.settings import get_settings
from zhidu.workdays import get_calendar


@task(task_run_name="复查业务员-{day}", persist_result=True)
def recheck_agents(day: str) -> list[tuple[int, str]]:
    """§14: re-check every policy of each agent with ≥ 2 verified complaints; the open cases that changed."""
    today = date.fromisoformat(day)
    rows: list[dict[str, object]] = []
    changed: list[int] = []
    with session_scope() as session:
        for agent in agents_needing_recheck(session=session, today=today):
            result = recheck_agent(session=session, agent_code=agent.agent_code, today=today)
            changed += result.detection.changed
            rows += [{"业务员": agent.agent_code, "保单号": p.policy_no, "字段": p.field, "问题": mask_text(p.reason),
                      "级别": "错误" if p.severity == "error" else "警告"} for p in result.problems]
            get_run_logger().info("agent %s: %d policies, %d problems, %d cases", agent.agent_code, result.policies,
                                  len(result.problems), len(result.detection.changed))
        cases = open_cases(session=session, case_ids=sorted(set(changed)))
    if rows:
        create_table_artifact(table=rows, key=f"customers-recheck-{day}", description="业务员客户资料复查问题")
    return cases


@flow(name="customers-agent-recheck", flow_run_name="业务员客户资料复查-{day}")
def customers_agent_recheck(day: str = "") -> list[str]:
    """Re-check the agents with repeated mis-selling complaints and investigate what is found."""
    day = day or get_calendar().local_date(utcnow()).isoformat()
    return [start_investigation(case_id, number) for case_id, number in recheck_agents(day)]


def previous_quarter(today: date) -> str:
    q = (today.month - 1) // 3
    return f"{today.year - 1}Q4" if q == 0 else f"{today.year}Q{q}"


@task(task_run_name="季度汇总-{quarter}", persist_result=True)
def build_summary(quarter: str) -> tuple[str, list[dict[str, object]]]:
    """The masked summary rows and the .xlsx (虚假客户资料季度汇总_<quarter>.xlsx) under var/customers/reports."""
    out_dir = get_settings().var_dir / "customers" / "reports"
    with session_scope() as session:
        summary = quarterly_false_data_summary(session=session, quarter=quarter, out_dir=out_dir)
    assert summary.path is not None
    md = [f"# 虚假客户资料季度汇总 {quarter}", "", f"查实案件涉及的业务员/代理机构：{len(summary.rows)} 个", ""]
    md += [f"- {r['类别']} {r['业务员/机构代码']} {r['姓名/机构名称']}：案件 {r['查实案件数']}，"
           f"保单 {r['涉及保单数']}，{r['可疑信息(已脱敏)']}" for r in summary.rows]
    create_markdown_artifact(markdown="\n".join(md), key=f"customers-summary-{quarter.lower()}",
                             description=f"虚假客户资料季度汇总 {quarter}")
    if summary.rows:
        create_table_artifact(table=summary.rows, key=f"customers-summary-{quarter.lower()}-table",
                              description="查实虚假资料的业务员/代理机构")
    return str(summary.path), summary.rows


@task(task_run_name="季度汇总发送-{quarter}", retries=3, retry_delay_seconds=[5, 30, 120], persist_result=True)
def mail_summary(quarter: str, path: str, rows: list[dict[str, object]]) -> int:
    """Mail the summary with its .xlsx to the general office (综合办公室), once per person and quarter."""
    from pathlib import Path

    people = load_directory("insurance").by_role("general_office")
    for person in people:
        send_email(to=[person.email], subject=f"【季度汇总】{quarter} 虚假客户资料业务员及代理机构",
                   template="customers_quarterly_summary", attachments=[Path(path)],
                   context={"recipient": person.name, "quarter": quarter, "rows": rows,
                            "file_name": Path(path).name, "generated_at": utcnow()},
                   idempotency_key=f"customers:summary:{quarter}:{person.email}")
    return len(people)


@flow(name="customers-quarterly-summary", flow_run_name="虚假客户资料季度汇总-{quarter}")
def customers_quarterly_summary(quarter: str = "") -> str:
    """The summary of ``quarter`` (e.g. 2026Q3; default: the previous quarter in local time)."""
    quarter = quarter or previous_quarter(get_calendar().local_date(utcnow()))
    path, rows = build_summary(quarter)
    mail_summary(quarter, path, rows)
    return path
