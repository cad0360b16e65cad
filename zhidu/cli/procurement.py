"""``zhidu procurement``: operate the procurement process from the shell (采购、验收、入库/固定资产、报销（篇二）).

Decisions (approvals, acceptance forms, sign-off, finance, payment) are made on the emailed links; the data
entry of the IT-centre clerks is here: a new request, an amended request, the contract, registration, the claim.
Each entry that completes what a waiting to-do asks for closes it, and the case flow continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True)
console = Console()


@contextmanager
def _refusals() -> Iterator[None]:
    """Print every reason of a refused operation and exit 1."""
    from zhidu.procurement.schemas import ProcurementError

    try:
        yield
    except ProcurementError as exc:
        for reason in exc.reasons:
            console.print(f"[red]✗[/red] {reason}")
        raise typer.Exit(1) from exc
    except KeyError as exc:
        console.print(f"[red]✗[/red] {exc.args[0]}")
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            console.print(f"[red]✗[/red] 字段「{where}」无效：{error['msg']}（输入：{error.get('input')!r}）")
        raise typer.Exit(1) from exc


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        console.print(f"[red]✗[/red] 无法读取 {path}：{exc}")
        raise typer.Exit(1) from exc
    except ValueError as exc:  # YAML reads 2026-13-45 as a date and fails building it
        console.print(f"[red]✗[/red] 无法读取 {path}：其中有不存在的日期或无效的值（{exc}）；"
                      "日期请写成真实的 YYYY-MM-DD")
        raise typer.Exit(1) from exc


def _run(action: Callable[[], Any]) -> Any:
    from zhidu.db import init_db

    init_db()
    with _refusals():
        return action()


@app.command("new")
def new(path: Path, requester: str = typer.Option(..., help="申请人编号（通讯录 id）"),
        department: str = typer.Option(..., help="申请部门代码"),
        start: bool = typer.Option(True, help="提交后启动采购流程（需 Prefect 与 zhidu serve）"),
        ) -> None:  # fmt: skip
    """Submit a purchase request from a YAML file (items, quotes, comparison) and start its case flow."""
    from zhidu.procurement import entry

    raw = _yaml(path)
    number = _run(lambda: entry.new_case(raw=raw if isinstance(raw, dict) else {}, requester=requester,
                                         department=department))  # fmt: skip
    console.print(f"[green]✓[/green] 已提交采购申请 {number}")
    if start:
        from flows.procurement_case import start_case_run

        console.print(f"  已启动采购流程：{start_case_run(number)}")


@app.command("amend")
def amend(number: str, path: Path, by: str = typer.Option(..., help="申请人编号"),
          note: str = typer.Option(..., help="修改说明（针对退回意见作了哪些修改）")) -> None:  # fmt: skip
    """Resubmit a returned request (a new version; earlier versions and decisions stay)."""
    from zhidu.procurement import entry

    raw = _yaml(path)
    version = _run(lambda: entry.amend(number=number, raw=raw if isinstance(raw, dict) else {}, by=by, note=note))
    console.print(f"[green]✓[/green] {number} 已重新提交第{version}版申请")


@app.command("order")
def order(number: str, path: Path, by: str = typer.Option(..., help="经办人编号（采购员）")) -> None:
    """Enter the signed contract (supplier, contract_no, signed_on; lines default to the approved request)."""
    from zhidu.procurement import entry

    raw = _yaml(path)
    contract = _run(lambda: entry.order(number=number, raw=raw, by=by))
    console.print(f"[green]✓[/green] {number} 已录入合同 {contract}，进入到货验收")


@app.command("register")
def register(number: str, line: int, custodian: str = typer.Option(..., help="保管人编号"),
             location: str = typer.Option(..., help="存放地点"), by: str = typer.Option(..., help="资产管理员编号"),
             quantity: int = typer.Option(1, help="件数"), seal: str | None = typer.Option(None, help="封记号"),
             ) -> None:  # fmt: skip
    """Register accepted units of contract line LINE as fixed assets (转固定资产), one tag each."""
    from zhidu.procurement import entry

    tags = _run(lambda: entry.register(number=number, line=line, custodian=custodian, location=location, by=by,
                                       quantity=quantity, seal_no=seal))  # fmt: skip
    console.print(f"[green]✓[/green] 已转固定资产：{'、'.join(tags)}")


@app.command("warehouse")
def warehouse(number: str, line: int, quantity: int = typer.Option(..., help="件数"),
              location: str = typer.Option(..., help="库位"), by: str = typer.Option(..., help="仓库保管员编号"),
              ) -> None:  # fmt: skip
    """Enter accepted consumables of contract line LINE into the warehouse (入库)."""
    from zhidu.procurement import entry

    receipt = _run(lambda: entry.warehouse(number=number, line=line, quantity=quantity, location=location, by=by))
    console.print(f"[green]✓[/green] 已入库：入库单 {receipt}")


@app.command("claim")
def claim(number: str, path: Path, by: str = typer.Option(..., help="报账人编号")) -> None:
    """Claim reimbursement with the invoices of a YAML file (invoices: kind, code, number, issued_on, amount, tax)."""
    from zhidu.procurement import entry

    raw = _yaml(path)
    outcome = _run(lambda: entry.claim(number=number, raw=raw, by=by))
    if not outcome.accepted:
        for reason in outcome.reasons:
            console.print(f"[red]✗[/red] {reason}")
        console.print("[red]报账未受理（已记入办理记录并邮件告知）。[/red]")
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] 已提交报账单 {outcome.claim.id if outcome.claim else ''}，等待财务部审核")


@app.command("status")
def status(number: str) -> None:
    """Where a purchase is, who it waits for, and its history."""
    from sqlmodel import Session

    from zhidu.db import get_engine, init_db
    from zhidu.masking import mask_text
    from zhidu.procurement.status import case_status
    from zhidu.procurement.steps import case_by_number
    from zhidu.templating import local_dt

    init_db()
    with _refusals(), Session(get_engine()) as session:
        st = case_status(session=session, case_id=case_by_number(session, number).id)
    console.print(f"[bold]{st.number} {st.title}[/bold]（{st.department}）：{st.stage_label}")
    console.print(f"等待：{'、'.join(st.waiting_for) or '—'}：{st.waiting_what}")
    if st.due_at:
        console.print(f"本环节期限：{local_dt(st.due_at)}{'（已超期）' if st.overdue else ''}")
    for p in st.problems:
        console.print(f"  • {p}")
    table = Table("时间", "办理人", "内容")
    for e in st.events:
        table.add_row(local_dt(e.at), st.names.get(e.actor, e.actor), mask_text(e.message))
    console.print(table)


@app.command("list")
def list_cases() -> None:
    """Every purchase with its stage."""
    from sqlmodel import Session, col, select

    from models.procurement import STAGE_LABELS, PurchaseCase
    from zhidu.db import get_engine, init_db

    init_db()
    table = Table("采购编号", "标题", "部门", "环节")
    with Session(get_engine()) as session:
        for c in session.exec(select(PurchaseCase).order_by(col(PurchaseCase.number))):
            table.add_row(c.number, c.title, c.department, STAGE_LABELS[c.stage])
    console.print(table)


@app.command("reconcile")
def reconcile() -> None:
    """Accounts and goods agree (账物一致): every mismatch now (the scheduled flow also mails the IT centre)."""
    from sqlmodel import Session

    from zhidu.db import get_engine, init_db
    from zhidu.procurement.reconcile import reconcile as find

    init_db()
    with Session(get_engine()) as session:
        found = find(session=session)
    for m in found:
        console.print(f"【{m.label}】{m.case_number or '（无采购记录）'} {m.subject}：{m.description}")
    console.print(f"差异 {len(found)} 项")


@app.command("reallocate")
def reallocate(tag: str, custodian: str = typer.Option(..., help="新保管人编号"),
               location: str = typer.Option(..., help="新存放地点"), by: str = typer.Option(..., help="经办人编号"),
               reason: str = typer.Option(..., help="调配原因")) -> None:  # fmt: skip
    """Reallocate (调配) an asset: opens an inventory (清查) task; the ledger moves when the task is done."""
    from zhidu.db import session_scope
    from zhidu.procurement.inventory import reallocate_asset

    def act() -> int:
        with session_scope() as session:
            task = reallocate_asset(session=session, tag=tag, custodian=custodian, location=location, by=by,
                                    reason=reason)  # fmt: skip
            return task.id or 0

    console.print(f"[green]✓[/green] 已生成清查任务 {_run(act)}")


@app.command("inventory-done")
def inventory_done(task_id: int, by: str = typer.Option(..., help="清查人编号"),
                   seal: str = typer.Option(..., help="封记号"),
                   missing: list[str] = typer.Option([], help="缺少的部件（可多次；不填为配置完整）"),
                   ) -> None:  # fmt: skip
    """Complete an inventory task: configuration complete or the missing parts, the seal; the ledger updates."""
    from zhidu.db import session_scope
    from zhidu.procurement.inventory import complete_inventory

    def act() -> str:
        with session_scope() as session:
            return complete_inventory(session=session, task_id=task_id, by=by, configuration_complete=not missing,
                                      seal_no=seal, missing=missing).tag  # fmt: skip

    console.print(f"[green]✓[/green] 资产 {_run(act)} 清查完成，台账已更新")
