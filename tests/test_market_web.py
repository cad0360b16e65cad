"""The market pages: one entry with Chinese validation errors, the archive read with the reader's level checked and
every read and loan logged (篇四 §16)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal as D

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.market import (
    MarketEntry,
    MarketEntryCreate,
    MarketReportLoan,
    MarketReportRead,
    MarketReportRecord,
    Secrecy,
)
from tests.conftest import Zhidu
from zhidu.db import get_engine, session_scope, utcnow
from zhidu.market.access import reader_token, reader_url
from zhidu.market.periods import local_date, period_containing
from zhidu.market.queries import store_entries
from zhidu.market.records import file_immediate_report


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def filed(title: str, secrecy: Secrecy) -> str:
    with session_scope() as session:
        record, _ = file_immediate_report(session=session, title=title, content="竞争对手 13812345678 大幅降价",
                                          filed_by="宋佳", secrecy=secrecy)
        return record.id


def reads() -> list[tuple[str, str, bool]]:
    with Session(get_engine()) as session:
        return [(r.report_id, r.reader_id, r.allowed) for r in session.exec(select(MarketReportRead)).all()]


def test_archive_checks_the_readers_level_and_logs_every_read(zhidu: Zhidu) -> None:
    internal, secret = filed("华中竞争对手降价", Secrecy.internal), filed("华南投标底价", Secrecy.secret)
    client = zhidu.client()
    listing = client.get(f"/market/reports?t={reader_token('mk-analyst')}")
    assert listing.status_code == 200 and "华中竞争对手降价" in listing.text and "华南投标底价" in listing.text
    page = client.get(reader_url("mk-analyst", internal).removeprefix("http://testserver"))
    assert page.status_code == 200 and "竞争对手 138****5678 大幅降价" in page.text and "13812345678" not in page.text
    refused = client.get(reader_url("mk-analyst", secret).removeprefix("http://testserver"))  # 内部 < 秘密
    assert refused.status_code == 403 and "韩旭（内部）无权阅读秘密级报告《华南投标底价》" in refused.text
    allowed = client.get(reader_url("mk-info", secret).removeprefix("http://testserver"))  # clearance:secret
    assert allowed.status_code == 200 and "华南投标底价" in allowed.text
    assert reads() == [(internal, "mk-analyst", True), (secret, "mk-analyst", False), (secret, "mk-info", True)]
    forged = client.get(f"/market/reports/{internal}?t={reader_token('mk-info')}x")
    assert forged.status_code == 403 and "查阅凭证无效" in forged.text
    assert client.get(f"/market/reports/{internal}").status_code == 403
    assert len(reads()) == 3  # no reader, no read


def test_loan_is_recorded_with_purpose_and_return_date(zhidu: Zhidu) -> None:
    report = filed("成品油季度走势", Secrecy.internal)
    client = zhidu.client()
    path = f"/market/reports/{report}/loan?t={reader_token('mk-hz-head')}"
    page = client.get(f"/market/reports/{report}?t={reader_token('mk-hz-head')}")
    bad = client.post(path, data={"csrf": csrf_of(page.text), "purpose": "", "due_back": "下周"})
    assert bad.status_code == 422 and "请填写借阅目的" in bad.text and "归还日期格式应为 YYYY-MM-DD" in bad.text
    assert client.post(path, data={"csrf": "forged", "purpose": "x"}).status_code == 403
    done = client.post(path, data={"csrf": csrf_of(page.text), "purpose": "制定华中促销方案", "place": "华中分公司",
                                   "due_back": "2026-12-10"})
    assert done.status_code == 200 and "已登记借阅" in done.text
    with Session(get_engine()) as session:
        [loan] = session.exec(select(MarketReportLoan)).all()
    assert (loan.report_id, loan.borrower_id, loan.purpose, loan.place, loan.due_back) == (
        report, "mk-hz-head", "制定华中促销方案", "华中分公司", date(2026, 12, 10))
    assert [r[1:] for r in reads()] == [("mk-hz-head", True), ("mk-hz-head", True)]  # the page, then the loan


def test_entry_page_names_each_bad_field_in_chinese_and_stores_a_good_item(zhidu: Zhidu) -> None:
    client: TestClient = zhidu.client()
    path = f"/market/entries/new?t={reader_token('mk-hz-sales')}"
    form = client.get(path)
    assert form.status_code == 200 and "报告人：曹丽" in form.text
    csrf = csrf_of(form.text)
    bad = client.post(path, data={"csrf": csrf, "entry_date": "2026-13-01", "region": "", "product": "92#汽油",
                                  "price_type": "spot", "price": "-5", "volume": "1.23456", "secrecy": "internal"})
    assert bad.status_code == 422
    shown = html.unescape(bad.text)
    for message in ("日期：日期格式应为 YYYY-MM-DD，而不是 '2026-13-01'", "地区：必填", "价格：应为正数：-5",
                    "数量：小数位数不能超过 3 位：1.23456"):
        assert message in shown
    assert 'value="92#汽油"' in bad.text  # what was typed is kept
    with Session(get_engine()) as session:
        assert session.exec(select(MarketEntry)).all() == []
    today = local_date(utcnow())
    good = client.post(path, data={"csrf": csrf, "entry_date": today.isoformat(), "region": "华中",
                                   "product": "92#汽油", "price_type": "spot", "price": "8450.50", "volume": "120",
                                   "competitor": "甲石化", "secrecy": "internal", "currency": "CNY", "unit": "吨"})
    assert good.status_code == 200 and "已登记" in good.text and "即时报告" not in good.text.split("</h1>")[1].split(
        "<form")[0].replace("将自动形成即时报告报主管副总经理", "")
    with Session(get_engine()) as session:
        [stored] = session.exec(select(MarketEntry)).all()
    assert (stored.reporter, stored.price, stored.competitor, stored.entry_date) == ("曹丽", D("8450.50"), "甲石化", today)


def test_entry_past_the_threshold_files_an_immediate_report(zhidu: Zhidu) -> None:
    today = local_date(utcnow())
    week = period_containing("weekly", today).previous
    with session_scope() as session:
        store_entries(session=session, entries=[MarketEntryCreate(entry_date=week.start + timedelta(days=1),
                                                                  region="华南", product="0#柴油", price=D("7600"))])
    client = zhidu.client()
    path = f"/market/entries/new?t={reader_token('mk-hn-sales')}"
    csrf = csrf_of(client.get(path).text)
    page = client.post(path, data={"csrf": csrf, "entry_date": today.isoformat(), "region": "华南",
                                   "product": "0#柴油", "price_type": "spot", "price": "6800", "secrecy": "internal"})
    assert page.status_code == 200
    assert "已形成即时报告《华南本公司0#柴油现货价价格异动（-10.53%）》" in page.text
    with Session(get_engine()) as session:
        [report] = session.exec(select(MarketReportRecord)).all()
    assert (report.kind, report.status, report.filed_by) == ("immediate", "draft", "即时上报规则")
