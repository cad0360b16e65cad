"""Resident ID numbers (GB 11643-1999) checked at entry (§6).

python-stdnum does the check character (``stdnum.iso7064.mod_11_2``) and holds the region table
(``stdnum.cn.loc``), but ``stdnum.cn.ric.validate`` refuses real people whose county was created or renamed after
their birth and accepts future birth dates. So the region rule here is:

* the 6-digit code is in no version of the table → error ``region_unknown`` (区划代码不存在);
* the code exists but not in the birth year → warning ``region_not_yet`` (出生时该区划尚未设立) or
  ``region_abolished`` (出生时该区划已撤销): the number is stored, the warning is listed.

A 15-digit number (old form: 2-digit year, no check character) is converted to 18 digits (year 19YY, check
character computed) and then checked like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from zhidu.customers.normalize import to_halfwidth

_RANGE = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


@dataclass(frozen=True)
class IdIssue:
    code: str  # English, stable: tests and code match on it
    reason: str  # Chinese, for people
    warning: bool = False


@dataclass
class IdResult:
    """The normalised number (18 digits, upper-case X) and what is wrong with it."""

    number: str | None
    issues: list[IdIssue] = field(default_factory=list)
    birth_date: date | None = None
    sex: str | None = None  # "M" / "F" from the 17th digit

    @property
    def ok(self) -> bool:
        return self.number is not None and not any(not i.warning for i in self.issues)


def normalize_id(raw: str | None) -> str:
    """Half-width, without any whitespace, ``x`` → ``X``."""
    if raw is None:
        return ""
    return re.sub(r"\s+", "", to_halfwidth(str(raw))).upper()


def convert_15_to_18(number15: str) -> str:
    """The old 15-digit number as 18 digits: year ``19YY``, check character per ISO 7064 MOD 11-2."""
    body = number15[:6] + "19" + number15[6:]
    return body + mod_11_2.calc_check_digit(body)


def region_status(code: str, year: int) -> str:
    """``ok``, ``not_yet``, ``abolished`` or ``unknown`` for a 6-digit region code in ``year``."""
    parts = numdb.get("cn/loc").info(code)
    info = {k: v for _part, props in parts for k, v in props.items()}
    county = info.get("county")
    if not county:
        return "unknown"
    statuses = []
    for entry in county.split(","):
        m = _RANGE.match(entry)
        if m is None:
            return "ok"
        start, end = m.group(1), m.group(2)
        if start and year < int(start):
            statuses.append("not_yet")
        elif end and year > int(end):
            statuses.append("abolished")
        else:
            return "ok"
    return "not_yet" if "not_yet" in statuses else "abolished"


def check_id_number(
    raw: str | None, *, stated_birth: date | None = None, stated_sex: str | None = None, today: date
) -> IdResult:
    """Normalise and check one resident ID number against GB 11643 and the stated birth date and sex."""
    number = normalize_id(raw)
    result = IdResult(number=None)
    issues = result.issues
    if not number:
        issues.append(IdIssue("missing", "证件号码为空"))
        return result
    if len(number) == 15:
        if not number.isdigit():
            issues.append(IdIssue("format", "15位身份证号码只能由数字组成"))
            return result
        number = convert_15_to_18(number)
    if len(number) != 18:
        issues.append(IdIssue("length", f"身份证号码应为18位(或旧版15位),实为{len(number)}位"))
        return result
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        issues.append(IdIssue("format", "身份证号码前17位须为数字,末位为数字或X"))
        return result
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        issues.append(IdIssue("birth_date_invalid", f"号码中的出生日期{number[6:14]}不存在"))
        return result
    if birth > today:
        issues.append(IdIssue("birth_date_future", f"号码中的出生日期{birth.isoformat()}晚于今天"))
        return result
    if birth.year < 1880:
        issues.append(IdIssue("birth_date_invalid", f"号码中的出生年份{birth.year}不合理"))
        return result
    if not mod_11_2.is_valid(number):
        expected = mod_11_2.calc_check_digit(number[:17])
        issues.append(IdIssue("check_digit", f"校验码错误:末位应为{expected},实为{number[17]}"))
        return result
    status = region_status(number[:6], birth.year)
    if status == "unknown":
        issues.append(IdIssue("region_unknown", f"地区代码{number[:6]}不存在"))
        return result
    if status == "not_yet":
        issues.append(IdIssue("region_not_yet", f"地区代码{number[:6]}在出生年份{birth.year}尚未设立", True))
    elif status == "abolished":
        issues.append(IdIssue("region_abolished", f"地区代码{number[:6]}在出生年份{birth.year}已撤销", True))
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    result.number, result.birth_date, result.sex = number, birth, sex
    if stated_birth is not None and stated_birth != birth:
        issues.append(
            IdIssue("birth_date_mismatch", f"出生日期{stated_birth.isoformat()}与号码中的{birth.isoformat()}不一致")
        )
    if stated_sex is not None and stated_sex != sex:
        issues.append(
            IdIssue("sex_mismatch", f"性别{SEX_LABEL.get(stated_sex, stated_sex)}与号码(第17位)表示的"
                    f"{SEX_LABEL[sex]}不一致")
        )
    return result


SEX_LABEL = {"M": "男", "F": "女"}
