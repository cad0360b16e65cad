"""Masking of phones, bank accounts and ID numbers (脱敏)."""

from __future__ import annotations

import pytest

from zhidu.masking import mask_account, mask_id, mask_phone, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13800138000", "138****8000"),
        ("138 0013 8000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("+86 138-0013-8000", "+86 138****8000"),
        ("+8613800138000", "+86 138****8000"),
        ("008613800138000", "+86 138****8000"),
        ("010-12345678", "010-****5678"),
        ("(0755) 1234567", "0755-***4567"),
        ("075512345678", "0755-****5678"),
        ("+86 10 1234 5678", "+86 010-****5678"),
        ("12345", "*****"),
        ("95588123", "****8123"),
        ("138", "***"),
        ("abc", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(raw: str | None, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("6222021234567890123", "6222***********0123"),
        ("6222 0212 3456 7890", "6222********7890"),
        ("6222-0212-3456-7890", "6222********7890"),
        ("12345678", "********"),
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_account(raw: str | None, masked: str) -> None:
    assert mask_account(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010519491231002X", "110***********002X"),
        ("11010519491231002x", "110***********002X"),
        ("110105491231002", "110********1002"),
        ("1101", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id(raw: str | None, masked: str) -> None:
    assert mask_id(raw) == masked


def test_mask_text_masks_every_kind_inside_chinese_text() -> None:
    text = (
        "客户张三，电话13800138000，身份证11010519491231002X，旧证110105491231002，"
        "卡号6222021234567890123，卡 6222 0212 3456 7890，座机010-12345678，手机 +86 139-1234-5678。"
    )
    assert mask_text(text) == (
        "客户张三，电话138****8000，身份证110***********002X，旧证110********1002，"
        "卡号6222***********0123，卡 6222********7890，座机010-****5678，手机 +86 139****5678。"
    )


def test_mask_text_leaves_amounts_dates_orders_and_tokens_alone() -> None:
    text = "订单 20261203123456 金额 1380013800.00 日期 2026-12-03 token ab13800138000cd 编号 ZL-2026-0001"
    assert mask_text(text) == text


def test_mask_text_is_idempotent_and_handles_empty() -> None:
    once = mask_text("电话 13800138000")
    assert mask_text(once) == "电话 138****8000"
    assert mask_text("") == ""
    assert mask_text(None) == ""


def test_a_report_body_renders_as_html_masked_and_escaped() -> None:
    from zhidu.templating import markdown_html

    html = markdown_html("# 周报\n\n| 地区 | 联系人 |\n|---|---|\n| 华中 | 13800138000 |\n\n<script>alert(1)</script>")
    assert "<h1>周报</h1>" in html and "<table>" in html and "|---|" not in html
    assert "138****8000" in html and "13800138000" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
