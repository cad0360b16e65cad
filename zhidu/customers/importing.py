"""Import of core-system exports (CSV or .xlsx): policies, agents, complaints.

Policies — one row per policy, columns (headers exactly as exported; * = required column):
  保单号* · 险种代码* · 保险期间* (a number; empty for 终身) · 期间单位* (年 / 月 / 终身) · 销售渠道* ·
  业务员代码* · 代理机构 · 签单日期* · 回执签收日期 · 保费 ·
  投保人姓名* · 投保人性别* (男/女) · 投保人出生日期* · 投保人证件类型 (default 身份证) · 投保人证件号码* ·
  投保人联系电话* · 投保人联系地址* · 投保人银行账号 ·
  被保险人姓名* · 被保险人性别* · 被保险人出生日期* · 被保险人证件类型 · 被保险人证件号码* · 与投保人关系
  (与投保人关系 = 本人 with empty 被保险人 columns: the insured is the policyholder.)
  Contact data (phone, address, bank account for premiums) belong to the policyholder (§5, §11).
Agents — 业务员代码* · 姓名* · 联系电话 · 联系地址 · 所属团队 · 销售渠道 · 代理机构 · 证件号码
Complaints — 投诉编号* · 业务员代码* · 投诉日期* · 是否查实* (是/否) · 投诉摘要

Dates: 2025-10-01, 2025/10/1, 20251001, 2025年10月1日 or a date cell. CSV: UTF-8 (with or without BOM) or
GB18030. The row number in a problem is the spreadsheet row (the header is row 1).

Counts reconcile: read = stored + updated + duplicates + rejected + skipped. A policy number already stored (or
seen earlier in the file) is a duplicate and changes nothing; out-of-scope rows (§4) are skipped with a reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Table, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from models.customers import Agent, Complaint, ImportBatch, new_batch_id
from zhidu.customers.entry import (
    ALL_POLICY_HEADERS,
    REQUIRED_COLUMNS,
    PolicyEntry,
    Problem,
    cell_text,
    check_policy_row,
    parse_date,
)
from zhidu.customers.idcheck import normalize_id
from zhidu.customers.normalize import normalize_address, normalize_name, normalize_phone
from zhidu.customers.products import ProductTable, load_products
from zhidu.db import utcnow

AGENT_HEADERS = ["业务员代码", "姓名", "联系电话", "联系地址", "所属团队", "销售渠道", "代理机构", "证件号码"]
COMPLAINT_HEADERS = ["投诉编号", "业务员代码", "投诉日期", "是否查实", "投诉摘要"]
CHUNK = 2000
POLICY_T: Table = SQLModel.metadata.tables["cust_policy"]
PARTY_T: Table = SQLModel.metadata.tables["cust_party"]
PROGRESS_MIN_BYTES = 1_000_000  # files at least this large show a progress bar (when asked)


class ImportFormatError(ValueError):
    """The file cannot be read as this kind of export (wrong type, missing columns)."""


@dataclass
class ImportSummary:
    batch_id: str
    kind: str
    file_name: str
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    warned: int = 0  # stored rows with at least one warning
    problems: list[Problem] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.stored + self.updated + self.duplicates + self.rejected + self.skipped


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Headers and (row number, row) pairs of a CSV or .xlsx file; blank rows are left out."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise ImportFormatError(f"{path.name}: 只能导入 .csv 或 .xlsx 文件")


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for n, values in enumerate(reader, start=2):
            if any(v.strip() for v in values):
                yield n, dict(zip(headers, values, strict=False))

    return headers, rows()


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    headers = [cell_text(h) for h in next(it, ())]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for n, values in enumerate(it, start=2):
                if any(v not in (None, "") for v in values):
                    yield n, dict(zip(headers, values, strict=False))
        finally:
            wb.close()

    return headers, rows()


def _require(headers: list[str], required: Iterable[str], path: Path) -> None:
    missing = [h for h in required if h not in headers]
    if missing:
        raise ImportFormatError(f"{path.name}: 缺少列 {'、'.join(missing)}")


def _progress_rows(
    rows: Iterator[tuple[int, dict[str, Any]]], path: Path, show: bool
) -> Iterator[tuple[int, dict[str, Any]]]:
    if not show or path.stat().st_size < PROGRESS_MIN_BYTES:
        yield from rows
        return
    total = sum(1 for _ in path.open("rb")) - 1 if path.suffix.lower() == ".csv" else None
    with Progress(transient=True) as progress:
        task = progress.add_task(f"导入 {path.name}", total=total)
        for n, item in enumerate(rows, start=1):
            yield item
            if n % 1000 == 0:
                progress.update(task, completed=n)


def _chunks(rows: Iterator[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _record_batch(session: Session, summary: ImportSummary) -> None:
    session.add(
        ImportBatch(
            id=summary.batch_id,
            kind=summary.kind,
            file_name=summary.file_name,
            read=summary.read,
            stored=summary.stored,
            updated=summary.updated,
            duplicates=summary.duplicates,
            rejected=summary.rejected,
            skipped=summary.skipped,
            warned=summary.warned,
        )
    )
    session.commit()


def import_policies(
    path: Path,
    *,
    session: Session,
    today: date,
    products: ProductTable | None = None,
    batch_id: str | None = None,
    progress: bool = False,
) -> ImportSummary:
    """Check and store every valid policy row of ``path``; rows with errors are listed and not stored."""
    products = products or load_products()
    headers, rows = read_rows(path)
    _require(headers, REQUIRED_COLUMNS, path)
    summary = ImportSummary(batch_id=batch_id or new_batch_id(), kind="policies", file_name=path.name)
    seen: set[str] = set()
    for chunk in _chunks(_progress_rows(rows, path, progress), CHUNK):
        summary.read += len(chunk)
        numbers = [cell_text(r.get("保单号")) for _, r in chunk]
        known = sa_select(POLICY_T.c.policy_no).where(POLICY_T.c.policy_no.in_(numbers))
        existing = set(session.execute(known).scalars())
        good: list[PolicyEntry] = []
        for (row_no, row), number in zip(chunk, numbers, strict=True):
            if number and (number in existing or number in seen):
                summary.duplicates += 1
                if number in seen:
                    reason = f"保单号{number}在文件中重复,以第一次出现为准"
                    summary.problems.append(Problem(row_no, "保单号", "duplicate_in_file", reason, "warning"))
                continue
            entry = check_policy_row(row, row_no=row_no, today=today, products=products)
            summary.problems.extend(entry.problems)
            if entry.skipped:
                summary.skipped += 1
            elif entry.rejected or entry.policy is None:
                summary.rejected += 1
            else:
                seen.add(number)
                good.append(entry)
                summary.warned += entry.warned
        _store_policies(session, good, summary.batch_id)
        summary.stored += len(good)
    _record_batch(session, summary)
    return summary


def _store_policies(session: Session, entries: list[PolicyEntry], batch_id: str) -> None:
    if not entries:
        return
    now = utcnow()
    policy_rows = [{**e.policy.model_dump(), "batch_id": batch_id, "entered_at": now} for e in entries if e.policy]
    stmt = insert(POLICY_T).returning(POLICY_T.c.id, sort_by_parameter_order=True)
    ids = session.execute(stmt, policy_rows).scalars().all()
    party_rows = [
        {**party.model_dump(), "policy_id": pid, "person_key": key}
        for pid, e in zip(ids, entries, strict=True)
        for party, key in e.parties
    ]
    session.execute(insert(PARTY_T), party_rows)
    session.commit()


def _upsert(
    path: Path,
    *,
    session: Session,
    kind: str,
    headers_required: list[str],
    parse: Callable[[int, dict[str, Any], list[Problem]], dict[str, Any] | None],
    model: Any,
    key: str,
    progress: bool,
) -> ImportSummary:
    headers, rows = read_rows(path)
    _require(headers, headers_required, path)
    summary = ImportSummary(batch_id=new_batch_id(), kind=kind, file_name=path.name)
    for row_no, row in _progress_rows(rows, path, progress):
        summary.read += 1
        problems: list[Problem] = []
        values = parse(row_no, row, problems)
        summary.problems.extend(problems)
        if values is None:
            summary.rejected += 1
            continue
        current = session.exec(select(model).where(getattr(model, key) == values[key])).first()  # type: ignore[call-overload]
        if current is None:
            session.add(model(**values))
            summary.stored += 1
        elif all(getattr(current, k) == v for k, v in values.items()):
            summary.duplicates += 1
        else:
            for k, v in values.items():
                setattr(current, k, v)
            summary.updated += 1
        session.flush()
    _record_batch(session, summary)
    return summary


def _parse_agent(row_no: int, row: dict[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    text = {h: cell_text(row.get(h)) for h in AGENT_HEADERS}
    for h in ("业务员代码", "姓名"):
        if not text[h]:
            problems.append(Problem(row_no, h, "missing", f"{h}为空"))
    if problems:
        return None
    return {
        "code": text["业务员代码"],
        "name": normalize_name(text["姓名"]) or "",
        "phone": normalize_phone(text["联系电话"]),
        "address": normalize_address(text["联系地址"]),
        "team": text["所属团队"] or None,
        "channel": text["销售渠道"] or None,
        "agency": text["代理机构"] or None,
        "id_number": normalize_id(text["证件号码"]) or None,
    }


def import_agents(path: Path, *, session: Session, progress: bool = False) -> ImportSummary:
    """Store new agents, update changed ones (contact data matter for §11), count unchanged ones."""
    return _upsert(path, session=session, kind="agents", headers_required=AGENT_HEADERS[:2], parse=_parse_agent,
                   model=Agent, key="code", progress=progress)


_YES = {"是": True, "Y": True, "1": True, "已查实": True, "否": False, "N": False, "0": False, "未查实": False}


def _parse_complaint(row_no: int, row: dict[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    text = {h: cell_text(row.get(h)) for h in COMPLAINT_HEADERS}
    for h in ("投诉编号", "业务员代码", "投诉日期", "是否查实"):
        if not text[h]:
            problems.append(Problem(row_no, h, "missing", f"{h}为空"))
    day: date | None = None
    try:
        day = parse_date(row.get("投诉日期"))
    except ValueError:
        problems.append(Problem(row_no, "投诉日期", "date_invalid", f"“{text['投诉日期']}”不是有效日期"))
    verified = _YES.get(text["是否查实"].upper())
    if text["是否查实"] and verified is None:
        problems.append(Problem(row_no, "是否查实", "verified_invalid", f"“{text['是否查实']}”应为是或否"))
    if problems:
        return None
    return {
        "complaint_no": text["投诉编号"],
        "agent_code": text["业务员代码"],
        "complaint_date": day,
        "verified": verified,
        "summary": text["投诉摘要"] or None,
    }


def import_complaints(path: Path, *, session: Session, progress: bool = False) -> ImportSummary:
    """Store mis-selling complaints (§14); a complaint verified later is updated."""
    return _upsert(path, session=session, kind="complaints", headers_required=COMPLAINT_HEADERS[:4],
                   parse=_parse_complaint, model=Complaint, key="complaint_no", progress=progress)


def write_policy_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write policy rows with the export's headers (used for samples, tests and benchmarks)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ALL_POLICY_HEADERS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
