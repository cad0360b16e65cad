"""Benchmark: a quarterly market report over 500,000 entries (exact Decimal aggregates, 2 charts, .xlsx, markdown),
read from SQLite, next to pandas over the same rows, measured in the same run.

    .venv/bin/python bench/market_report.py [--rows 500000] [--compare-rows 500000] [--repeat 3] [--rows-path]

The reported quarter (2026-Q1) has ``--rows`` entries; the previous quarter and the same quarter last year have
``--compare-rows`` each (the report reads all three). The SQLite file ``var/bench/market.db`` is built once (not
timed) and reused while its row count matches. ``--rows-path`` also times the former path (every row into Python,
``load_rows`` + ``aggregate``). Results: docs/benchmarks.md (market section).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from models.market import MarketEntry
from zhidu.db import make_engine
from zhidu.market.charts import report_charts
from zhidu.market.demo import demo_rows
from zhidu.market.periods import Period, period_for
from zhidu.market.queries import compute_report, load_rows
from zhidu.market.report import MarketReport, aggregate
from zhidu.market.workbook import report_xlsx

DB = Path("var/bench/market.db")
COLUMNS = "entry_date, region, product, competitor, price_type, price, volume"


CPU: dict[str, float] = {}  # label → median CPU seconds of this process (less sensitive to other jobs)


def timed(fn: Callable[[], Any], repeat: int, label: str = "") -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls (the CPU time of this process is kept in ``CPU[label]``)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[label] = statistics.median(cpu)
    return statistics.median(times), result


def database(quarter: Period, rows: int, compare: int) -> Engine:
    """The bench database with the three quarters' rows (built once; generation and inserts are not timed)."""
    DB.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{DB}")
    SQLModel.metadata.create_all(engine, tables=[MarketEntry.__table__])  # type: ignore[attr-defined]
    with Session(engine) as session:
        if session.execute(select(func.count()).select_from(MarketEntry)).scalar_one() == rows + 2 * compare:
            return engine
        session.execute(MarketEntry.__table__.delete())  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        for period, total, seed in ((quarter, rows, 1), (quarter.previous, compare, 2),
                                    (quarter.same_last_year, compare, 3)):
            generated = demo_rows(period.start, period.end, total=total, seed=seed)
            for i in range(0, total, 50_000):
                session.execute(insert(MarketEntry), [r._asdict() for r in generated[i : i + 50_000]])
        session.commit()
    print(f"built {DB} in {time.perf_counter() - t0:.0f} s (not timed)")
    return engine


def full_report(engine: Engine, quarter: Period) -> tuple[MarketReport, int, int]:
    """What the flow does before the review: read + aggregate in the database, charts, xlsx, markdown."""
    with Session(engine) as session:
        report = compute_report(session=session, period=quarter)
    charts = report_charts(report)
    _, xlsx = report_xlsx(report)
    report.to_markdown()
    return report, len(charts), len(xlsx)


def pandas_from_sqlite(engine: Engine, periods: list[Period]) -> list[pd.DataFrame]:
    """pandas reading the same rows from the same file, then grouping with float64 (not exact)."""
    out = []
    with engine.connect() as conn:
        for p in periods:
            df = pd.read_sql_query(f"SELECT {COLUMNS} FROM market_entry WHERE entry_date BETWEEN ? AND ?",
                                   conn.connection.dbapi_connection, params=(p.start.isoformat(), p.end.isoformat()),
                                   dtype={"price": "float64", "volume": "float64"})
            for key in ("region", "product", "competitor"):
                out.append(df.groupby([key, "price_type"]).agg(n=("price", "size"), avg=("price", "mean"),
                                                                  volume=("volume", "sum")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--compare-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows-path", action="store_true", help="also time the former every-row-into-Python path")
    args = parser.parse_args()

    quarter = period_for("quarterly", "2026-Q1")
    periods = [quarter, quarter.previous, quarter.same_last_year]
    engine = database(quarter, args.rows, args.compare_rows)
    full_report(engine, period_for("quarterly", "2024-Q1"))  # warm matplotlib, fonts and the file cache once

    t_full, (report, n_charts, xlsx_bytes) = timed(lambda: full_report(engine, quarter), args.repeat, "full")
    with Session(engine) as session:
        t_read, _ = timed(lambda: compute_report(session=session, period=quarter), args.repeat, "read")
    t_pandas, _ = timed(lambda: pandas_from_sqlite(engine, periods), args.repeat, "pandas")
    print(f"entries in quarter       {report.entry_count:,} (previous {report.previous_count:,}, "
          f"last year {report.last_year_count:,})")
    print(f"read + exact aggregate   {t_read:.3f} s (cpu {CPU['read']:.3f} s)  (compute_report: 3 periods in SQLite)")
    print(f"TOTAL report from SQLite {t_full:.3f} s (cpu {CPU['full']:.3f} s)  (+ {n_charts} PNG charts, xlsx "
          f"{xlsx_bytes:,} bytes, markdown; goal ≤ 5 s)")
    print(f"pandas read_sql + groupby float64 {t_pandas:.3f} s (cpu {CPU['pandas']:.3f} s);  "
          f"total / pandas {t_full / t_pandas:.2f}× (cpu {CPU['full'] / CPU['pandas']:.2f}×)")
    if args.rows_path:
        with Session(engine) as session:
            t_rows, _ = timed(lambda: [aggregate(load_rows(session=session, start=p.start, end=p.end))
                                       for p in periods], 1, "rows")
        print(f"former path: every row into Python (load_rows + aggregate) {t_rows:.3f} s (cpu {CPU['rows']:.3f} s)")
    engine.dispose()


if __name__ == "__main__":
    main()
