"""Exports from the core system dropped in ``var/customers/incoming/``, imported by the daily detection run.

A file whose name starts with ``agents``/``业务员`` is an agent list, ``complaints``/``投诉`` a complaint list,
anything else a policy export. Each file is moved to ``var/customers/imported/`` (prefixed with the import time)
whatever its outcome, so it is never imported twice; the counts go to the log (problems name rows and columns).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from zhidu.customers.importing import ImportSummary, import_agents, import_complaints, import_policies
from zhidu.db import session_scope, utcnow
from zhidu.settings import get_settings

SUFFIXES = (".csv", ".xlsx")


def incoming_dir() -> Path:
    return get_settings().var_dir / "customers" / "incoming"


def summary_line(s: ImportSummary) -> str:
    """One reconciling line: read = stored + updated + duplicates + rejected + skipped (masked by construction)."""
    return (f"{s.file_name}：读取{s.read}，入库{s.stored}，更新{s.updated}，重复{s.duplicates}，拒收{s.rejected}，"
            f"不适用{s.skipped}；入库行中带警告{s.warned}" + ("" if s.reconciles else "（计数不平！）"))


def import_file(path: Path, *, today: date, progress: bool = False) -> ImportSummary:
    """Import one export by its name (agents / complaints / policies)."""
    name = path.name.lower()
    with session_scope() as session:
        if name.startswith(("agents", "业务员")):
            return import_agents(path, session=session, progress=progress)
        if name.startswith(("complaints", "投诉")):
            return import_complaints(path, session=session, progress=progress)
        return import_policies(path, session=session, today=today, progress=progress)


def import_incoming_files(*, today: date) -> list[str]:
    """Import every waiting file (agents first, so §11 sees their contact data), move it away; a line each."""
    folder = incoming_dir()
    if not folder.is_dir():
        return []
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES),
                   key=lambda p: (not p.name.lower().startswith(("agents", "业务员")), p.name))
    done = folder.parent / "imported"
    done.mkdir(parents=True, exist_ok=True)
    lines = []
    for path in files:
        try:
            lines.append(summary_line(import_file(path, today=today)))
        except ValueError as exc:  # wrong type or missing columns: nothing of the file stored
            lines.append(f"{path.name}：未导入（{exc}）")
        path.rename(done / f"{utcnow():%Y%m%dT%H%M%S}_{path.name}")
    return lines
