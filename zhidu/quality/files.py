"""Reading an intake file as staff make it: CSV from Excel (UTF-8 with or without BOM, or GBK/GB18030) or .xlsx
(merged cells filled, formulas without a stored result named), with the header row checked before any row."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IntakeError(ValueError):
    """Every problem of an intake, each naming the row and field; nothing was written."""

    def __init__(self, problems: list[str], counts: str = "") -> None:
        super().__init__("；".join(problems))
        self.problems = problems
        self.counts = counts  # "共 N 行：…" when the file was read


@dataclass
class Table:
    """The data rows of a file keyed by header, each with its row number in the file (1 = first line)."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    blank: int = 0  # rows with no value at all, skipped
    problems: list[str] = field(default_factory=list)  # cell-level problems found while reading (formulas, …)


def read_table(path: Path, columns: Sequence[str], optional: Sequence[str] = ()) -> Table:
    """The rows of ``path`` under a header that has every one of ``columns`` exactly once."""
    if not path.is_file():
        raise IntakeError([f"{path}：文件不存在"])
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise IntakeError([f"{path.name}：不支持旧版 .xls，请在 Excel 中另存为 .xlsx 或「CSV UTF-8」"])
    raw, problems = _xlsx_rows(path) if suffix in (".xlsx", ".xlsm") else (_csv_rows(path), [])
    numbered = [(n, [_text(v) for v in row]) for n, row in enumerate(raw, start=1)]
    filled = [(n, row) for n, row in numbered if any(v.strip() for v in row)]
    if not filled:
        raise IntakeError([f"{path.name}：没有数据行"])
    header_at, header = filled[0]
    _check_header(path, header_at, [h.strip() for h in header], columns, optional)
    names = [h.strip() for h in header]
    table = Table(problems=problems, blank=len(numbered) - len(filled))
    for n, row in filled[1:]:
        table.rows.append((n, {name: (row[i] if i < len(row) else "") for i, name in enumerate(names) if name}))
    table.blank -= sum(1 for n, _ in numbered if n < header_at)  # blank lines above the header are not rows
    for n, cells in table.rows:
        table.problems += [f"第 {n} 行 字段「{k}」：含有不可见的控制字符"
                           for k, v in cells.items() if _CONTROL.search(v)]
    return table


def _check_header(path: Path, at: int, header: list[str], columns: Sequence[str], optional: Sequence[str]) -> None:
    dup = sorted({h for h in header if h and header.count(h) > 1})
    missing = [c for c in columns if c not in header and c not in optional]
    if dup or missing:
        unknown = [h for h in header if h and h not in columns]
        hint = f"（未识别的列：{'、'.join(unknown)}；应有的列：{'、'.join(columns)}）" if unknown else ""
        problems = [f"{path.name} 第 {at} 行表头：缺少列 {'、'.join(missing)}{hint}"] if missing else []
        problems += [f"{path.name} 第 {at} 行表头：列 {d} 出现了不止一次" for d in dup]
        raise IntakeError(problems)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if b"\x00" in data:
        raise IntakeError([f"{path.name}：不是文本文件（CSV），请另存为「CSV UTF-8」或 .xlsx"])
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves "CSV" as GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return list(csv.reader(io.StringIO(text, newline="")))
    raise IntakeError([f"{path.name}：无法识别的文字编码（应为 UTF-8 或 GBK），请另存为「CSV UTF-8」"])


def _xlsx_rows(path: Path) -> tuple[list[list[Any]], list[str]]:
    from openpyxl import load_workbook

    try:
        values = load_workbook(path, data_only=True).active
        formulas = load_workbook(path, data_only=False).active
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IntakeError([f"{path.name}：无法作为 .xlsx 读取（{type(exc).__name__}），请在 Excel 中另存为 .xlsx"]) \
            from exc
    assert values is not None and formulas is not None
    grid = [list(r) for r in values.iter_rows(values_only=True)]
    for merged in values.merged_cells.ranges:  # a merged cell's value shows in every cell it covers
        top = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top
    problems = []
    for row in formulas.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("=") \
                    and grid[cell.row - 1][cell.column - 1] is None:
                problems.append(f"第 {cell.row} 行 {cell.coordinate} 单元格：公式没有计算结果（{cell.value}），"
                                "请在 Excel 中打开并保存，或改为数值")
    return grid, problems
