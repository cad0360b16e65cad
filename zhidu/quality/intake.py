"""Intake of quality items (CLI, CSV/xlsx, deployment parameters): validate everything, write all or nothing."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from models.quality import QualityItem, QualityItemCreate, Source
from zhidu.directory import load_directory
from zhidu.quality.classify import decision_table

# Columns of the import file (Chinese headers as staff fill them in).
COLUMNS = {
    "来源": "source", "类别": "kind", "标题": "title", "内容": "description",
    "涉及部门": "departments", "报告人": "reporter", "异常": "abnormal", "突发重大": "sudden_major",
}
SOURCES = {"内部": Source.inside, "外部": Source.outside, "inside": Source.inside, "outside": Source.outside}
YES = {"是", "y", "yes", "true", "1", "√"}


class IntakeError(ValueError):
    """Every problem of an intake, each naming the row and field; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def check_item(item: QualityItemCreate, where: str = "") -> list[str]:
    """Problems with one valid-shaped item: unknown departments, empty text."""
    directory = load_directory("quality")
    problems = [f"{where}字段「涉及部门」：未知部门 {d}" for d in item.departments if not directory.has_department(d)]
    if not item.departments:
        problems.append(f"{where}字段「涉及部门」：至少填写一个部门")
    for name, label in (("title", "标题"), ("description", "内容"), ("reporter", "报告人"), ("kind", "类别")):
        if not str(getattr(item, name)).strip():
            problems.append(f"{where}字段「{label}」：不能为空")
    return problems


def row_to_item(row: dict[str, Any], where: str) -> tuple[QualityItemCreate | None, list[str]]:
    """One import row (Chinese headers) → an item, or the reasons it is refused."""
    missing = [h for h in COLUMNS if h not in row or row[h] is None or str(row[h]).strip() == ""]
    missing = [h for h in missing if h not in ("异常", "突发重大")]
    if missing:
        return None, [f"{where}字段「{h}」：缺失" for h in missing]
    source = SOURCES.get(str(row["来源"]).strip())
    if source is None:
        return None, [f"{where}字段「来源」：应为 内部 或 外部，而不是 {row['来源']}"]
    data = {
        "source": source, "kind": str(row["类别"]).strip(), "title": str(row["标题"]).strip(),
        "description": str(row["内容"]).strip(), "reporter": str(row["报告人"]).strip(),
        "departments": [d.strip() for d in str(row["涉及部门"]).replace("，", ",").replace("、", ",").split(",")
                        if d.strip()],
        "abnormal": str(row.get("异常") or "").strip().lower() in YES,
        "sudden_major": str(row.get("突发重大") or "").strip().lower() in YES,
    }
    try:
        item = QualityItemCreate.model_validate(data)
    except ValidationError as exc:
        return None, [f"{where}{e['loc'][0]}：{e['msg']}" for e in exc.errors()]
    return item, check_item(item, where)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8, with or without BOM) or .xlsx file, keyed by the header row."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h).strip() if h is not None else "" for h in rows[0]] if rows else []
        return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def parse_file(path: Path) -> list[QualityItemCreate]:
    """All items of an import file, or an ``IntakeError`` listing every bad row and field."""
    items, problems = [], []
    for n, row in enumerate(read_rows(path), start=2):
        item, errs = row_to_item(row, f"第 {n} 行 ")
        problems += errs
        if item is not None and not errs:
            items.append(item)
    if problems:
        raise IntakeError(problems)
    if not items:
        raise IntakeError([f"{path.name}：没有数据行"])
    return items


def next_number(*, session: Session, when: datetime) -> str:
    """The next register number of the year, e.g. ``ZL-2026-0007``."""
    prefix = f"ZL-{when.year}-"
    count = session.exec(select(func.count()).where(col(QualityItem.number).startswith(prefix))).one()
    return f"{prefix}{count + 1:04d}"


@dataclass
class Stored:
    number: str
    qclass: str


def store_items(*, session: Session, items: list[QualityItemCreate], now: datetime) -> list[Stored]:
    """Classify and register the items in one transaction (all or nothing)."""
    problems = [p for i, item in enumerate(items, 1) for p in check_item(item, f"第 {i} 条 ")]
    if problems:
        raise IntakeError(problems)
    from zhidu.quality.routing import decision_due, feedback_due, owner_of

    table, stored = decision_table(), []
    for item in items:
        rule = table.classify(item)
        row = QualityItem.model_validate(
            item, update={"number": next_number(session=session, when=now), "qclass": rule.qclass,
                          "class_rule": rule.name, "owner": owner_of(rule.qclass, item.departments),
                          "decision_due": decision_due(rule.qclass, now),
                          "feedback_due": feedback_due(item, now), "created_at": now})
        session.add(row)
        session.flush()
        stored.append(Stored(row.number, row.qclass.value))
    session.commit()
    return stored
