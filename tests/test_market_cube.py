"""Sums made in the database (zhidu.market.cube) equal the exact Decimal sums made in Python, for every text form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlmodel import Session

from models.market import MarketEntryCreate, PriceType
from zhidu.market.cube import exact_from_float, load_cube
from zhidu.market.queries import load_rows, store_entries
from zhidu.market.report import aggregate

DAY = date(2026, 11, 24)


def entry(price: D | None, volume: D | None, day: date = DAY, region: str = "华中", competitor: str = "",
          ptype: PriceType = PriceType.spot) -> MarketEntryCreate:
    return MarketEntryCreate(entry_date=day, region=region, product="92#汽油", price_type=ptype, price=price,
                             volume=volume, competitor=competitor)


def test_cube_is_exact_for_plain_odd_and_missing_values(session: Session) -> None:
    store_entries(session=session, entries=[
        entry(D("8400.10"), D("150")), entry(D("8400.2"), D("0.125")), entry(D("8400"), None),
        entry(None, D("12.5")),
        entry(D("1E+3"), D("1E+2")),  # exponent forms (str(Decimal) keeps them): added in Python
        entry(D("0.005"), D("12.3456")),  # more decimals than the scale: added in Python, not rounded
        entry(D("123456789012345.67"), D("1")),  # too long for the SQL path
        entry(D("7000.01"), D("1"), competitor="甲石化"), entry(D("1.1"), D("2"), ptype=PriceType.usd_cargo),
        entry(D("9999"), D("9999"), day=date(2026, 11, 30)),  # outside the range
    ])
    session.commit()
    cube = load_cube(session=session, start=date(2026, 11, 23), end=date(2026, 11, 29))
    assert cube == aggregate(load_rows(session=session, start=date(2026, 11, 23), end=date(2026, 11, 29)))
    assert cube[("华中", "92#汽油", "", "spot")] == [
        7, 6, D("8400.10") + D("8400.2") + D("8400") + D("1000") + D("0.005") + D("123456789012345.67"),
        D("150") + D("0.125") + D("12.5") + D("100") + D("12.3456") + D("1")]
    assert cube[("华中", "92#汽油", "甲石化", "spot")] == [1, 1, D("7000.01"), D("1")]
    assert cube[("华中", "92#汽油", "", "usd_cargo")] == [1, 1, D("1.1"), D("2")]
    assert load_cube(session=session, start=date(2026, 12, 1), end=date(2026, 12, 7)) == {}


def test_float_sum_is_taken_only_when_its_error_cannot_reach_half_a_cent() -> None:
    tenth = sum([0.1] * 10)
    assert tenth != 1.0 and exact_from_float(tenth, 10, 0.1, 2) == D("1.00")
    assert exact_from_float(0.0, 0, None, 3) == D(0)
    assert exact_from_float(1e12, 100_000, 1e7, 2) is None  # 10¹⁰ · 10⁷ · 2⁻⁴⁸ ≥ 0.005: summed in Python instead
