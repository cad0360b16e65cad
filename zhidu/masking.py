"""Masking of phone numbers, bank accounts and ID numbers (脱敏) for emails, pages, reports, logs and artifacts.

Every function accepts ``None``/empty/short input without raising: a value too short to keep a head and a
tail is masked completely rather than shown.
"""

from __future__ import annotations

import re

STAR = "*"

_SEPARATORS = re.compile(r"[\s\-().（）]")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86(?=1[3-9]\d{9}$|0?[1-9]\d{8,10}$)")


def _mask_middle(value: str, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` characters, star the rest; too short to keep both means all stars."""
    if len(value) <= head + tail:
        return STAR * len(value)
    return value[:head] + STAR * (len(value) - head - tail) + value[len(value) - tail :]


def _landline_area_length(national: str) -> int:
    """The length of the area code (with its trunk ``0``): 010 and 02x are three digits, the rest four."""
    return 3 if national[:2] in {"01", "02"} else 4


def mask_phone(value: str | None) -> str:
    """``13800138000`` → ``138****8000``; ``+86 138-0013-8000`` → ``+86 138****8000``;
    ``010-12345678`` → ``010-****5678``; other numbers of 7+ digits keep their last four, shorter ones nothing."""
    if not value:
        return ""
    raw = value.strip()
    digits = _SEPARATORS.sub("", raw)
    prefix = ""
    if (match := _COUNTRY_CODE.match(digits)) is not None:
        prefix = "+86 "
        digits = digits[match.end() :]
    if not digits.isdigit():
        return STAR * len(digits)  # not a phone number: show nothing of it
    if len(digits) == 11 and digits.startswith("1"):
        return prefix + _mask_middle(digits, 3, 4)
    if not digits.startswith("0") and prefix and 9 <= len(digits) <= 11:
        digits = "0" + digits  # +86 10 1234 5678 is dialled 010-12345678 at home
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        area = _landline_area_length(digits)
        return prefix + digits[:area] + "-" + _mask_middle(digits[area:], 0, 4)
    return prefix + (_mask_middle(digits, 0, 4) if len(digits) >= 7 else STAR * len(digits))


def mask_account(value: str | None) -> str:
    """A bank account (银行账号): first four and last four digits, the rest starred (spaces/dashes removed)."""
    if not value:
        return ""
    return _mask_middle(_SEPARATORS.sub("", value), 4, 4)


def mask_id(value: str | None) -> str:
    """A resident ID number (身份证号, 15 or 18 characters): first three and last four kept."""
    if not value:
        return ""
    return _mask_middle(_SEPARATORS.sub("", value).upper(), 3, 4)


# Boundaries: no digit or Latin letter may touch a match, so tokens and codes such as ``ab13800138000`` are
# left alone, while Chinese text around a number (``电话13800138000转``) still matches.
_B = r"(?<![0-9A-Za-z])"
_E = r"(?![0-9A-Za-z])"
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_SEP = r"[ .\-]?"  # one optional space, dot or dash between digit groups
_ID18 = rf"[1-9]\d{{5}}{_SEP}(?:18|19|20)\d{{2}}{_DATE}{_SEP}\d{{3}}[\dXx]"
_ID15 = rf"[1-9]\d{{5}}{_SEP}\d{{2}}{_DATE}{_SEP}\d{{3}}"
_ACCOUNT = r"\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?"
_CC = r"(?:(?:\+|00)?86[ -]?)"  # +86, 0086 or 86 before a number
_MOBILE = rf"{_CC}?1[3-9]\d(?:{_SEP}\d){{8}}"
_LOCAL = r"\d{3,4}[ -]?\d{4}"  # 7 or 8 digits, perhaps split
_LANDLINE = (rf"(?:(?:\+|00)86[ -]?(?:\(0?\d{{2,3}}\)|0?[1-9]\d{{1,2}})[ -]?"
             rf"|0\d{{2,3}}[ -]|\(0\d{{2,3}}\)[ ]?|（0\d{{2,3}}）){_LOCAL}")
_PATTERN = re.compile(rf"{_B}(?:(?P<id>{_ID18}|{_ID15})|(?P<account>{_ACCOUNT})|(?P<phone>{_MOBILE}|{_LANDLINE})){_E}")
# Full-width forms (０-９, Ｘ, ＋, －, （） and the ideographic space) read as their ASCII twins, one character for
# one, so that positions found in the folded text are the positions in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _replace(match: re.Match[str]) -> str:
    if match.group("id") is not None:
        return mask_id(match.group("id"))
    if match.group("account") is not None:
        return mask_account(match.group("account"))
    return mask_phone(match.group("phone"))


def mask_text(value: str | None) -> str:
    """Mask every phone number, 15/18-character ID number and 16–19-digit bank account inside free text.

    Numbers may be split by spaces, dots or dashes, carry +86/0086/86, or be typed in full-width digits.
    Landlines are recognised only with their area code separated (``010-12345678``, ``(0755) 1234567``), so
    that order numbers and amounts are not taken for phones. Masking is idempotent.
    """
    if not value:
        return ""
    folded = value.translate(_FOLD)
    if folded == value:
        return _PATTERN.sub(_replace, value)
    out, last = [], 0
    for match in _PATTERN.finditer(folded):
        out += [value[last : match.start()], _replace(match)]
        last = match.end()
    return "".join(out) + value[last:]
