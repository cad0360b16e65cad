"""Exactly-once report claims, immediate triggers, and the archive's access control and logs (篇四 §15–§16)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.market import (
    MarketEntryCreate,
    MarketReportLoan,
    MarketReportRead,
    MarketReportRecord,
    PriceType,
    ReportStatus,
    Secrecy,
)
from tests.dbs import new_database_url
from zhidu.db import make_engine
from zhidu.market.periods import period_for
from zhidu.market.queries import compute_report, immediate_triggers, store_entries
from zhidu.market.records import (
    Reader,
    ReportAccessDenied,
    advance,
    borrow_report,
    can_read,
    claim_report,
    file_immediate_report,
    read_report,
    return_report,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(new_database_url(tmp_path, "market"))
    yield eng
    eng.dispose()


def test_claim_is_exactly_once_across_sessions(engine: Engine) -> None:
    week = period_for("weekly", "2026-W48")
    with Session(engine) as first:
        record, created = claim_report(session=first, kind="weekly", label=week.label, period=week)
        first.commit()
        assert created is True
        assert record.title == "市场信息周报 2026-W48"
    with Session(engine) as rerun:  # a re-run, redeploy or duplicate scheduled run
        again, created_again = claim_report(session=rerun, kind="weekly", label=week.label, period=week)
        rerun.commit()
        assert (again.id, created_again, again.period_start) == (record.id, False, date(2026, 11, 23))
    with Session(engine) as other:
        monthly, created_monthly = claim_report(session=other, kind="monthly", label="2026-11")
        other.commit()
        assert created_monthly is True
        assert len(other.exec(select(MarketReportRecord)).all()) == 2


def test_status_moves_once(engine: Engine) -> None:
    with Session(engine) as s:
        record, _ = claim_report(session=s, kind="quarterly", label="2026-Q1")
        s.commit()
        assert advance(session=s, report_id=record.id, to=ReportStatus.in_review) is True
        assert advance(session=s, report_id=record.id, to=ReportStatus.in_review) is False
        assert advance(session=s, report_id=record.id, to=ReportStatus.distributed, approver="mk-dgm",
                       instruction="华中加大促销力度") is True
        assert advance(session=s, report_id=record.id, to=ReportStatus.distributed, approver="x") is False
        s.commit()
        stored = s.get(MarketReportRecord, record.id)
        assert stored is not None
        assert (stored.status, stored.approver, stored.instruction) == (
            ReportStatus.distributed, "mk-dgm", "华中加大促销力度")


def entry(day: date, price: str, competitor: str = "") -> MarketEntryCreate:
    return MarketEntryCreate(entry_date=day, region="华南", product="0#柴油", price_type=PriceType.spot,
                             price=D(price), volume=D("10"), competitor=competitor)


def test_immediate_trigger_and_manual_filing_share_the_record_kind(engine: Engine) -> None:
    with Session(engine) as s:
        store_entries(session=s, entries=[entry(date(2026, 3, 2), "7000"), entry(date(2026, 3, 4), "7200")])
        new = [entry(date(2026, 3, 10), "7700"), entry(date(2026, 3, 10), "7500", "乙能源")]
        triggers = immediate_triggers(session=s, entries=new)  # baseline 2026-W10 average 7100.00, 8 %
        assert [(t.price, t.baseline, t.change_pct, t.baseline_label) for t in triggers] == [
            (D("7700"), D("7100.00"), D("8.45"), "2026-W10")]
        assert triggers[0].label == "2026-03-10/华南/0#柴油/spot/本公司"
        assert immediate_triggers(session=s, entries=new, threshold_pct=D("5")) != triggers
        record, created = file_immediate_report(session=s, title="华南柴油现货价大涨", content="详见附表",
                                                filed_by="mk-info", trigger=triggers[0])
        again, created_again = file_immediate_report(session=s, title="重复检测", content="",
                                                     filed_by="mk-info", trigger=triggers[0])
        manual, created_manual = file_immediate_report(session=s, title="竞争对手新建油库", content="……",
                                                       filed_by="mk-head", label="2026-03-11/manual/1")
        s.commit()
        assert (created, created_again, created_manual, again.id) == (True, False, True, record.id)
        assert record.trigger is not None and record.trigger["change_pct"] == "8.45"
        assert (manual.kind, record.kind, record.period_start) == ("immediate", "immediate", date(2026, 3, 10))


def test_compute_report_reads_the_database(engine: Engine) -> None:
    with Session(engine) as s:
        store_entries(session=s, entries=[entry(date(2026, 3, 2), "7000.10"), entry(date(2026, 3, 8), "7000.15"),
                                          entry(date(2026, 3, 9), "1")])
        report = compute_report(session=s, period=period_for("weekly", "2026-W10"))
        assert (report.entry_count, report.overall[0].avg_price, report.overall[0].volume) == (
            2, D("7000.13"), D("20"))  # 14000.25 / 2 = 7000.125, half-up


def test_can_read_levels() -> None:
    assert can_read(Secrecy.secret, Secrecy.internal) is True
    assert can_read(Secrecy.internal, Secrecy.internal) is True
    assert can_read("internal", "confidential") is False
    assert can_read(Secrecy.public, Secrecy.internal) is False


def test_archive_read_is_checked_and_logged_and_loans_are_recorded(engine: Engine) -> None:
    analyst = Reader("mk-analyst", "韩旭", Secrecy.internal)
    head = Reader("mk-head", "林晓梅", Secrecy.secret)
    with Session(engine) as s:
        record, _ = claim_report(session=s, kind="quarterly", label="2026-Q1", secrecy=Secrecy.secret)
        s.commit()
        assert read_report(session=s, report_id=record.id, reader=head).id == record.id
        with pytest.raises(ReportAccessDenied, match="韩旭（内部）无权阅读秘密级报告《市场信息季报 2026-Q1》"):
            read_report(session=s, report_id=record.id, reader=analyst)
        s.commit()  # the refusal stays in the log
        loan = borrow_report(session=s, report_id=record.id, reader=head, purpose="季度经营分析会", place="市场部")
        s.commit()
        assert loan.id is not None
        returned = return_report(session=s, loan_id=loan.id)
        first_return = returned.returned_at
        assert return_report(session=s, loan_id=loan.id).returned_at == first_return
        s.commit()
    with Session(engine) as s:
        log = [(r.reader_id, r.allowed) for r in s.exec(select(MarketReportRead).order_by(col(MarketReportRead.id)))]
        assert log == [("mk-head", True), ("mk-analyst", False), ("mk-head", True)]
        loans = s.exec(select(MarketReportLoan)).all()
        assert [(x.report_title, x.borrower_id, x.purpose, x.place, x.returned_at is not None) for x in loans] == [
            ("市场信息季报 2026-Q1", "mk-head", "季度经营分析会", "市场部", True)]
