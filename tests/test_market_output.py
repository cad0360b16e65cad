"""The report mail, markdown, .xlsx and charts: Chinese, strict templates, inline images."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from jinja2 import UndefinedError
from openpyxl import load_workbook

from zhidu.mail import build_message, send_email
from zhidu.market.periods import period_for
from zhidu.market.render import add_inline_images, report_context, report_email
from zhidu.market.report import EntryRow, build_report
from zhidu.templating import render

WEEK = period_for("weekly", "2026-W48")


def rows(day: date, price: str, volume: str, competitor: str = "") -> list[EntryRow]:
    return [EntryRow(day, "华中", "92#汽油", "spot", D(price), D(volume), competitor),
            EntryRow(day, "华南", "0#柴油", "list", D(price), D(volume), competitor)]


REPORT = build_report("weekly", WEEK, rows(date(2026, 11, 24), "8400", "150") + rows(date(2026, 11, 25), "8000",
                      "90", "甲石化"), rows(date(2026, 11, 17), "8000", "100"))


class Capture:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def test_an_undefined_variable_is_an_error() -> None:
    context = report_context(REPORT)
    del context["span"]
    with pytest.raises(UndefinedError, match="'span' is undefined"):
        render("email/market_report.html", **context)


def test_report_mail_in_chinese_with_xlsx_and_inline_charts() -> None:
    mail = report_email(REPORT)
    assert mail.subject == "市场信息周报 2026-W48（2026-11-23 至 2026-11-29）"
    assert [a.filename for a in mail.attachments] == ["市场信息周报_2026-W48.xlsx"]
    assert [c.cid for c in mail.inline_images] == ["market-volume-region-2026-W48@zhidu",
                                                   "market-price-product-2026-W48@zhidu"]
    assert all(c.content.startswith(b"\x89PNG\r\n\x1a\n") for c in mail.inline_images)
    capture = Capture()
    send_email(to=["dgm.market@hb-oil.example.com"], subject=mail.subject, template=mail.template,
               context=mail.context, attachments=mail.attachments, mailer=capture)
    parsed = message_from_bytes(capture.sent[0].as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "市场信息周报 2026-W48（2026-11-23 至 2026-11-29）"
    html = parsed.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert '<img src="cid:market-volume-region-2026-W48@zhidu"' in html
    assert "【较大】本公司92#汽油现货价均价环比上涨5.00%，毛利空间扩大" in html
    text = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "华中 现货价：2 条，均价 8,200.00（环比 +2.50%，同比 —），数量 240（环比 +140.00%，同比 —）" in text
    names = [part.get_filename() for part in parsed.iter_attachments()]
    assert names == ["市场信息周报_2026-W48.xlsx"]


def test_inline_images_become_related_parts() -> None:
    mail = report_email(REPORT)
    message = build_message(to=["a@example.com"], subject=mail.subject, html="<img src='cid:x'>", text="t")
    add_inline_images(message, mail.inline_images)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    ids = [part["Content-ID"] for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert ids == ["<market-volume-region-2026-W48@zhidu>", "<market-price-product-2026-W48@zhidu>"]


def test_xlsx_sheets_and_values() -> None:
    mail = report_email(REPORT, with_charts=False)
    wb = load_workbook(io.BytesIO(mail.attachments[0].content))
    assert wb.sheetnames == ["概况", "总体", "按地区", "按产品", "按企业", "影响分析"]
    region = [list(r) for r in wb["按地区"].iter_rows(values_only=True)]
    assert region[0][:6] == ["项目", "价格类型", "条数", "均价", "上期均价", "均价环比(%)"]
    assert region[1][:6] == ["华中", "现货价", 2, 8200, 8000, 2.5]
    assert wb["概况"]["B4"].value == 4


def test_empty_report_mail_says_so_and_has_no_charts() -> None:
    empty = build_report("monthly", period_for("monthly", "2026-02"), [])
    mail = report_email(empty)
    assert mail.inline_images == []
    html = render("email/market_report.html", **mail.context)
    assert "本期无市场信息，无可汇总的数据。" in html
    assert mail.attachments[0].filename == "市场信息月报_2026-02.xlsx"
