"""``zhidu quality``: register items (one, or a CSV/xlsx file), override a class, list the register."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from models.quality import QClass, QualityItemCreate, Source

app = typer.Typer(no_args_is_help=True)
console = Console()


def _register(items: list[QualityItemCreate], start: bool) -> None:
    from zhidu.db import init_db, session_scope, utcnow
    from zhidu.quality.intake import IntakeError, store_items
    from zhidu.workdays import CalendarYearMissing

    init_db()
    try:
        with session_scope() as session:
            stored = store_items(session=session, items=items, now=utcnow())
    except CalendarYearMissing as exc:  # a deadline reaches a year the calendar has no data for
        console.print("[red]✗[/red] 无法计算办理期限：", end="")
        console.print(str(exc), markup=False)
        console.print("[red]未登记任何条目（整批拒收）。[/red]")
        raise typer.Exit(1) from exc
    except IntakeError as exc:
        for p in exc.problems:
            console.print(f"[red]✗[/red] {p}")
        console.print("[red]未登记任何条目（整批拒收）。[/red]")
        raise typer.Exit(1) from exc
    for s in stored:
        console.print(f"[green]✓[/green] 已登记 {s.number}（{s.qclass}类）")
    if start:
        from flows.quality_intake import start_routing_run

        for s in stored:
            console.print(f"  已启动流转 {s.number}：{start_routing_run(s.number)}")


@app.command("add")
def add(
    title: str = typer.Option(..., help="标题"),
    description: str = typer.Option(..., help="内容"),
    kind: str = typer.Option(..., help="类别，如 质量投诉、药品监督公告"),
    department: list[str] = typer.Option(..., "--department", "-d", help="涉及部门（代码或名称，可多次）"),
    reporter: str = typer.Option(..., help="报告人"),
    source: Source = typer.Option(Source.inside, help="inside 内部 / outside 外部"),
    abnormal: bool = typer.Option(False, help="异常"),
    sudden_major: bool = typer.Option(False, help="突发重大"),
    start: bool = typer.Option(True, help="登记后启动流转（需要 Prefect 与 zhidu serve）"),
) -> None:
    """Register one quality item."""
    item = QualityItemCreate(source=source, kind=kind, title=title, description=description, departments=department,
                             reporter=reporter, abnormal=abnormal, sudden_major=sudden_major)
    _register([item], start)


@app.command("import")
def import_file(path: Path, start: bool = typer.Option(True, help="登记后启动流转")) -> None:
    """Register every item of a CSV/xlsx file (all or nothing; every bad row and field is listed)."""
    from zhidu.quality.intake import IntakeError, read_file

    try:
        parsed = read_file(path)
    except IntakeError as exc:
        for p in exc.problems:
            console.print(f"[red]✗[/red] {p}")
        if exc.counts:
            console.print(exc.counts)
        console.print("[red]未登记任何条目（整批拒收）。[/red]")
        raise typer.Exit(1) from exc
    console.print(parsed.counts)
    _register(parsed.items, start)


@app.command("override")
def override(number: str, qclass: QClass, by: str = typer.Option(...), reason: str = typer.Option(...)) -> None:
    """Change an item's class by hand, recording who and why."""
    from zhidu.db import session_scope
    from zhidu.quality.routing import override_class

    with session_scope() as session:
        item = override_class(session=session, number=number, qclass=qclass, by=by, reason=reason)
    console.print(f"{item.number} 分级改为 {item.qclass.value}（{by}：{reason}）")


@app.command("list")
def list_items() -> None:
    """The register: class, owner, deadlines, decision, status."""
    from sqlmodel import select

    from models.quality import QualityItem
    from zhidu.db import init_db, session_scope
    from zhidu.templating import local_dt

    init_db()
    table = Table("登记号", "分级", "标题", "负责部门", "决策期限", "决策", "状态")
    with session_scope() as session:
        for i in session.exec(select(QualityItem).order_by(QualityItem.number)).all():
            table.add_row(i.number, i.qclass.value, i.title, i.owner, local_dt(i.decision_due), i.decision or "",
                          i.status.value)
    console.print(table)
