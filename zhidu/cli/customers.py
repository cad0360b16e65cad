"""``zhidu customers``: import core-system exports, run the detection, list the cases (可疑客户信息核查（篇九）).

Everything printed is masked; problems name the row, the column and the reason.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True)
console = Console()
MAX_PROBLEMS_SHOWN = 200


def _today(day: str) -> date:
    from zhidu.db import utcnow
    from zhidu.workdays import get_calendar

    return date.fromisoformat(day) if day else get_calendar().local_date(utcnow())


def _import(path: Path, kind: str, day: str = "") -> None:
    from zhidu.customers.importing import ImportFormatError, import_agents, import_complaints, import_policies
    from zhidu.customers.inbox import summary_line
    from zhidu.db import init_db, session_scope
    from zhidu.masking import mask_text

    init_db()
    if not path.is_file():
        console.print(f"[red]✗ 文件不存在：{path}[/red]")
        raise typer.Exit(2)
    try:
        with session_scope() as session:
            if kind == "policies":
                summary = import_policies(path, session=session, today=_today(day), progress=True)
            elif kind == "agents":
                summary = import_agents(path, session=session, progress=True)
            else:
                summary = import_complaints(path, session=session, progress=True)
    except ImportFormatError as exc:
        console.print(f"[red]✗ {exc}（未导入任何行）[/red]")
        raise typer.Exit(2) from exc
    for p in summary.problems[:MAX_PROBLEMS_SHOWN]:
        mark = {"error": "[red]✗ 拒收[/red]", "warning": "[yellow]! 警告[/yellow]"}.get(p.severity, "- 不适用")
        console.print(f"{mark} 第{p.row}行 「{p.field}」：{mask_text(p.reason)}")
    if len(summary.problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"……另有 {len(summary.problems) - MAX_PROBLEMS_SHOWN} 条问题未显示")
    console.print(summary_line(summary))
    console.print(f"批次号：{summary.batch_id}")
    if summary.rejected:  # the valid rows are stored; the exit code tells a script that some were not
        console.print(f"[red]有 {summary.rejected} 行被拒收，请更正后重新导入"
                      "（有效行已入库，重复导入不会重复入库）。[/red]")
        raise typer.Exit(1)


@app.command("import-policies")
def import_policies_cmd(
    path: Path, day: str = typer.Option("", help="录入日（默认今天，用于校验日期不在未来）"),
) -> None:
    """Import a policy export (CSV/.xlsx): valid rows stored, every problem listed; counts reconcile."""
    _import(path, "policies", day)


@app.command("import-agents")
def import_agents_cmd(path: Path) -> None:
    """Import the agent list (code, name, phone, address, team, channel, agency)."""
    _import(path, "agents")


@app.command("import-complaints")
def import_complaints_cmd(
    path: Path, recheck: bool = typer.Option(True, help="导入后启动业务员客户资料复查（需要 Prefect 与 zhidu serve）"),
) -> None:
    """Import mis-selling complaints (§14); then start the recheck of agents with ≥ 2 verified ones."""
    _import(path, "complaints")
    if recheck:
        from prefect.deployments import run_deployment

        run = run_deployment("customers-agent-recheck/customers-agent-recheck", timeout=0, tags=["customers"])
        console.print(f"已启动业务员客户资料复查：{run.id}")  # type: ignore[union-attr]


@app.command("detect")
def detect_cmd(
    full: bool = typer.Option(False, "--full", help="全量重新筛查（默认：T+1，只查上次筛查后的新保单）"),
    start: bool = typer.Option(True, help="为新增/增员的案件启动排查流程（需要 Prefect 与 zhidu serve）"),
    day: str = typer.Option("", help="清单日期（默认今天）"),
) -> None:
    """Run the detection now and start one investigation per new or grown case."""
    from zhidu.customers.daily import open_cases, run_daily_detection, run_full_detection
    from zhidu.db import init_db, session_scope

    init_db()
    with session_scope() as session:
        run, result = (run_full_detection if full else run_daily_detection)(session=session, today=_today(day))
        changed = open_cases(session=session, case_ids=result.changed)
    console.print(f"检查客户记录 {run.checked_parties} 条（保单 {run.from_policy_id + 1}–{run.up_to_policy_id}），"
                  f"新增案件 {run.new_cases} 件，已有案件新增成员 {run.grown_cases} 件")
    if start:
        from flows.customers_detection import start_investigation_run

        for case_id, number in changed:
            console.print(f"  已启动排查 {number}：{start_investigation_run(case_id, number)}")


@app.command("list")
def list_cases(status: str = typer.Option("", help="open / cleared / corrected / confirmed_false")) -> None:
    """The cases: kind, masked value, members, deadline (local time), status."""
    from sqlmodel import col, select

    from models.customers import SuspiciousCase
    from zhidu.customers.display import STATUS_LABEL
    from zhidu.customers.review import case_view
    from zhidu.db import init_db, session_scope
    from zhidu.templating import local_dt

    init_db()
    table = Table("案件编号", "可疑类型", "可疑信息", "渠道", "涉及保单", "排查期限", "状态", "合规复核")
    with session_scope() as session:
        query = select(SuspiciousCase).order_by(col(SuspiciousCase.id))
        if status:
            query = query.where(SuspiciousCase.status == status)
        for case in session.exec(query).all():
            view = case_view(session=session, case_id=case.id or 0)
            table.add_row(view.number, view.kind_label, view.value_masked, view.channel, "、".join(view.policy_nos),
                          local_dt(case.deadline), STATUS_LABEL[case.status.value], case.checked_by or "")
    console.print(table)
