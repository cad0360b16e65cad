"""Importing market entries and forms from CSV or .xlsx: row-level errors (row, field, reason), valid rows kept,
counts reconcile (read = accepted + rejected). Row numbers are the file's (header = row 1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generic, TypeVar

from openpyxl import load_workbook

from models.market import PRICE_TYPE_LABELS, SECRECY_LABELS, MarketEntryCreate, PriceType, Secrecy

T = TypeVar("T")

# Chinese header → field (English names are accepted too)
ENTRY_HEADERS: dict[str, str] = {
    "日期": "entry_date", "地区": "region", "产品": "product", "品类": "category", "价格类型": "price_type",
    "价格": "price", "币种": "currency", "单位": "unit", "数量": "volume", "竞争对手": "competitor",
    "渠道": "channel", "来源": "source", "内容": "content", "报告人": "reporter", "密级": "secrecy",
}
FIELD_LABELS: dict[str, str] = {v: k for k, v in ENTRY_HEADERS.items()}
_PRICE_TYPES = {**{label: t for t, label in PRICE_TYPE_LABELS.items()}, **{t.value: t for t in PriceType}}
_SECRECY = {**{label: s for s, label in SECRECY_LABELS.items()}, **{s.value: s for s in Secrecy}}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.field}：{self.reason}"


@dataclass
class ImportResult(Generic[T]):
    read: int = 0
    accepted: list[T] = field(default_factory=list)
    rejected_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def reconciles(self) -> bool:
        return self.read == len(self.accepted) + self.rejected


class FieldError(ValueError):
    pass


def read_table(source: Path | bytes, *, filename: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {header: value}) for each non-empty data row of a CSV (UTF-8, BOM ok) or .xlsx (first sheet)."""
    name = filename or (source.name if isinstance(source, Path) else "")
    data = source.read_bytes() if isinstance(source, Path) else source
    if name.lower().endswith((".xlsx", ".xlsm")):
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows: Iterator[tuple[Any, ...]] = wb.worksheets[0].iter_rows(values_only=True)
    else:
        rows = (tuple(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header: list[str] | None = None
    for number, values in enumerate(rows, start=1):
        if header is None:
            header = [str(v).strip() if v is not None else "" for v in values]
            continue
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        yield number, {h: v for h, v in zip(header, values, strict=False) if h}


def cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"日期格式应为 YYYY-MM-DD，而不是 {text!r}") from None


def parse_decimal(value: Any, *, places: int, allow_zero: bool = True) -> Decimal | None:
    if value is None or cell_text(value) == "":
        return None
    text = repr(value) if isinstance(value, float) else cell_text(value).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"不是数字：{cell_text(value)!r}") from None
    if not number.is_finite():
        raise FieldError(f"不是有限数字：{cell_text(value)!r}")
    if number < 0 or (number == 0 and not allow_zero):
        raise FieldError(f"应为{'非负数' if allow_zero else '正数'}：{number}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise FieldError(f"小数位数不能超过 {places} 位：{number}")
    return number


def _entry(raw: dict[str, Any]) -> tuple[MarketEntryCreate | None, list[tuple[str, str]]]:
    values = {ENTRY_HEADERS.get(k, k): v for k, v in raw.items()}
    data: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []

    def take(name: str, parse: Callable[[Any], Any]) -> None:
        try:
            data[name] = parse(values.get(name))
        except FieldError as exc:
            problems.append((FIELD_LABELS[name], str(exc)))

    def required(value: Any) -> str:
        if not cell_text(value):
            raise FieldError("必填")
        return cell_text(value)

    def choice(table: dict[str, Any], default: Any) -> Callable[[Any], Any]:
        def parse(value: Any) -> Any:
            if not cell_text(value):
                return default
            if cell_text(value) not in table:
                names = "/".join(k for k in table if not k.isascii())
                raise FieldError(f"应为 {names} 之一，而不是 {cell_text(value)!r}")
            return table[cell_text(value)]
        return parse

    take("entry_date", lambda v: parse_date(v if isinstance(v, date) else required(v)))
    take("region", required)
    take("product", required)
    take("price_type", choice(_PRICE_TYPES, PriceType.spot))
    take("price", lambda v: parse_decimal(v, places=2, allow_zero=False))
    take("volume", lambda v: parse_decimal(v, places=3))
    take("secrecy", choice(_SECRECY, Secrecy.internal))
    for name in ("category", "competitor", "channel", "source", "content", "reporter", "unit", "currency"):
        text = cell_text(values.get(name))
        if text:
            data[name] = text
    if data.get("price_type") == PriceType.usd_cargo and "currency" not in data:
        data["currency"] = "USD"
    if data.get("currency") and (len(data["currency"]) != 3 or not data["currency"].isalpha()):
        problems.append(("币种", f"应为三位货币代码（CNY、USD），而不是 {data['currency']!r}"))
    elif data.get("price_type") == PriceType.usd_cargo and data.get("currency", "").upper() != "USD":
        problems.append(("币种", "美元船货价的币种应为 USD"))
    if problems:
        return None, problems
    if "currency" in data:
        data["currency"] = data["currency"].upper()
    return MarketEntryCreate.model_validate(data), []


def parse_entry(raw: dict[str, Any]) -> tuple[MarketEntryCreate | None, list[tuple[str, str]]]:
    """One entry from a form or a row ({field or Chinese header: value}): (entry, []) or (None, [(field, reason)])."""
    return _entry(raw)


def parse_rows(
    rows: Iterator[tuple[int, dict[str, Any]]],
    parse: Callable[[dict[str, Any]], tuple[T | None, list[tuple[str, str]]]],
) -> ImportResult[T]:
    result: ImportResult[T] = ImportResult()
    for number, raw in rows:
        result.read += 1
        item, problems = parse(raw)
        if item is None:
            result.rejected_rows.append(number)
            result.errors.extend(RowError(number, f, reason) for f, reason in problems)
        else:
            result.accepted.append(item)
    return result


def import_entries(source: Path | bytes, *, filename: str = "") -> ImportResult[MarketEntryCreate]:
    """Parse market entries (Chinese headers as in ``ENTRY_HEADERS``); store ``accepted`` with
    ``zhidu.market.queries.store_entries``."""
    return parse_rows(read_table(source, filename=filename), _entry)
