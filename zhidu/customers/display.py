"""How case values are shown to people: always masked (phones, accounts, addresses)."""

from __future__ import annotations

from zhidu.masking import mask_account, mask_id, mask_phone

KIND_LABEL = {
    "phone": "同一电话号码多名客户",
    "account": "同一银行账号多名客户",
    "agent_phone": "客户电话与业务员电话相同",
    "agent_address": "客户地址与业务员地址相同",
}
STATUS_LABEL = {"open": "待排查", "cleared": "已排除可疑", "corrected": "已修正", "confirmed_false": "查实虚假"}


def mask_address(value: str | None) -> str:
    """The first six characters of an address, the rest starred (at most eight stars)."""
    if not value:
        return ""
    keep = min(6, len(value) // 2)
    return value[:keep] + "*" * min(8, len(value) - keep)


def mask_value(kind: str, value: str | None) -> str:
    """The matched value of a case as people may see it."""
    if kind in ("phone", "agent_phone"):
        return mask_phone(value)
    if kind == "account":
        return mask_account(value)
    if kind == "agent_address":
        return mask_address(value)
    return mask_id(value)
