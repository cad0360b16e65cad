"""Intake of quality items (CLI, CSV/xlsx, deployment parameters): validate everything, write all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models.quality import QualityItem, QualityItemCreate, Source
from zhidu.directory import load_directory
from zhidu.quality.classify import decision_table
from zhidu.quality.files import IntakeError, read_table

__all__ = ["IntakeError", "parse_file", "store_items", "row_to_item", "check_item"]

# Columns of the import file (Chinese headers as staff fill them in).
COLUMNS = {
    "来源": "source", "类别": "kind", "标题": "title", "内容": "description",
    "涉及部门": "departments", "报告人": "reporter", "异常": "abnormal", "突发重大": "sudden_major",
}
SOURCES = {"内部": Source.inside, "外部": Source.outside, "inside": Source.inside, "outside": Source.outside}
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", "×", ""}
FLAGS = ("异常", "突发重大")


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
    flags = {h: str(row.get(h) or "").strip().lower() for h in FLAGS}
    bad_flags = [f"{where}字段「{h}」：应为 是 或 否，而不是 {v}" for h, v in flags.items() if v not in YES | NO]
    if bad_flags:  # an unreadable flag is never taken for "no"
        return None, bad_flags
    data = {
        "source": source, "kind": str(row["类别"]).strip(), "title": str(row["标题"]).strip(),
        "description": str(row["内容"]).strip(), "reporter": str(row["报告人"]).strip(),
        "departments": [d.strip() for d in str(row["涉及部门"]).replace("，", ",").replace("、", ",").split(",")
                        if d.strip()],
        "abnormal": flags["异常"] in YES,
        "sudden_major": flags["突发重大"] in YES,
    }
    try:
        item = QualityItemCreate.model_validate(data)
    except ValidationError as exc:
        return None, [f"{where}{e['loc'][0]}：{e['msg']}" for e in exc.errors()]
    return item, check_item(item, where)


@dataclass
class ParsedFile:
    items: list[QualityItemCreate]
    counts: str  # "共 N 行：有效 …" — rows read = valid + refused (+ blank rows skipped)


def read_file(path: Path) -> ParsedFile:
    """All items of an import file (CSV or .xlsx) with their counts, or an ``IntakeError`` listing every bad row
    and field (and the counts)."""
    table = read_table(path, list(COLUMNS), optional=FLAGS)
    items, problems, bad_rows = [], list(table.problems), {int(p.split()[1]) for p in table.problems}
    for n, row in table.rows:
        item, errs = row_to_item(row, f"第 {n} 行 ")
        problems += errs
        if errs:
            bad_rows.add(n)
        elif item is not None and n not in bad_rows:
            items.append(item)
    counts = f"共 {len(table.rows)} 行：有效 {len(table.rows) - len(bad_rows)} 行，有误 {len(bad_rows)} 行" + (
        f"（另有空行 {table.blank} 行已跳过）" if table.blank else "")
    if problems:
        raise IntakeError(problems, counts)
    if not items:
        raise IntakeError([f"{path.name}：没有数据行"], counts)
    return ParsedFile(items, counts)


def parse_file(path: Path) -> list[QualityItemCreate]:
    """All items of an import file, or an ``IntakeError`` listing every bad row and field."""
    return read_file(path).items


def next_number(*, session: Session, when: datetime) -> str:
    """The next register number of the year (local, Asia/Shanghai: 31 Dec 20:00 UTC is already next year), e.g.
    ``ZL-2026-0007``."""
    from zhidu.settings import get_settings

    prefix = f"ZL-{when.astimezone(get_settings().tz).year}-"
    count = session.exec(select(func.count()).where(col(QualityItem.number).startswith(prefix))).one()
    return f"{prefix}{count + 1:04d}"


@dataclass
class Stored:
    number: str
    qclass: str


def store_items(*, session: Session, items: list[QualityItemCreate], now: datetime) -> list[Stored]:
    """Classify and register the items in one transaction (all or nothing).

    Numbers are the year's count + 1; two intakes at the same moment can both take a number, and the unique key
    refuses the later one: it is rolled back and numbered again (a few times), never half stored.
    """
    problems = [p for i, item in enumerate(items, 1) for p in check_item(item, f"第 {i} 条 ")]
    if problems:
        raise IntakeError(problems)
    for attempt in range(5):
        try:
            return _store(session=session, items=items, now=now)
        except IntegrityError:
            session.rollback()
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _store(*, session: Session, items: list[QualityItemCreate], now: datetime) -> list[Stored]:
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
