"""Report aggregates against hand-computed values (exact Decimal), effects by the data rules, empty periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from zhidu.market.effects import load_rules, pct_change
from zhidu.market.periods import period_for
from zhidu.market.report import EntryRow, build_report

WEEK = period_for("weekly", "2026-W10")  # 2026-03-02 … 2026-03-08


def row(region: str, ptype: str, price: str | None, volume: str | None, competitor: str = "") -> EntryRow:
    return EntryRow(date(2026, 3, 3), region, "92#汽油", ptype, D(price) if price else None,
                    D(volume) if volume else None, competitor)


CURRENT = [
    row("华中", "spot", "8000.00", "100"),
    row("华中", "spot", "8100.00", "50.5"),
    row("华南", "spot", "8201.00", "10"),
    row("华中", "spot", "7800", "200", "甲石化"),
    row("华中", "list", None, None),  # text-only information: counted, no price, no volume
]
PREVIOUS = [row("华中", "spot", "7800.00", "100"), row("华中", "spot", "8100", "100", "甲石化")]
LAST_YEAR = [row("华中", "spot", "7500", "80")]


def test_breakdown_by_region_is_exact() -> None:
    report = build_report("weekly", WEEK, CURRENT, PREVIOUS, LAST_YEAR)
    assert (report.entry_count, report.previous_count, report.last_year_count) == (5, 2, 1)
    central = {(s.key, s.price_type): s for s in report.by_region}
    spot = central[("华中", "spot")]
    assert (spot.count, spot.avg_price, spot.volume) == (3, D("7966.67"), D("350.5"))  # 23900/3
    assert (spot.prev_avg_price, spot.prev_volume) == (D("7950.00"), D("200"))
    assert spot.price_change_pct == D("0.21")  # (7966.67 − 7950) × 100 / 7950 = 0.2096…
    assert spot.volume_change_pct == D("75.25")
    assert spot.price_yoy_pct == D("6.22")  # 466.67 × 100 / 7500 = 6.2222…
    assert spot.volume_yoy_pct == D("338.13")  # 270.5 × 100 / 80 = 338.125, half-up
    south = central[("华南", "spot")]
    assert (south.avg_price, south.prev_avg_price, south.price_change_pct) == (D("8201.00"), None, None)
    text_only = central[("华中", "list")]
    assert (text_only.count, text_only.avg_price, text_only.volume) == (1, None, D(0))


def test_breakdown_by_company_and_overall() -> None:
    report = build_report("weekly", WEEK, CURRENT, PREVIOUS, LAST_YEAR)
    company = {(s.key, s.price_type): s for s in report.by_competitor}
    own = company[("本公司", "spot")]
    assert (own.avg_price, own.prev_avg_price, own.price_change_pct) == (D("8100.33"), D("7800.00"), D("3.85"))
    rival = company[("甲石化", "spot")]
    assert (rival.avg_price, rival.price_change_pct, rival.volume_change_pct) == (D("7800.00"), D("-3.70"), D("100.00"))
    overall = {s.price_type: s for s in report.overall}
    assert (overall["spot"].avg_price, overall["spot"].volume) == (D("8025.25"), D("360.5"))  # 32101/4
    assert [s.key for s in report.by_product] == ["92#汽油", "92#汽油"]


def test_effects_follow_the_rules_file() -> None:
    report = build_report("weekly", WEEK, CURRENT, PREVIOUS, LAST_YEAR, rules=load_rules())
    found = [(e.code, e.effect, e.price_type, e.magnitude, e.size) for e in report.effects]
    assert found == [
        ("price_gap_widening", "unfavourable", "现货价", D("3.85"), "一般"),
        ("competitor_price_down", "unfavourable", "现货价", D("3.70"), "一般"),
        ("own_volume_up", "favourable", "现货价", D("60.50"), "重大"),
        ("own_price_up", "favourable", "现货价", D("3.85"), "一般"),
    ]
    assert report.effects[0].text == "92#汽油现货价本公司与竞争对手价差扩大（本公司+3.85%，竞争对手-3.70%），存在客户流失风险"
    assert [e.code for e in report.favourable] == ["own_volume_up", "own_price_up"]


def test_table_rows_for_the_artifact() -> None:
    report = build_report("weekly", WEEK, CURRENT, PREVIOUS, LAST_YEAR)
    rows = report.to_table_rows()
    assert len(rows) == 2 + 3 + 2 + 3
    assert rows[2] == {
        "分类": "按地区", "项目": "华中", "价格类型": "挂牌价", "条数": "1", "均价": "—", "均价环比": "—",
        "均价同比": "—", "数量": "0", "数量环比": "—", "数量同比": "—",
    }
    assert rows[3]["均价"] == "7,966.67"
    assert rows[3]["数量同比"] == "+338.13%"


def test_empty_period_says_so() -> None:
    report = build_report("weekly", WEEK, [], PREVIOUS, LAST_YEAR)
    assert report.empty
    assert (report.by_region, report.effects) == ([], [])
    markdown = report.to_markdown()
    assert "本期无市场信息，无可汇总的数据。" in markdown
    assert "本期信息：0 条；上期（2026-W09）：2 条；去年同期（2025-W10）：1 条" in markdown


def test_pct_change_edges() -> None:
    assert pct_change(D("1"), D("0")) is None
    assert pct_change(None, D("1")) is None
    assert pct_change(D("2"), D("3")) == D("-33.33")
    assert pct_change(D("1.005"), D("1")) == D("0.50")
