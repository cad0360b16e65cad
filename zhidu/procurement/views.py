"""What people read: the case page and the procurement mails (``zhidu.mail.send_email`` arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.procurement import STAGE_LABELS, AssetRecord, InventoryTask
from zhidu.directory import Directory
from zhidu.procurement.case import directory_or_default, get_case
from zhidu.procurement.schemas import ProcurementError
from zhidu.procurement.status import CaseStatus
from zhidu.templating import render


@dataclass(frozen=True)
class MailSpec:
    """Arguments for ``send_email(to=, subject=, template=, context=)``."""

    to: list[str]
    subject: str
    template: str
    context: dict[str, Any]


REFUSAL_ACTIONS = ("rejected", "expired", "claim_refused", "claim_reject", "claim_expired", "acceptance_reject",
                   "acceptance_expired", "todo_reject", "payment_deferred")


@dataclass(frozen=True)
class PendingStep:
    """An open approval step or to-do of the case: what, who, by when."""

    title: str
    step: str
    names: list[str]
    deadline: datetime
    level: int


def render_case_page(status: CaseStatus, pending: list[PendingStep] | None = None) -> str:
    """The Chinese case page for ``status`` (``case_status(...)``) and its open steps."""
    refusals = [e for e in status.events if e.action in REFUSAL_ACTIONS
                or (e.action == "checked" and e.data.get("conforming") is False)]  # fmt: skip
    return render("pages/procurement_case.html", status=status, stage_labels=STAGE_LABELS, pending=pending or [],
                  refusals=refusals)


def _name(directory: Directory, person_id: str) -> str:
    try:
        return directory.person(person_id).name
    except KeyError:
        return person_id


def claim_refused_mail(
    *, session: Session, case_id: str, claimant: str, reasons: list[str], url: str,
    directory: Directory | None = None,
) -> MailSpec:  # fmt: skip
    """Tell the claimant why the claim was refused (every reason)."""
    dir_ = directory_or_default(directory)
    case = get_case(session, case_id)
    person = dir_.person(claimant)
    context = {"name": person.name, "number": case.number, "title": case.title, "reasons": reasons, "url": url}
    return MailSpec([str(person.email)], f"报账未受理：采购 {case.number}", "procurement_claim_refused", context)


def inventory_task_mail(*, session: Session, task_id: int, url: str, directory: Directory | None = None) -> MailSpec:
    """Ask the asset administrators to do an inventory task (清查)."""
    dir_ = directory_or_default(directory)
    task = session.get(InventoryTask, task_id)
    if task is None:
        raise ProcurementError([f"没有清查任务 {task_id}"])
    asset = session.get(AssetRecord, task.asset_id)
    assert asset is not None
    admins = dir_.by_role("asset_admin")
    context = {
        "name": "、".join(p.name for p in admins), "task": task, "asset": asset, "url": url,
        "from_name": _name(dir_, task.from_custodian), "to_name": _name(dir_, task.to_custodian),
    }  # fmt: skip
    return MailSpec([str(p.email) for p in admins], f"资产清查：{asset.tag}", "procurement_inventory_task", context)
