"""Importing market entries and forms: row-level errors, valid rows kept, counts reconcile."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D
from pathlib import Path

from openpyxl import Workbook

from models.market import FormType, PriceType, Secrecy
from zhidu.market.forms import import_forms
from zhidu.market.importing import RowError, import_entries

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def test_sample_csv_keeps_valid_rows_and_names_each_error() -> None:
    result = import_entries(SAMPLES / "market_entries.csv")
    assert (result.read, len(result.accepted), result.rejected, result.reconciles) == (8, 5, 3, True)
    assert result.rejected_rows == [6, 7, 8]
    assert result.errors == [
        RowError(6, "地区", "必填"),
        RowError(7, "日期", "日期格式应为 YYYY-MM-DD，而不是 '2026-03-32'"),
        RowError(7, "价格类型", "应为 现货价/挂牌价/结算价/美元船货价 之一，而不是 '批发价'"),
        RowError(7, "价格", "不是数字：'abc'"),
        RowError(7, "数量", "应为非负数：-5"),
        RowError(7, "密级", "应为 公开/内部/秘密/机密 之一，而不是 '绝密'"),
        RowError(8, "价格", "小数位数不能超过 2 位：2510.123"),
    ]
    assert str(result.errors[0]) == "第6行 地区：必填"
    first, _, third, usd, last = result.accepted
    assert (first.entry_date, first.price, first.volume, first.competitor) == (
        date(2026, 3, 2), D("8650.00"), D("120.5"), "")
    assert (third.price_type, third.volume, third.secrecy) == (PriceType.list, None, Secrecy.public)
    assert (usd.price_type, usd.currency, usd.secrecy) == (PriceType.usd_cargo, "USD", Secrecy.secret)
    assert (last.secrecy, last.content) == (Secrecy.internal, "")


def test_xlsx_with_date_and_number_cells() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["日期", "地区", "产品", "价格类型", "价格", "数量"])
    ws.append([date(2026, 3, 2), "华中", "0#柴油", "结算价", 7600.5, 12])
    ws.append([None, None, None, None, None, None])  # blank rows are not rows
    ws.append(["2026/03/03", "华中", "0#柴油", "spot", "7,650.25", "1.2345"])
    buf = io.BytesIO()
    wb.save(buf)
    result = import_entries(buf.getvalue(), filename="上报.xlsx")
    assert (result.read, len(result.accepted), result.rejected) == (2, 1, 1)
    assert (result.accepted[0].price, result.accepted[0].volume) == (D("7600.5"), D("12"))
    assert result.errors == [RowError(4, "数量", "小数位数不能超过 3 位：1.2345")]


def test_customer_opinion_forms() -> None:
    result = import_forms(SAMPLES / "market_forms_customer_opinion.csv", FormType.customer_opinion)
    assert (result.read, len(result.accepted), result.rejected) == (3, 2, 1)
    assert result.errors == [
        RowError(4, "季度", "期间应如 2026-Q1，而不是 '2026-W12'"),
        RowError(4, "顾客", "必填"),
        RowError(4, "满意度", "应为 非常满意/满意/一般/不满意 之一，而不是 '很好'"),
        RowError(4, "意见内容", "必填"),
    ]
    form = result.accepted[1]
    assert (form.period_label, form.submitted_on, form.customer, form.region) == (
        "2026-Q1", date(2026, 3, 21), "某出租车公司", "华南")
    assert form.answers == {"product": "92#汽油", "satisfaction": "不满意", "opinion": "加油站排队时间长", "major": "是"}


def test_sales_feedback_accepts_week_month_and_quarter() -> None:
    csv_text = (
        "期间,填报日期,填报人,地区,产品,本期销量\n"
        "2026-W10,2026-03-08,曹丽,华中,0#柴油,120.5\n"
        "2026-03,2026-03-31,曹丽,华中,0#柴油,500\n"
        "2026-Q1,2026-03-31,曹丽,华中,0#柴油,x\n"
    )
    result = import_forms(csv_text.encode(), FormType.sales_feedback, filename="反馈.csv")
    assert [f.period_label for f in result.accepted] == ["2026-W10", "2026-03"]
    assert result.accepted[0].answers == {"product": "0#柴油", "sales_volume": "120.5"}
    assert result.errors == [RowError(4, "本期销量", "不是数字：'x'")]
