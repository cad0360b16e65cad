"""Seeded demo data: a few months of market entries with trends, so that past reports have something to say."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from models.market import MarketEntryCreate, PriceType, Secrecy
from zhidu.market.report import EntryRow

REGIONS = ("华中", "华南", "华东", "华北", "西南")
# product → (category, base RMB price per tonne)
PRODUCTS: dict[str, tuple[str, int]] = {
    "92#汽油": ("成品油", 8600),
    "95#汽油": ("成品油", 9100),
    "0#柴油": ("成品油", 7600),
    "航空煤油": ("成品油", 6900),
    "液化石油气": ("液化气", 5200),
    "甲醇": ("化工产品", 2500),
}
COMPETITORS = ("", "", "甲石化", "乙能源", "丙炼化")  # "" is the company itself (本公司), twice as common
CHANNELS = ("直销", "分销商", "加油站", "电商平台")
SOURCES = ("电话", "面谈", "展会", "数据库", "行业协会", "客户拜访", "第三方机构")
PRICE_TYPES = (PriceType.spot, PriceType.spot, PriceType.list, PriceType.settlement, PriceType.usd_cargo)
USD_RATE = Decimal("7.1")
CENT = Decimal("0.01")


def _price(rng: random.Random, product: str, day_index: int, competitor: str, ptype: PriceType) -> Decimal:
    base = PRODUCTS[product][1]
    direction = 1 if tuple(PRODUCTS).index(product) % 2 else -1  # half the products rise, half fall
    trend = 1 + 0.0004 * day_index * direction * (0.5 if competitor else 1.0)
    value = Decimal(str(round(base * trend * rng.uniform(0.98, 1.02), 2)))
    if ptype == PriceType.list:
        value *= Decimal("1.02")
    elif ptype == PriceType.settlement:
        value *= Decimal("0.99")
    elif ptype == PriceType.usd_cargo:
        value /= USD_RATE
    return value.quantize(CENT)


def demo_entries(start: date, end: date, *, per_day: int = 20, seed: int = 7) -> Iterator[MarketEntryCreate]:
    """``per_day`` entries for each day from ``start`` to ``end`` (inclusive); the same seed gives the same data."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    reporters = [fake.name() for _ in range(8)]
    day = start
    index = 0
    while day <= end:
        for _ in range(per_day):
            product = rng.choice(tuple(PRODUCTS))
            competitor = rng.choice(COMPETITORS)
            ptype = rng.choice(PRICE_TYPES)
            who = competitor or "本公司"
            yield MarketEntryCreate(
                entry_date=day,
                region=rng.choice(REGIONS),
                product=product,
                category=PRODUCTS[product][0],
                price_type=ptype,
                price=_price(rng, product, index, competitor, ptype),
                currency="USD" if ptype == PriceType.usd_cargo else "CNY",
                volume=Decimal(rng.randint(50, 5000)) * (Decimal("0.9") if competitor else Decimal(1)),
                competitor=competitor,
                channel=rng.choice(CHANNELS),
                source=rng.choice(SOURCES),
                content=f"{who}{product}市场动态",
                reporter=rng.choice(reporters),
                secrecy=Secrecy.internal,
            )
        day += timedelta(days=1)
        index += 1


def demo_rows(start: date, end: date, *, total: int, seed: int = 7) -> list[EntryRow]:
    """``total`` light rows spread over ``start`` … ``end`` (for benchmarks: no Faker, no validation)."""
    rng = random.Random(seed)
    days = (end - start).days + 1
    products = tuple(PRODUCTS)
    rows: list[EntryRow] = []
    for i in range(total):
        day_index = i * days // total
        product = products[rng.randrange(len(products))]
        competitor = COMPETITORS[rng.randrange(len(COMPETITORS))]
        ptype = PRICE_TYPES[rng.randrange(len(PRICE_TYPES))]
        rows.append(
            EntryRow(
                start + timedelta(days=day_index),
                REGIONS[rng.randrange(len(REGIONS))],
                product,
                ptype.value,
                _price(rng, product, day_index, competitor, ptype),
                Decimal(rng.randint(50, 5000)),
                competitor,
            )
        )
    return rows


def load_market_demo(today: date) -> tuple[date, int] | None:
    """Store demo entries from the start of the quarter before the previous one up to ``today`` (so a past week,
    month and quarter each have a previous period to compare with), unless entries exist; (first day, count)."""
    from sqlmodel import func, select

    from models.market import MarketEntry
    from zhidu.db import session_scope
    from zhidu.market.periods import period_containing
    from zhidu.market.queries import store_entries

    first = period_containing("quarterly", today).previous.previous.start
    with session_scope() as session:
        if session.exec(select(func.count()).select_from(MarketEntry)).one():
            return None
        stored = store_entries(session=session, entries=demo_entries(first, today - timedelta(days=1)))
        return first, len(stored)


def start_demo() -> str | None:
    """Load the market demo once and start last week's report (the deputy GM's review mail lands in the inbox)."""
    from zhidu.db import utcnow
    from zhidu.market.periods import local_date, previous_period
    from zhidu.market.runs import start_report_run

    now = utcnow()
    loaded = load_market_demo(local_date(now))
    if loaded is None:
        return None
    week = previous_period("weekly", now).label
    start_report_run("weekly", week, "demo")
    return (f"市场信息：已载入演示数据 {loaded[1]} 条（自 {loaded[0].isoformat()} 起），已启动 {week} 周报，"
            f"主管副总经理的批示邮件稍后到达收件箱")
