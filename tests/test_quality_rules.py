"""Quality intake, the A/B/C decision table, manual override and monthly statistics, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.quality import QualityItem, QualityItemCreate, Source
from tests.conftest import Zhidu
from zhidu.db import get_engine
from zhidu.quality.intake import IntakeError, parse_file, store_items
from zhidu.quality.routing import override_class
from zhidu.quality.stats import month_stats

MON = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def make(**kw: object) -> QualityItemCreate:
    base: dict[str, object] = {"source": Source.inside, "kind": "质量投诉", "title": "t", "description": "d",
                               "departments": ["STORE"], "reporter": "r"}
    return QualityItemCreate.model_validate(base | kw)


def test_decision_table_classes_and_deadlines(zhidu: Zhidu) -> None:
    items = [make(sudden_major=True), make(kind="药品监督公告"), make(departments=["PUR", "WH"]), make()]
    with Session(get_engine()) as session:
        stored = store_items(session=session, items=items, now=MON)
        rows = session.exec(select(QualityItem).order_by(QualityItem.number)).all()
    assert [s.qclass for s in stored] == ["A", "A", "B", "C"]
    assert [r.class_rule for r in rows] == ["突发重大", "监管公告", "多部门", "单部门"]
    assert [r.number for r in rows] == ["ZL-2026-0001", "ZL-2026-0002", "ZL-2026-0003", "ZL-2026-0004"]
    # A: 1 working day, C: 3 working days, end of day Shanghai (16:00 UTC)
    assert rows[0].decision_due == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert rows[3].decision_due == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert rows[0].owner == "GM" and rows[2].owner == "QA" and rows[3].owner == "STORE"


def test_bad_item_refuses_the_whole_batch(zhidu: Zhidu) -> None:
    with Session(get_engine()) as session, pytest.raises(IntakeError) as err:
        store_items(session=session, items=[make(), make(departments=["NOPE"], title=" ")], now=MON)
    assert err.value.problems == ["第 2 条 字段「涉及部门」：未知部门 NOPE", "第 2 条 字段「标题」：不能为空"]
    with Session(get_engine()) as session:
        assert session.exec(select(QualityItem)).all() == []


def test_import_file_lists_every_bad_row_and_field(zhidu: Zhidu, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("来源,类别,标题,内容,涉及部门,报告人,异常,突发重大\n"
                    "外部,质量投诉,破损,包装破损,STORE,郑客服,否,否\n"
                    "境外,质量投诉,破损,包装破损,STORE,郑客服,否,否\n"
                    "内部,质量投诉,,包装破损,仓库X,郑客服,,\n", encoding="utf-8")
    with pytest.raises(IntakeError) as err:
        parse_file(path)
    assert err.value.problems == ["第 3 行 字段「来源」：应为 内部 或 外部，而不是 境外", "第 4 行 字段「标题」：缺失"]
    good = tmp_path / "good.csv"
    good.write_text("来源,类别,标题,内容,涉及部门,报告人,异常,突发重大\n内部,质量信息反馈单,温度,温度缺失,\"PUR,WH\",吴仓管,是,\n",
                    encoding="utf-8-sig")
    [item] = parse_file(good)
    assert (item.departments, item.abnormal, item.sudden_major) == (["PUR", "WH"], True, False)


def test_override_records_who_and_why(zhidu: Zhidu) -> None:
    with Session(get_engine(), expire_on_commit=False) as session:
        store_items(session=session, items=[make()], now=MON)
        with pytest.raises(ValueError):
            override_class(session=session, number="ZL-2026-0001", qclass="A", by="钱质量", reason=" ")  # type: ignore[arg-type]
        item = override_class(session=session, number="ZL-2026-0001", qclass="A", by="钱质量", reason="涉及召回")  # type: ignore[arg-type]
    assert (item.qclass, item.class_rule, item.override_by, item.override_reason, item.owner) == (
        "A", "manual", "钱质量", "涉及召回", "GM")


def test_month_stats_counts_and_overdue(zhidu: Zhidu) -> None:
    with Session(get_engine()) as session:
        store_items(session=session, items=[make(), make(departments=["PUR", "WH"]), make(sudden_major=True)], now=MON)
        stats = month_stats(session=session, month=date(2026, 12, 1), now=datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    assert stats.total == 3 and dict(stats.by_class) == {"C": 1, "B": 1, "A": 1}
    assert stats.by_department["STORE"] == 2 and stats.by_department["PUR"] == 1
    assert stats.overdue == ["ZL-2026-0003"]  # the A item: 1 working day and 24 h feedback both missed


def test_two_intakes_at_the_same_moment_get_distinct_numbers(zhidu: Zhidu) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    barrier = Barrier(4)

    def intake(i: int) -> list[str]:
        item = QualityItemCreate(source=Source.outside, kind="质量投诉", title=f"并发登记 {i}", departments=["STORE"],
                                 description="包装破损", reporter="郑客服")
        with Session(get_engine()) as session:
            barrier.wait()
            return [s.number for s in store_items(session=session, items=[item, item], now=now)]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(intake, range(4)) for n in batch]
    assert sorted(numbers) == [f"ZL-2026-{i:04d}" for i in range(1, 9)]
    with Session(get_engine()) as session:
        assert len(session.exec(select(QualityItem)).all()) == 8
