"""Market reports end to end: a real Prefect server and runner, real SMTP, the real web app (篇四 §15–§16, 篇七)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal as D

from sqlmodel import Session, col, select

from models.market import MarketEntryCreate, MarketReportRead, MarketReportRecord, PriceType, ReportStatus
from tests.conftest import Stack
from tests.prefect_stack import poll
from tests.test_quality_flow import decide, link_in, mail_to
from zhidu.db import get_engine, session_scope, utcnow
from zhidu.devmail import InboxItem
from zhidu.market.intake import register_entries
from zhidu.market.periods import local_date, period_containing
from zhidu.market.queries import store_entries
from zhidu.market.runs import IMMEDIATE_DEPLOYMENT, start_immediate_run

WEEKLY = "market-report/market-weekly-report"
DGM = "dgm.market@hb-oil.example.com"
DEPARTMENTS = ["finance@hb-oil.example.com", "hn.head@hb-oil.example.com", "hz.head@hb-oil.example.com",
               "logistics@hb-oil.example.com", "market.analyst@hb-oil.example.com", "market.head@hb-oil.example.com",
               "market.info@hb-oil.example.com"]


def entry(day: date, price: str, volume: str, product: str = "92#汽油", region: str = "华中",
          competitor: str = "") -> MarketEntryCreate:
    return MarketEntryCreate(entry_date=day, region=region, product=product, price_type=PriceType.spot,
                             price=D(price), volume=D(volume), competitor=competitor, reporter="曹丽")


def ready(stack: Stack, name: str) -> None:
    """The runner registers deployments one by one: wait for this one before starting runs of it."""
    poll(lambda: stack.prefect.deployment_id(name), 120, f"the deployment {name}")


def mails(stack: Stack, subject_part: str) -> list[InboxItem]:
    return [m for m in stack.zhidu.inbox.list() if subject_part in m.subject]


def record(kind: str, label: str) -> MarketReportRecord:
    with Session(get_engine()) as session:
        return session.exec(select(MarketReportRecord).where(MarketReportRecord.kind == kind,
                                                             MarketReportRecord.label == label)).one()


def test_weekly_report_review_then_distribution_once_despite_a_duplicate_run(stack: Stack) -> None:
    with session_scope() as session:  # 2026-W48 is 2026-11-23 … 2026-11-29; W47 the week before
        store_entries(session=session, entries=[
            entry(date(2026, 11, 17), "8000", "100"), entry(date(2026, 11, 24), "8400", "150"),
            entry(date(2026, 11, 25), "8200", "90", competitor="甲石化"), entry(date(2026, 11, 18), "8500", "80",
                                                                            competitor="甲石化")])
    ready(stack, WEEKLY)
    runs = [stack.prefect.run(WEEKLY, {"kind": "weekly", "period": "2026-W48"}) for _ in range(2)]
    review = mail_to(stack, DGM, "市场信息周报 2026-W48 请批示", timeout=120)
    states = poll(lambda: sorted(s["type"] for s in map(stack.prefect.state, runs)) == ["COMPLETED", "PAUSED"]
                  and [stack.prefect.state(r)["type"] for r in runs], 120, "one run paused, the duplicate done")
    waiting = runs[states.index("PAUSED")]
    review_text = stack.zhidu.inbox.get(review.id).text or ""
    assert "本期信息：2 条" in review_text and "本公司92#汽油现货价均价环比上涨5.00%" in review_text
    assert record("weekly", "2026-W48").status == ReportStatus.in_review

    instruction = "华中分公司密切关注竞争对手降价，本周内提出应对方案。"
    decide(stack.zhidu.client(), link_in(stack, review), "approve", instruction)
    stack.prefect.wait_state(waiting, "COMPLETED", timeout=120)
    sent = poll(lambda: len(mails(stack, "【批示下发】市场信息周报 2026-W48")) == len(DEPARTMENTS)
                and mails(stack, "【批示下发】市场信息周报 2026-W48"), 60, "the distribution")
    assert sorted(r for m in sent for r in m.recipients) == DEPARTMENTS
    got = stack.zhidu.inbox.get(next(m.id for m in sent if "hz.head@hb-oil.example.com" in m.recipients))
    text = got.text or ""
    assert text.index(instruction) < text.index("【有利影响与不利影响】")  # the instruction on top
    assert "【领导批示】（冯建军，" in text
    html_part = got.message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert html.index(instruction) < html.index("有利影响与不利影响")
    cids = re.findall(r'src="cid:([^"]+)"', html)
    images = {str(p["Content-ID"]).strip("<>"): p.get_payload(decode=True) for p in got.message.walk()
              if p.get_content_type() == "image/png"}
    assert cids and sorted(cids) == sorted(images) and all(b.startswith(b"\x89PNG") for b in images.values())
    [xlsx] = got.attachments
    assert (xlsx.filename, xlsx.content[:2]) == ("市场信息周报_2026-W48.xlsx", b"PK")
    raw = (stack.zhidu.root / "var" / "mail" / f"{got.item.id}.eml").read_text()
    assert "filename*0*=utf-8''%E5%B8%82%E5%9C%BA" in raw  # RFC 2231 (with continuations): common clients decode it

    done = record("weekly", "2026-W48")
    assert (done.status, done.instruction, done.approver) == (ReportStatus.distributed, instruction, "冯建军")
    # exactly once: a third run after the distribution sends nothing
    late = stack.prefect.run(WEEKLY, {"kind": "weekly", "period": "2026-W48"})
    stack.prefect.wait_state(late, "COMPLETED", timeout=120)
    assert len(mails(stack, "市场信息周报 2026-W48 请批示")) == 1
    assert len(mails(stack, "【批示下发】市场信息周报 2026-W48")) == len(DEPARTMENTS)

    # the archive: the link in the mail reads the report, and the read is logged
    url = re.search(r"http://testserver(/market/reports/\S+)", text)
    assert url, text
    page = stack.zhidu.client().get(url.group(1))
    assert page.status_code == 200 and instruction in page.text and "市场信息周报 2026-W48" in page.text
    with Session(get_engine()) as session:
        reads = session.exec(select(MarketReportRead).where(MarketReportRead.report_id == done.id)).all()
    assert [(r.reader_id, r.allowed) for r in reads] == [("mk-hz-head", True)]


def test_price_jump_files_an_immediate_report_reviewed_and_distributed(stack: Stack) -> None:
    today = local_date(utcnow())
    last_week = period_containing("weekly", today).previous
    with session_scope() as session:
        store_entries(session=session, entries=[entry(last_week.start + timedelta(days=i), p, "100", "95#汽油",
                                                      "华北") for i, p in enumerate(("9000", "9200"))])
    with session_scope() as session:
        registered = register_entries(session=session, entries=[entry(today, "10010", "60", "95#汽油", "华北",
                                                                      "乙能源")], today=today)
        [report] = registered.new_reports
        report_id, title = report.id, report.title
    assert title == "华北乙能源95#汽油现货价价格异动（+10.00%）"
    ready(stack, IMMEDIATE_DEPLOYMENT)
    run = start_immediate_run(report_id, title, "test")
    review = mail_to(stack, DGM, f"{title} 请批示", timeout=120)
    stack.prefect.wait_state(run, "PAUSED")
    decide(stack.zhidu.client(), link_in(stack, review), "approve", "华北分公司跟踪乙能源动向，每日报价。")
    stack.prefect.wait_state(run, "COMPLETED", timeout=120)
    sent = poll(lambda: len(mails(stack, f"【即时上报】{title}")) == len(DEPARTMENTS)
                and mails(stack, f"【即时上报】{title}"), 60, "the immediate distribution")
    text = stack.zhidu.inbox.get(sent[0].id).text or ""
    assert text.index("华北分公司跟踪乙能源动向") < text.index("较上期")
    assert f"乙能源95#汽油现货价为10010，较上期（{last_week.label}）均价9100.00变动+10.00%" in text
    with Session(get_engine()) as session:
        stored = session.get(MarketReportRecord, report_id)
        assert stored is not None and stored.status == ReportStatus.distributed
        # the same entry seen again files nothing new
        again = register_entries(session=session, entries=[entry(today, "10010", "60", "95#汽油", "华北", "乙能源")],
                                 today=today)
        assert (len(again.triggers), again.new_reports) == (1, [])
        assert session.exec(select(MarketReportRecord).where(col(MarketReportRecord.kind) == "immediate")).all()
