"""Benchmark: import of a core-system policy export (篇九 §5, §6 checks included), rows per second.

    .venv/bin/python bench/customers_import.py --rows 100000

The CSV is generated fast (plain tuples, no Faker per row) with valid ID numbers; about 1 % of rows carry a
bad check character, so they are rejected and listed.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel
from stdnum.iso7064 import mod_11_2

import models.customers  # noqa: F401
from zhidu import ROOT
from zhidu.customers.entry import ALL_POLICY_HEADERS
from zhidu.customers.importing import import_policies
from zhidu.db import make_engine

TODAY = date(2025, 11, 3)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"]


def write_csv(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    index = {h: i for i, h in enumerate(ALL_POLICY_HEADERS)}
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ALL_POLICY_HEADERS)
        for n in range(rows):
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
            male = rng.random() < 0.5
            body = f"110105{birth:%Y%m%d}{rng.randrange(500) * 2 + male:03d}"
            pid = body + mod_11_2.calc_check_digit(body)
            if rng.random() < 0.01:
                pid = pid[:17] + ("0" if pid[17] != "0" else "1")
            row = [""] * len(ALL_POLICY_HEADERS)
            for h, v in (("保单号", f"B{n:09d}"), ("险种代码", "L101"), ("保险期间", "20"), ("期间单位", "年"),
                         ("销售渠道", "个人代理"), ("业务员代码", f"A{n % 3000:04d}"), ("签单日期", "2025-10-30"),
                         ("回执签收日期", "2025-10-31"), ("保费", "3600.00"),
                         ("投保人姓名", rng.choice(SURNAMES) + rng.choice(GIVEN)),
                         ("投保人性别", "男" if male else "女"),
                         ("投保人出生日期", birth.isoformat()), ("投保人证件号码", pid),
                         ("投保人联系电话", f"13{rng.randrange(10**9):09d}"), ("投保人联系地址", f"北京市西城区{n}号"),
                         ("投保人银行账号", f"6222{n:015d}"), ("与投保人关系", "本人")):
                row[index[h]] = v
            w.writerow(row)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=ROOT / "var" / "bench")
    args = ap.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    csv_path, db = args.dir / "policies_import.csv", args.dir / "customers_import.db"
    write_csv(csv_path, args.rows)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        t = time.perf_counter()
        s = import_policies(csv_path, session=session, today=TODAY, progress=sys.stderr.isatty())
        first = time.perf_counter() - t
        t = time.perf_counter()
        again = import_policies(csv_path, session=session, today=TODAY)
        second = time.perf_counter() - t
    assert s.reconciles and again.reconciles and again.stored == 0
    print(f"\n| import of {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB CSV) | time (s) | rows/s |")
    print("|---|---:|---:|")
    print(f"| first import: {s.stored:,} stored, {s.rejected:,} rejected | {first:.2f} | {args.rows / first:,.0f} |")
    print(f"| same file again: {again.duplicates:,} duplicates, {again.rejected:,} rejected | {second:.2f} "
          f"| {args.rows / second:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
