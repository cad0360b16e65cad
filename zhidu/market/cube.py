"""Exact per-(region, product, company, price type) sums made in the database, for 500,000+ entries.

PostgreSQL: ``GROUP BY`` with ``SUM`` over NUMERIC — exact as it is.

SQLite keeps prices and volumes as text (its NUMERIC is a float) and has no exact decimal sum. Bringing every row
into Python costs ~2 s per 500,000 rows, so the grouping stays in SQLite and its float ``SUM`` is made exact:
a price has at most 2 decimals (a volume 3), so the true sum of a group is a multiple of 0.01 (0.001), and a float
sum whose error is provably below half of that rounds to it exactly. Per group the query also returns the count,
the largest absolute value and how many texts are *not* plain decimals of that scale (exponent forms, signs, more
decimals). A group with such a text, or whose error bound (``n² · max|x| · 2⁻⁴⁸``, generous for recursive
summation with text-to-float conversion) is not below half a unit, is summed again in Python with ``Decimal`` —
so every result is exact, and the common case costs one sorted scan.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from zhidu.market.report import Cube

PRICE_SCALE = 2  # Money: cents
VOLUME_SCALE = 3  # Quantity: three decimals
ERROR_FACTOR = 2.0**-48

_KEYS = "region, product, competitor, price_type"
_RANGE = "FROM market_entry WHERE entry_date >= :start AND entry_date <= :end"


def _not_plain(col: str, scale: int) -> str:
    """SQL: 1 when the text is not a plain non-negative decimal with at most ``scale`` decimals."""
    return f"({col} GLOB '*[^0-9.]*' OR {col} GLOB '*.{'[0-9]' * (scale + 1)}*')"


_SQLITE_GROUPED = text(
    f"SELECT {_KEYS}, COUNT(*), COUNT(price), TOTAL(price), MAX(abs(price)), SUM({_not_plain('price', PRICE_SCALE)}),"
    f" COUNT(volume), TOTAL(volume), MAX(abs(volume)), SUM({_not_plain('volume', VOLUME_SCALE)}) {_RANGE}"
    f" GROUP BY {_KEYS}"
)
_GROUP_ROWS = text(f"SELECT price, volume {_RANGE} AND region = :r AND product = :p AND competitor = :c"
                   " AND price_type = :t")
_GROUPED = text(f"SELECT {_KEYS}, COUNT(*), COUNT(price), COALESCE(SUM(price), 0), COALESCE(SUM(volume), 0)"
                f" {_RANGE} GROUP BY {_KEYS}")


def exact_from_float(total: float, n: int, max_abs: float | None, scale: int) -> Decimal | None:
    """The exact sum of ``n`` values with at most ``scale`` decimals from their float sum, or None when the float
    error could reach half a unit of the scale."""
    if n == 0:
        return Decimal(0)
    if n * n * (max_abs or 0.0) * ERROR_FACTOR >= 0.5 * 10.0**-scale:
        return None
    return Decimal(f"{total:.{scale}f}")


def _exact_group(session: Session, params: dict[str, Any], key: tuple[str, str, str, str]) -> tuple[Decimal, Decimal]:
    prices, volumes = Decimal(0), Decimal(0)
    region, product, competitor, ptype = key
    for price, volume in session.execute(_GROUP_ROWS, params | {"r": region, "p": product, "c": competitor,
                                                                 "t": ptype}):
        prices += Decimal(price) if price is not None else 0
        volumes += Decimal(volume) if volume is not None else 0
    return prices, volumes


def _sqlite_cube(session: Session, params: dict[str, Any]) -> Cube:
    cube: Cube = {}
    again: list[tuple[str, str, str, str]] = []
    for row in session.execute(_SQLITE_GROUPED, params).all():
        key = (row[0], row[1], row[2], row[3])
        n, priced, p_total, p_max, p_odd, n_vol, v_total, v_max, v_odd = row[4:]
        price = exact_from_float(p_total, priced, p_max, PRICE_SCALE) if not p_odd else None
        volume = exact_from_float(v_total, n_vol, v_max, VOLUME_SCALE) if not v_odd else None
        cube[key] = [n, priced, price, volume]
        if price is None or volume is None:
            again.append(key)
    for key in again:  # rare: odd texts or very large groups — summed exactly in Python
        cube[key][2], cube[key][3] = _exact_group(session, params, key)
    return cube


def load_cube(*, session: Session, start: date, end: date) -> Cube:
    """(region, product, competitor, price type) → [entries, priced entries, price sum, volume sum], exact,
    over the entries dated ``start`` … ``end`` (inclusive)."""
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_cube(session, {"start": start.isoformat(), "end": end.isoformat()})
    rows = session.execute(_GROUPED, {"start": start, "end": end})
    return {(r, p, c, t): [n, priced, Decimal(ps), Decimal(vs)] for r, p, c, t, n, priced, ps, vs in rows}
