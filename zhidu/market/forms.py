"""The three forms of 篇七 §二 as data: 销售信息反馈表, 顾客意见征询表, 客户回访征询表.

Each form is a list of fields (Chinese label, kind, required, choices); a filled-in form is one ``MarketForm`` row
(common columns + ``answers``). Forms import from CSV/.xlsx with the labels as headers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.market import SECRECY_LABELS, FormType, MarketFormCreate, Secrecy
from zhidu.market.importing import (
    FieldError,
    ImportResult,
    cell_text,
    parse_date,
    parse_decimal,
    parse_rows,
    read_table,
)
from zhidu.market.periods import PERIOD_KINDS, PeriodKind, period_for

Kind = Literal["text", "date", "decimal", "choice", "period"]
COMMON = ("period_label", "submitted_on", "reporter", "region", "customer")
SATISFACTION = ("非常满意", "满意", "一般", "不满意")
EXAMPLES: dict[str, str] = {"weekly": "2026-W05", "monthly": "2026-03", "quarterly": "2026-Q1"}


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    kind: Kind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    form_type: FormType
    title: str
    period_kinds: tuple[PeriodKind, ...]
    fields: tuple[FormField, ...]


FORMS: dict[FormType, FormSpec] = {
    FormType.sales_feedback: FormSpec(FormType.sales_feedback, "销售信息反馈表", PERIOD_KINDS, (
        FormField("period_label", "期间", "period", True),
        FormField("submitted_on", "填报日期", "date", True),
        FormField("reporter", "填报人", required=True),
        FormField("region", "地区", required=True),
        FormField("customer", "客户"),
        FormField("product", "产品", required=True),
        FormField("sales_volume", "本期销量", "decimal"),
        FormField("price", "成交价格", "decimal"),
        FormField("competitors", "竞争对手动态"),
        FormField("demand", "市场需求变化"),
        FormField("suggestions", "问题与建议"),
    )),
    FormType.customer_opinion: FormSpec(FormType.customer_opinion, "顾客意见征询表", ("quarterly",), (
        FormField("period_label", "季度", "period", True),
        FormField("submitted_on", "填报日期", "date", True),
        FormField("reporter", "填报人", required=True),
        FormField("region", "地区"),
        FormField("customer", "顾客", required=True),
        FormField("product", "产品"),
        FormField("satisfaction", "满意度", "choice", True, SATISFACTION),
        FormField("opinion", "意见内容", required=True),
        FormField("major", "是否重大问题", "choice", False, ("是", "否")),
    )),
    FormType.return_visit: FormSpec(FormType.return_visit, "客户回访征询表", ("quarterly",), (
        FormField("period_label", "季度", "period", True),
        FormField("submitted_on", "回访日期", "date", True),
        FormField("reporter", "回访人", required=True),
        FormField("region", "地区"),
        FormField("customer", "客户", required=True),
        FormField("method", "回访方式", "choice", True, ("登门", "电话", "信函")),
        FormField("satisfaction", "满意度", "choice", False, SATISFACTION),
        FormField("opinion", "客户意见", required=True),
        FormField("action", "处理建议"),
    )),
}


def _parse_field(spec: FormSpec, f: FormField, value: Any) -> Any:
    if not cell_text(value):
        if f.required:
            raise FieldError("必填")
        return None
    if f.kind == "date":
        return parse_date(value)
    if f.kind == "decimal":
        number = parse_decimal(value, places=3)
        return None if number is None else str(number)
    if f.kind == "choice" and cell_text(value) not in f.choices:
        raise FieldError(f"应为 {'/'.join(f.choices)} 之一，而不是 {cell_text(value)!r}")
    if f.kind == "period":
        label = cell_text(value)
        for kind in spec.period_kinds:
            try:
                return period_for(kind, label).label
            except ValueError:
                continue
        examples = "、".join(EXAMPLES[k] for k in spec.period_kinds)
        raise FieldError(f"期间应如 {examples}，而不是 {label!r}")
    return cell_text(value)


Parsed = tuple[MarketFormCreate | None, list[tuple[str, str]]]


def form_parser(form_type: FormType) -> Callable[[dict[str, Any]], Parsed]:
    spec = FORMS[form_type]
    secrecy_by_label = {label: s for s, label in SECRECY_LABELS.items()}

    def parse(raw: dict[str, Any]) -> Parsed:
        values = {**raw, **{f.label: raw[f.key] for f in spec.fields if f.key in raw and f.label not in raw}}
        common: dict[str, Any] = {"form_type": form_type}
        answers: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for f in spec.fields:
            try:
                parsed = _parse_field(spec, f, values.get(f.label))
            except FieldError as exc:
                problems.append((f.label, str(exc)))
                continue
            if f.key in COMMON:
                if parsed is not None:
                    common[f.key] = parsed
            elif parsed is not None:
                answers[f.key] = parsed
        level = cell_text(values.get("密级"))
        if level and level not in secrecy_by_label:
            problems.append(("密级", f"应为 {'/'.join(secrecy_by_label)} 之一，而不是 {level!r}"))
        if problems:
            return None, problems
        common["secrecy"] = secrecy_by_label.get(level, Secrecy.internal)
        return MarketFormCreate.model_validate({**common, "answers": answers}), []

    return parse


def import_forms(source: Path | bytes, form_type: FormType, *, filename: str = "") -> ImportResult[MarketFormCreate]:
    """Parse filled-in forms of one type (headers are the fields' Chinese labels)."""
    return parse_rows(read_table(source, filename=filename), form_parser(form_type))
