"""``zhidu market``: operate the market process from the shell (市场信息与定期报告（篇四、篇七）).

    zhidu market import FILE                     # entries (CSV/xlsx); --form TYPE for filled-in forms
    zhidu market report weekly --period 2026-W48 # produce a report (a past period too), reviewed and distributed
    zhidu market file-immediate --title … --content … --by …
    zhidu market start-pending                   # start immediate reports whose run never started
    zhidu market reader-link mk-hz-head          # a person's signed link to the report archive
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from models.market import FormType, Importance, Secrecy

app = typer.Typer(no_args_is_help=True)
console = Console()


def _start_immediate(reports: list[tuple[str, str]]) -> None:
    from zhidu.market.runs import start_immediate_run

    for report_id, title in reports:
        console.print(f"  已启动即时报告审阅《{title}》：{start_immediate_run(report_id, title, 'cli')}")


@app.command("import")
def import_file(
    path: Path,
    form: FormType | None = typer.Option(None, help="导入表单：sales_feedback / customer_opinion / return_visit"),
    start: bool = typer.Option(True, help="价格异动形成的即时报告立即启动审阅（需要 Prefect 与 zhidu serve）"),
) -> None:
    """Import market entries (or forms) from CSV/xlsx: bad rows are listed by row and field, valid rows kept."""
    from models.market import MarketForm
    from zhidu.db import init_db, session_scope, utcnow
    from zhidu.market.forms import import_forms
    from zhidu.market.importing import ImportResult, import_entries
    from zhidu.market.intake import register_entries
    from zhidu.market.periods import local_date

    init_db()
    result: ImportResult = import_forms(path, form) if form else import_entries(path)  # type: ignore[type-arg]
    for error in result.errors:
        console.print(f"[red]✗[/red] {error}")
    started: list[tuple[str, str]] = []
    with session_scope() as session:
        if form:
            session.add_all([MarketForm.model_validate(f) for f in result.accepted])
        else:
            registered = register_entries(session=session, entries=result.accepted, today=local_date(utcnow()))
            started = [(r.id, r.title) for r in registered.new_reports]
    console.print(f"读取 {result.read} 行：导入 {len(result.accepted)} 行，拒收 {result.rejected} 行"
                  f"{'' if result.reconciles else '（[red]条数不符[/red]）'}。")
    for _, title in started:
        console.print(f"[yellow]![/yellow] 价格异动，已形成即时报告《{title}》")
    if start:
        _start_immediate(started)
    if result.rejected:  # the valid rows are stored; the exit code tells a script that some were not
        raise typer.Exit(1)


@app.command("report")
def report(
    kind: str = typer.Argument(..., help="weekly / monthly / quarterly"),
    period: str = typer.Option("", help="期间，如 2026-W48、2026-11、2026-Q4；默认上一期"),
) -> None:
    """Produce the report of a period (default: the previous one) through its deployment: review, then distribution."""
    from zhidu.db import utcnow
    from zhidu.market.periods import KIND_LABELS, PERIOD_KINDS, period_for, previous_period
    from zhidu.market.runs import start_report_run

    if kind not in PERIOD_KINDS:
        console.print(f"[red]类型应为 {' / '.join(PERIOD_KINDS)}，而不是 {kind!r}[/red]")
        raise typer.Exit(2)
    try:
        label = period_for(kind, period).label if period else previous_period(kind, utcnow()).label  # type: ignore[arg-type]
    except ValueError as exc:
        console.print(f"[red]期间无效：{exc}[/red]")
        raise typer.Exit(2) from exc
    run = start_report_run(kind, label, "cli")
    console.print(f"已启动{KIND_LABELS[kind]} {label}：{run}（已有同期报告时不会重复发送）")


@app.command("file-immediate")
def file_immediate(
    title: str = typer.Option(..., help="标题"),
    content: str = typer.Option(..., help="内容"),
    by: str = typer.Option(..., "--by", help="上报人"),
    importance: Importance = typer.Option(Importance.important, help="normal / important / critical"),
    secrecy: Secrecy = typer.Option(Secrecy.internal, help="public / internal / secret / confidential"),
    start: bool = typer.Option(True, help="立即启动审阅"),
) -> None:
    """File an immediate report (不定期即时上报) by hand and start its review."""
    from zhidu.db import init_db, session_scope
    from zhidu.market.records import file_immediate_report

    init_db()
    with session_scope() as session:
        record, _ = file_immediate_report(session=session, title=title, content=content, filed_by=by,
                                          importance=importance, secrecy=secrecy)
        report_id = record.id
    console.print(f"已登记即时报告《{title}》（{report_id}）")
    if start:
        _start_immediate([(report_id, title)])


@app.command("start-pending")
def start_pending() -> None:
    """Start the review of immediate reports still in draft (their run never started)."""
    from zhidu.db import session_scope
    from zhidu.market.records import pending_immediate

    with session_scope() as session:
        pending = [(r.id, r.title) for r in pending_immediate(session=session)]
    if not pending:
        console.print("没有待启动的即时报告。")
    _start_immediate(pending)


@app.command("reader-link")
def reader_link(person: str = typer.Argument(..., help="名录中的人员编号，如 mk-hz-head")) -> None:
    """Print a person's signed link to the report archive (and the entry page)."""
    from zhidu.market.access import reader_token, reader_url
    from zhidu.settings import get_settings

    console.print(reader_url(person), soft_wrap=True)
    base = get_settings().public_url.rstrip("/")
    console.print(f"{base}/market/entries/new?t={reader_token(person)}", soft_wrap=True)
