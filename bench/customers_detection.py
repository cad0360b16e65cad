"""Benchmark: suspicious-customer detection (篇九 §7) on a large book.

(a) the full re-scan (GROUP BY … HAVING COUNT(DISTINCT person_key) > 1) on SQLite vs DuckDB running the same
    grouping over the same rows; plus ``detect_full`` end to end (grouping + cases);
(b) the daily (T+1) detection of one day's policies (default 10,000) against the book: ``detect_range`` over the
    policies stored since the last run (what ``customers-daily-detection`` runs), first run (cases written) and
    again with nothing new; compared with (a) the same way.

    .venv/bin/python bench/customers_detection.py --policies 1000000 --daily 10000

The book is written with plain tuples and ``executemany`` (no Faker, no validation); person keys are unique
18-character strings shaped like ID numbers. Planted: ~0.5 % of policyholders share a phone in pairs, ~0.2 %
share an account, ~2 % of people hold two policies (same person: not suspicious).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

import models.customers  # noqa: F401  (registers the tables)
from models.customers import CaseKind
from zhidu import ROOT
from zhidu.customers.detection import detect_full, detect_range, suspicious_values_sql
from zhidu.db import make_engine

TABLES = ["cust_policy", "cust_party", "cust_agent", "cust_case", "cust_case_member"]
TODAY = date(2025, 11, 3)
T = TypeVar("T")


def _party_rows(rng: random.Random, first_policy: int, n: int, phones: list[int], accounts: list[int],
                person_base: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i in range(n):
        pid = first_policy + i
        person = person_base + i
        phone, account = f"1{phones[i]:010d}", f"6222{accounts[i]:015d}"
        r = rng.random()
        if r < 0.005 and i > 0:  # shares a phone with the previous policyholder: suspicious pair
            phone = rows[-2][5]
        elif r < 0.007 and i > 0:  # shares an account: suspicious pair
            account = rows[-2][7]
        elif r < 0.027 and i > 0:  # the previous policyholder again: same person, not suspicious
            person, phone, account = -1, rows[-2][5], rows[-2][7]
        key = rows[-2][9] if person == -1 else f"44010{person:012d}X"
        holder = (pid, "holder", "客户", "M", "1980-01-01", phone, "广州市天河路1号" + str(person), account,
                  "身份证", key, key)
        insured_key = f"44011{person_base + i:012d}X"
        insured = (pid, "insured", "被保险人", "F", "2010-01-01", None, None, None, "身份证", insured_key, insured_key)
        rows.append(holder[:9] + (holder[9],) + holder[10:])
        rows.append(insured)
    return rows


def _insert(con: sqlite3.Connection, rng: random.Random, batch: str, start: int, count: int, phones: list[int],
            accounts: list[int], reuse_from: int) -> None:
    step = 100_000
    for lo in range(start, start + count, step):
        n = min(step, start + count - lo)
        con.executemany(
            "INSERT INTO cust_policy (id, policy_no, product_code, term, term_unit, channel, agent_code, sign_date,"
            " receipt_date, batch_id, entered_at) VALUES (?, ?, 'L101', 20, 'Y', '个人代理', ?, '2025-10-30',"
            " '2025-10-31', ?, '2025-10-31 08:00:00')",
            [(lo + i + 1, f"P{lo + i + 1:010d}", f"A{(lo + i) % 5000:04d}", batch) for i in range(n)],
        )
        rows = _party_rows(rng, lo + 1, n, phones[lo : lo + n], accounts[lo : lo + n], lo)
        if reuse_from:  # 1 % of the day's policyholders reuse a phone already in the book
            rows = [
                r[:5] + (f"1{phones[rng.randrange(reuse_from)]:010d}",) + r[6:]
                if r[1] == "holder" and rng.random() < 0.01 else r
                for r in rows
            ]
        con.executemany(
            "INSERT INTO cust_party (policy_id, role, name, sex, birth_date, phone, address, bank_account, id_type,"
            " id_number, person_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.commit()


def write_book(path: Path, policies: int, daily: int, seed: int = 7) -> tuple[list[int], list[int]]:
    """The book (batch ``book``) in a fresh SQLite file; returns the phone and account pools (book + day)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables[t] for t in TABLES])
    engine.dispose()
    rng = random.Random(seed)
    phones = rng.sample(range(3 * 10**9, 9 * 10**9), policies + daily)
    accounts = rng.sample(range(10**14), policies + daily)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    index_sql = [r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='cust_party'"
                                           " AND sql IS NOT NULL")]
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='cust_party' "
                               "AND sql IS NOT NULL").fetchall():
        con.execute(f"DROP INDEX {name}")
    _insert(con, rng, "book", 0, policies, phones, accounts, 0)
    for sql in index_sql:
        con.execute(sql)
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return phones, accounts


def write_daily(path: Path, policies: int, daily: int, pools: tuple[list[int], list[int]], seed: int = 8) -> None:
    """The day's batch (``daily``), inserted into the indexed tables as an import would."""
    con = sqlite3.connect(path)
    _insert(con, random.Random(seed), "daily", policies, daily, pools[0], pools[1], policies)
    con.close()


def timed(fn: Callable[..., T], *args: Any) -> tuple[float, T]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--policies", type=int, default=1_000_000)
    ap.add_argument("--daily", type=int, default=10_000)
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "customers.db")
    args = ap.parse_args(argv)
    t_write, pools = timed(write_book, args.db, args.policies, args.daily)
    print(f"book written: {args.policies:,} policies in {t_write:.1f} s", file=sys.stderr)
    import duckdb
    import pandas as pd

    con = sqlite3.connect(args.db)
    frame = pd.read_sql("SELECT phone, bank_account, person_key FROM cust_party", con)
    duck = duckdb.connect()
    duck.execute("CREATE TABLE cust_party AS SELECT * FROM frame")
    del frame
    queries = [suspicious_values_sql(k) for k in (CaseKind.phone, CaseKind.account)]
    sqlite_times, duck_times, groups = [], [], 0
    for _ in range(3):
        s_total = d_total = 0.0
        groups = 0
        for sql in queries:
            t, out = timed(lambda q: con.execute(q).fetchall(), sql)
            s_total += t
            groups += len(out)
            t, out2 = timed(lambda q: duck.execute(q).fetchall(), sql)
            d_total += t
            assert sorted(out2) == sorted(out)
        sqlite_times.append(s_total)
        duck_times.append(d_total)
    con.close()
    engine = make_engine(f"sqlite:///{args.db}")
    with Session(engine) as session:
        t_full, full = timed(lambda: detect_full(session=session, today=TODAY))
        t_again, _ = timed(lambda: detect_full(session=session, today=TODAY))
    engine.dispose()
    write_daily(args.db, args.policies, args.daily, pools)
    engine = make_engine(f"sqlite:///{args.db}")
    with Session(engine) as session:
        day = (args.policies, args.policies + args.daily)
        t_inc, inc = timed(lambda: detect_range(session=session, after_id=day[0], up_to_id=day[1], today=TODAY))
        t_inc_again, _ = timed(lambda: detect_range(session=session, after_id=day[0], up_to_id=day[1], today=TODAY))
    s_best, d_best = min(sqlite_times), min(duck_times)
    print(f"\nBook: {args.policies:,} policies ({2 * args.policies:,} parties), {groups:,} suspicious shared values;"
          f" daily batch {args.daily:,} policies\n")
    print("| measurement | time (s) | ratio |")
    print("|---|---:|---:|")
    print(f"| (a) grouping, DuckDB (phone + account, best of 3) | {d_best:.3f} | 1.00 |")
    print(f"| (a) grouping, SQLite, same SQL (best of 3) | {s_best:.3f} | {s_best / d_best:.2f}× DuckDB |")
    print(f"| (a) `detect_full` end to end, first run ({len(full.new_cases):,} cases opened) | {t_full:.3f} | |")
    print(f"| (a) `detect_full` end to end, re-scan with nothing new | {t_again:.3f} | |")
    print(f"| (b) daily `detect_range`, {args.daily:,} new policies, first run ({len(inc.new_cases):,} new cases, "
          f"{len(inc.grown_cases):,} grown) | {t_inc:.3f} | {t_full / t_inc:.0f}× cheaper than (a) first run |")
    print(f"| (b) daily `detect_range` again, nothing new | {t_inc_again:.3f} | "
          f"{t_again / t_inc_again:.0f}× cheaper than (a) re-scan |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
