"""Reading market entries for reports and immediate triggers (plain functions; the caller owns the session)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, bindparam, text
from sqlmodel import Session

from models.market import MarketEntry, MarketEntryCreate, ReportKind
from zhidu.market.cube import load_cube
from zhidu.market.effects import EffectRules, ImmediateTrigger, detect_immediate, load_rules
from zhidu.market.periods import Period, period_containing
from zhidu.market.report import EntryRow, MarketReport, average, report_from_cubes

# Plain SQL without result type processing: 500,000 rows come back several times faster than through the
# Money/enum column types; values are converted here (SQLite returns text, PostgreSQL dates and Decimals).
_ROWS_SQL = text(
    "SELECT entry_date, region, product, price_type, price, volume, competitor FROM market_entry"
    " WHERE entry_date >= :start AND entry_date <= :end"
).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))


def _dec(value: object) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(value) if isinstance(value, str) else Decimal(str(value))


def load_rows(*, session: Session, start: date, end: date) -> Iterator[EntryRow]:
    """Entries dated ``start`` … ``end`` (inclusive) as light rows, streamed in batches."""
    result = session.execute(_ROWS_SQL.execution_options(yield_per=20_000), {"start": start, "end": end})
    fromiso = date.fromisoformat
    for d, region, product, ptype, price, volume, competitor in result:
        yield EntryRow(
            d if isinstance(d, date) else fromiso(d),
            region,
            product,
            ptype,
            _dec(price),
            _dec(volume),
            competitor,
        )


def compute_report(*, session: Session, period: Period, rules: EffectRules | None = None) -> MarketReport:
    """The report of ``period`` (周报/月报/季报) from the database, with 环比 and 同比 comparisons; the sums are made
    in the database (``zhidu.market.cube``), exact."""
    prev, yoy = period.previous, period.same_last_year
    return report_from_cubes(
        ReportKind(period.kind),
        period,
        load_cube(session=session, start=period.start, end=period.end),
        load_cube(session=session, start=prev.start, end=prev.end),
        load_cube(session=session, start=yoy.start, end=yoy.end),
        rules=rules,
    )


def store_entries(*, session: Session, entries: Iterable[MarketEntryCreate]) -> list[MarketEntry]:
    """Insert entries (validated ``MarketEntryCreate``s) and return the rows with their ids."""
    rows = [MarketEntry.model_validate(e) for e in entries]
    session.add_all(rows)
    session.flush()
    return rows


def baseline_averages(*, session: Session, period: Period) -> dict[tuple[str, str, str], Decimal]:
    """Average price per (product, region, price type) over ``period`` (all companies together)."""
    out: dict[tuple[str, str, str], Decimal] = {}
    zero = Decimal(0)
    sums: dict[tuple[str, str, str], list[Decimal]] = {}
    for (region, product, _competitor, ptype), acc in load_cube(
        session=session, start=period.start, end=period.end
    ).items():
        s = sums.setdefault((product, region, ptype), [zero, zero])
        s[0] += acc[1]
        s[1] += acc[2]
    for key, (n, total) in sums.items():
        avg = average(total, int(n))
        if avg is not None:
            out[key] = avg
    return out


def immediate_triggers(
    *,
    session: Session,
    entries: Iterable[MarketEntry | MarketEntryCreate],
    threshold_pct: Decimal | None = None,
    rules: EffectRules | None = None,
) -> list[ImmediateTrigger]:
    """Which new entries call for an immediate report (即时上报): their price moved at least the threshold
    (``market_effects.yaml`` → ``immediate.threshold_pct`` unless given) from the previous period's average
    for the same product, region and price type."""
    settings = (rules or load_rules()).immediate
    threshold = settings.threshold_pct if threshold_pct is None else threshold_pct
    by_base: dict[Period, list[MarketEntry | MarketEntryCreate]] = {}
    for entry in entries:
        by_base.setdefault(period_containing(settings.baseline, entry.entry_date).previous, []).append(entry)
    found: list[ImmediateTrigger] = []
    for base, group in sorted(by_base.items(), key=lambda item: item[0].start):
        found += detect_immediate(
            group, baseline_averages(session=session, period=base), threshold_pct=threshold, baseline_label=base.label
        )
    return found
