"""Entry checks (§5 key data, §6 identity) and scope (§4) for one exported policy row.

Rows are mappings from the core system's Chinese column headers (see ``zhidu.customers.importing``) to cell
values (text, or date/number cells from .xlsx). Each problem names the row, the column and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from models.customers import PartyCreate, PolicyCreate, Role
from zhidu.customers.idcheck import check_id_number, normalize_id
from zhidu.customers.normalize import (
    GB_ID_TYPES,
    normalize_account,
    normalize_address,
    normalize_name,
    normalize_phone,
    person_key,
    to_halfwidth,
)
from zhidu.customers.products import ProductTable

Severity = Literal["error", "warning", "skipped"]

POLICY_COLUMNS = {
    "policy_no": "保单号",
    "product_code": "险种代码",
    "term": "保险期间",
    "term_unit": "期间单位",
    "channel": "销售渠道",
    "agent_code": "业务员代码",
    "agency": "代理机构",
    "sign_date": "签单日期",
    "receipt_date": "回执签收日期",
    "premium": "保费",
}
PARTY_FIELDS = ("name", "sex", "birth_date", "id_type", "id_number", "phone", "address", "bank_account", "relation")
_PARTY_LABELS = {
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "phone": "联系电话",
    "address": "联系地址",
    "bank_account": "银行账号",
}
ROLE_PREFIX = {Role.holder: "投保人", Role.insured: "被保险人"}
PARTY_COLUMNS = {
    (Role.holder, f): ROLE_PREFIX[Role.holder] + label for f, label in _PARTY_LABELS.items()
} | {
    (Role.insured, f): ROLE_PREFIX[Role.insured] + label
    for f, label in _PARTY_LABELS.items()
    if f not in ("phone", "address", "bank_account")
} | {(Role.insured, "relation"): "与投保人关系"}
# §5: key data that must be present (a minor insured may lack the ID number).
KEY_FIELDS = {
    Role.holder: ("name", "sex", "birth_date", "id_number", "address", "phone"),
    Role.insured: ("name", "sex", "birth_date", "id_number"),
}
REQUIRED_COLUMNS = [
    POLICY_COLUMNS[k] for k in ("policy_no", "product_code", "term", "term_unit", "channel", "agent_code", "sign_date")
] + [PARTY_COLUMNS[(r, f)] for r in (Role.holder, Role.insured) for f in KEY_FIELDS[r]]
ALL_POLICY_HEADERS = list(POLICY_COLUMNS.values()) + list(PARTY_COLUMNS.values())

_SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F"}
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_UNITS = {"年": "Y", "Y": "Y", "月": "M", "M": "M", "终身": "L", "L": "L"}
ADULT_AGE = 18


@dataclass(frozen=True)
class Problem:
    row: int  # the row number in the file (the header is row 1)
    field: str  # the column header as in the file
    code: str  # English, stable
    reason: str  # Chinese, for people
    severity: Severity = "error"


@dataclass
class PolicyEntry:
    """A checked row: the policy and its parties ready to store, or why not."""

    row: int
    policy: PolicyCreate | None = None
    parties: list[tuple[PartyCreate, str]] = field(default_factory=list)  # (party, person_key)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    @property
    def skipped(self) -> bool:
        return any(p.severity == "skipped" for p in self.problems)

    @property
    def warned(self) -> bool:
        return any(p.severity == "warning" for p in self.problems)


def cell_text(value: Any) -> str:
    """A cell as stripped text ('' for empty); an integral float from a spreadsheet loses its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """A date cell or text (2025-10-01, 2025/10/1, 20251001, 2025年10月1日); ValueError when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = to_halfwidth(cell_text(value))
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _DATE_RE.match(text)
    if m is None:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def missing_key_fields(role: Role, values: Mapping[str, Any], *, minor: bool) -> list[str]:
    """§5: the key fields of ``role`` that are empty (English field names)."""
    missing = []
    for name in KEY_FIELDS[role]:
        if name == "id_number" and role is Role.insured and minor:
            continue
        if values.get(name) in (None, ""):
            missing.append(name)
    return missing


def _parse_party(
    role: Role, row: Mapping[str, Any], row_no: int, sign_date: date | None, today: date, out: list[Problem]
) -> tuple[PartyCreate, str] | None:
    col = {f: PARTY_COLUMNS.get((role, f), "") for f in PARTY_FIELDS}
    raw = {f: cell_text(row.get(c)) if c else "" for f, c in col.items()}
    errors: list[Problem] = []
    sex = _SEX.get(to_halfwidth(raw["sex"]).upper()) if raw["sex"] else None
    if raw["sex"] and sex is None:
        errors.append(Problem(row_no, col["sex"], "sex_invalid", f"性别“{raw['sex']}”无法识别,应为男或女"))
    birth: date | None = None
    try:
        birth = parse_date(row.get(col["birth_date"]))
    except ValueError:
        errors.append(Problem(row_no, col["birth_date"], "date_invalid", f"出生日期“{raw['birth_date']}”不是有效日期"))
    if birth is not None and birth > today:
        errors.append(Problem(row_no, col["birth_date"], "birth_date_future", "出生日期晚于今天"))
    name = normalize_name(raw["name"]) or ""
    phone = normalize_phone(raw["phone"])
    address = normalize_address(raw["address"])
    values: dict[str, Any] = {
        "name": name,
        "sex": sex or raw["sex"],
        "birth_date": birth or raw["birth_date"],
        "id_number": raw["id_number"],
        "phone": phone,
        "address": address,
    }
    on_day = sign_date or today
    minor = role is Role.insured and birth is not None and age_on(birth, on_day) < ADULT_AGE
    for name in missing_key_fields(role, values, minor=minor):
        label = ROLE_PREFIX[role] + _PARTY_LABELS[name]
        errors.append(Problem(row_no, col[name], "missing", f"关键信息缺失:{label}为空"))
    id_type = raw["id_type"] or "身份证"
    id_number: str | None = None
    if raw["id_number"]:
        if id_type in GB_ID_TYPES:
            result = check_id_number(raw["id_number"], stated_birth=birth, stated_sex=sex, today=today)
            for issue in result.issues:
                severity: Severity = "warning" if issue.warning else "error"
                errors.append(Problem(row_no, col["id_number"], issue.code, issue.reason, severity))
            id_number = result.number
        else:
            id_number = normalize_id(raw["id_number"])
    if phone is not None and not 7 <= len(phone) <= 12:
        errors.append(Problem(row_no, col["phone"], "phone_length", f"电话号码位数异常({len(phone)}位)", "warning"))
    out.extend(errors)
    if any(p.severity == "error" for p in errors):
        return None
    party = PartyCreate(
        role=role,
        name=name,
        sex=sex,
        birth_date=birth,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        address=address,
        bank_account=normalize_account(raw["bank_account"]),
        relation=raw["relation"] or None,
    )
    return party, person_key(id_type, id_number, name, birth.isoformat() if birth else None)


def is_self_insured(row: Mapping[str, Any]) -> bool:
    """与投保人关系 = 本人 with an empty insured name: the insured is the policyholder (checked once)."""
    insured_name = cell_text(row.get(PARTY_COLUMNS[(Role.insured, "name")]))
    return cell_text(row.get("与投保人关系")) == "本人" and not insured_name


def check_policy_row(row: Mapping[str, Any], *, row_no: int, today: date, products: ProductTable) -> PolicyEntry:
    """Check one exported row: scope (§4), key data (§5) and identity (§6); every problem is listed."""
    entry = PolicyEntry(row=row_no)
    out = entry.problems
    text = {k: cell_text(row.get(c)) for k, c in POLICY_COLUMNS.items()}
    for key in ("policy_no", "product_code", "channel", "agent_code"):
        if not text[key]:
            out.append(Problem(row_no, POLICY_COLUMNS[key], "missing", f"{POLICY_COLUMNS[key]}为空"))
    product = products.get(text["product_code"]) if text["product_code"] else None
    if text["product_code"] and product is None:
        out.append(Problem(row_no, "险种代码", "product_unknown", f"险种代码{text['product_code']}不在险种表中"))
    unit = _UNITS.get(text["term_unit"].upper() if text["term_unit"] else "")
    term = 0
    if unit is None:
        out.append(Problem(row_no, "期间单位", "term_unit_invalid", f"期间单位“{text['term_unit']}”应为年、月或终身"))
    elif unit != "L":
        try:
            term = int(Decimal(to_halfwidth(text["term"])))
        except (InvalidOperation, ValueError):
            out.append(Problem(row_no, "保险期间", "term_invalid", f"保险期间“{text['term']}”不是整数"))
    if product is not None and unit is not None and not out:
        months = term * 12 if unit == "Y" else term
        if not product.in_scope_category:
            scope = "团体业务" if not product.individual else f"{product.category}"
            reason = f"不适用:{scope}不属于个人人身保险(第四条)"
            out.append(Problem(row_no, "险种代码", "out_of_scope", reason, "skipped"))
            return entry
        if unit != "L" and months < 12:
            out.append(Problem(row_no, "保险期间", "out_of_scope", "不适用:保险期间不足一年(第四条)", "skipped"))
            return entry
    dates: dict[str, date | None] = {}
    for key in ("sign_date", "receipt_date"):
        try:
            dates[key] = parse_date(row.get(POLICY_COLUMNS[key]))
        except ValueError:
            dates[key] = None
            out.append(Problem(row_no, POLICY_COLUMNS[key], "date_invalid", f"“{text[key]}”不是有效日期"))
    sign, receipt = dates["sign_date"], dates["receipt_date"]
    if sign is None and text["sign_date"] == "":
        out.append(Problem(row_no, "签单日期", "missing", "签单日期为空"))
    if sign is not None and sign > today:
        out.append(Problem(row_no, "签单日期", "date_future", "签单日期晚于今天"))
    if receipt is not None and sign is not None and receipt < sign:
        out.append(Problem(row_no, "回执签收日期", "receipt_before_sign", "回执签收日期早于签单日期"))
    premium: Decimal | None = None
    if text["premium"]:
        try:
            premium = Decimal(to_halfwidth(text["premium"]).replace(",", ""))
        except InvalidOperation:
            out.append(Problem(row_no, "保费", "premium_invalid", f"保费“{text['premium']}”不是金额"))
    holder = _parse_party(Role.holder, row, row_no, sign, today, out)
    if is_self_insured(row):
        insured = None if holder is None else (
            holder[0].model_copy(update={"role": Role.insured, "phone": None, "address": None, "bank_account": None,
                                         "relation": "本人"}),
            holder[1],
        )
    else:
        insured = _parse_party(Role.insured, row, row_no, sign, today, out)
    if entry.rejected or holder is None or insured is None:
        return entry
    entry.policy = PolicyCreate(
        policy_no=text["policy_no"],
        product_code=text["product_code"],
        term=term,
        term_unit=unit or "Y",
        channel=text["channel"],
        agent_code=text["agent_code"],
        agency=text["agency"] or None,
        sign_date=sign,  # type: ignore[arg-type]  # checked above
        receipt_date=receipt,
        premium=premium,
    )
    entry.parties = [holder, insured]
    return entry
