"""Normalisation of the values detection compares: phone numbers, bank accounts, addresses, names.

Two values that a person would call "the same" must normalise to the same string, because detection
(§7, §11) compares normalised values through indexes.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.·()（）/\\]+")
_ADDRESS_NOISE = re.compile(r"[\s,，.。、;；:：'\"“”‘’()（）\[\]【】\-‐‑‒–—―_·/\\#＃]+")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (０-９, Ａ-Ｚ, full-width space) → half-width; other characters unchanged."""
    return unicodedata.normalize("NFKC", text)


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without the country prefix (+86 / 0086 / 86 before an 11-digit mobile).

    ``"+86 138-0013-8000"``, ``"0086 13800138000"`` and ``"１３８００１３８０００"`` all give ``"13800138000"``;
    a landline keeps its area code (``"020-8888 6666"`` → ``"02088886666"``). Empty → ``None``.
    """
    if raw is None:
        return None
    text = to_halfwidth(str(raw)).strip()
    if not text:
        return None
    plus = text.startswith("+")
    digits = _SEPARATORS.sub("", text.lstrip("+"))
    if "转" in digits or "ext" in digits.lower():  # an extension: keep only the main number
        digits = re.split(r"转|ext", digits, flags=re.IGNORECASE)[0]
    if not digits.isdigit():
        digits = "".join(ch for ch in digits if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif (plus or len(digits) == 13) and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


def normalize_account(raw: str | None) -> str | None:
    """A bank account without spaces or separators, letters upper-cased; empty → ``None``."""
    if raw is None:
        return None
    text = _SEPARATORS.sub("", to_halfwidth(str(raw))).upper()
    return text or None


def normalize_address(raw: str | None) -> str | None:
    """Half-width, without whitespace and punctuation, letters upper-cased; empty → ``None``."""
    if raw is None:
        return None
    text = _ADDRESS_NOISE.sub("", to_halfwidth(str(raw))).upper()
    return text or None


def normalize_name(raw: str | None) -> str | None:
    """A name without surrounding or inner whitespace (``"张 三"`` → ``"张三"``); empty → ``None``."""
    if raw is None:
        return None
    text = re.sub(r"\s+", "", to_halfwidth(str(raw)))
    return text or None


def person_key(id_type: str, id_number: str | None, name: str | None, birth: str | None) -> str:
    """Who a party is, for "different people" (§7).

    A resident ID number (身份证 / 户口簿) identifies the person; another document is ``type:number``;
    without a number, name + birth date (ISO) stand in.
    """
    if id_number:
        return id_number if id_type in GB_ID_TYPES else f"{id_type}:{id_number}"
    return f"~{name or ''}|{birth or ''}"


GB_ID_TYPES = frozenset({"身份证", "居民身份证", "户口簿"})
