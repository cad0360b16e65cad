"""Benchmark: a quarterly market report over 500,000 entries (exact Decimal aggregates, 2 charts, .xlsx, markdown)
next to a plain pandas groupby over the same rows, measured in the same run.

    .venv/bin/python bench/market_report.py [--rows 500000] [--compare-rows 500000] [--repeat 3]

The reported quarter has ``--rows`` entries; the previous quarter and the same quarter last year have
``--compare-rows`` each (the report reads all three). Generation is not timed. Results: docs/benchmarks-market.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from zhidu.market.charts import report_charts
from zhidu.market.demo import demo_rows
from zhidu.market.periods import Period, period_for
from zhidu.market.report import EntryRow, MarketReport, build_report
from zhidu.market.workbook import report_xlsx


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def frame(rows: list[EntryRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": [r.region for r in rows],
            "product": [r.product for r in rows],
            "competitor": [r.competitor for r in rows],
            "price_type": [r.price_type for r in rows],
            "price": [float(r.price) if r.price is not None else None for r in rows],
            "volume": [float(r.volume) if r.volume is not None else None for r in rows],
        }
    )


def pandas_groupby(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The same breakdowns with float64: by region, product and company, per price type, for each period."""
    out = []
    for df in frames:
        for key in ("region", "product", "competitor"):
            out.append(df.groupby([key, "price_type"]).agg(n=("price", "size"), avg=("price", "mean"),
                                                              volume=("volume", "sum")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--compare-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="also time the full path from a SQLite file")
    args = parser.parse_args()

    quarter = period_for("quarterly", "2026-Q1")
    prev, yoy = quarter.previous, quarter.same_last_year
    t0 = time.perf_counter()
    current = demo_rows(quarter.start, quarter.end, total=args.rows, seed=1)
    previous = demo_rows(prev.start, prev.end, total=args.compare_rows, seed=2)
    last_year = demo_rows(yoy.start, yoy.end, total=args.compare_rows, seed=3)
    frames = [frame(current), frame(previous), frame(last_year)]
    print(f"generated {args.rows:,} + 2 × {args.compare_rows:,} rows in {time.perf_counter() - t0:.1f} s (not timed)")

    report_charts(build_report("quarterly", quarter, current[:1000]))  # warm matplotlib and fonts once

    t_report, report = timed(lambda: build_report("quarterly", quarter, current, previous, last_year), args.repeat)
    assert isinstance(report, MarketReport)
    t_charts, charts = timed(lambda: report_charts(report), args.repeat)
    t_xlsx, (name, data) = timed(lambda: report_xlsx(report), args.repeat)
    t_md, _ = timed(report.to_markdown, args.repeat)
    t_pandas, _ = timed(lambda: pandas_groupby(frames), args.repeat)
    total = t_report + t_charts + t_xlsx + t_md

    print(f"entries in quarter     {report.entry_count:,} (previous {report.previous_count:,}, "
          f"last year {report.last_year_count:,})")
    print(f"aggregate (Decimal)    {t_report:.3f} s")
    print(f"charts ({len(charts)} PNG)         {t_charts:.3f} s")
    print(f"xlsx {name}  {t_xlsx:.3f} s ({len(data):,} bytes)")
    print(f"markdown               {t_md:.3f} s")
    print(f"TOTAL report           {total:.3f} s  (goal ≤ 5 s)")
    print(f"pandas groupby float64 {t_pandas:.3f} s")
    print(f"aggregate / pandas     {t_report / t_pandas:.1f}×;  total / pandas {total / t_pandas:.1f}×")
    if args.sqlite:
        sqlite_path(quarter, [current, previous, last_year])


def sqlite_path(quarter: Period, periods: list[list[EntryRow]]) -> None:
    """Store the rows in a SQLite file (not timed) and time ``compute_report`` reading them back."""
    import tempfile
    from pathlib import Path

    from sqlalchemy import insert
    from sqlmodel import Session, SQLModel

    from models.market import MarketEntry
    from zhidu.db import make_engine
    from zhidu.market.queries import compute_report

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine, tables=[MarketEntry.__table__])  # type: ignore[attr-defined]
        with Session(engine) as session:
            for rows in periods:
                for i in range(0, len(rows), 50_000):
                    session.execute(insert(MarketEntry), [r._asdict() for r in rows[i : i + 50_000]])
            session.commit()
            start = time.perf_counter()
            report = compute_report(session=session, period=quarter)
            t_db = time.perf_counter() - start
        engine.dispose()
    print(f"SQLite load + aggregate {t_db:.3f} s for {report.entry_count:,} + comparison rows")


if __name__ == "__main__":
    main()
