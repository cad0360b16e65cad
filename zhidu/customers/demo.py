"""A seeded demo book for the suspicious-customer review: agents, policies (as the core system exports them),
complaints, and a known set of planted suspicious groups.

Planted (``DemoBook.planted``; detection must find exactly these, nothing else):

1. ``phone`` — three different policyholders share one mobile, written three ways (``138…``, ``+86 138-…``,
   full-width digits).
2. ``account`` — two different policyholders share one bank account (one written with spaces).
3. ``agent_phone`` — a policyholder gives agent ``A0001``'s mobile as their own (§11).
4. ``agent_address`` — a policyholder gives agent ``A0002``'s address (with different spacing/punctuation).

Not suspicious, on purpose: one person holding two policies with the same phone and account (same ID number),
policyholder and insured of one policy (family), insured minors without an ID number. Every other phone,
account and address is unique. Agent ``A0003`` has three verified mis-selling complaints in the last year (§14).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker
from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from zhidu.customers.importing import AGENT_HEADERS, COMPLAINT_HEADERS, write_policy_csv
from zhidu.customers.normalize import normalize_account, normalize_address, normalize_phone

CHANNELS = ("个人代理", "银行保险")
PRODUCTS = ("L101", "L102", "L103", "H201", "H202", "A301")


def stable_region_codes() -> list[str]:
    """County codes valid in every year (no start/end in stdnum's table): safe for any birth year."""
    codes: list[str] = []
    data = Path(numdb.__file__).parent / "cn" / "loc.dat"
    province = ""
    for raw in data.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#") or not raw.strip():
            continue
        if not raw.startswith(" "):
            province = raw.split()[0]
            continue
        part, _, rest = raw.strip().partition(" ")
        if part.endswith("00") or "[" in rest or len(part) != 4:
            continue
        codes.append(province + part)
    return codes


def make_id_number(rng: random.Random, regions: list[str], birth: date, male: bool) -> str:
    """A valid 18-digit resident ID number (check character by ISO 7064 MOD 11-2)."""
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    body = f"{rng.choice(regions)}{birth:%Y%m%d}{seq:03d}"
    return body + mod_11_2.calc_check_digit(body)


@dataclass
class Planted:
    kind: str
    value: str  # normalised
    policy_nos: list[str]


@dataclass
class DemoBook:
    agents: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)

    def write(self, directory: Path) -> dict[str, Path]:
        """agents.csv, policies.csv, complaints.csv in the export formats."""
        import csv

        directory.mkdir(parents=True, exist_ok=True)
        paths = {"agents": directory / "agents.csv", "policies": directory / "policies.csv",
                 "complaints": directory / "complaints.csv"}
        for kind, headers in (("agents", AGENT_HEADERS), ("complaints", COMPLAINT_HEADERS)):
            with paths[kind].open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=headers)
                writer.writeheader()
                writer.writerows(getattr(self, kind))
        write_policy_csv(paths["policies"], self.policies)
        return paths


class _Unique:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        self.accounts: set[str] = set()

    def phone(self) -> str:
        while True:
            p = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def account(self) -> str:
        while True:
            a = f"6222{self.rng.randrange(10**15):015d}"
            if a not in self.accounts:
                self.accounts.add(a)
                return a


def build_demo_book(*, policies: int = 300, agents: int = 12, seed: int = 9458, today: date = date(2025, 11, 3)
                    ) -> DemoBook:
    """A deterministic book; ``today`` is the import day (sign dates fall in the month before)."""
    if policies < 20:
        raise ValueError("the demo book needs at least 20 policies to plant its groups")
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    regions = stable_region_codes()
    uniq = _Unique(rng)
    addresses: set[str] = set()

    def address() -> str:
        while True:
            a = fake.address().split(" ")[0]
            if normalize_address(a) not in addresses:
                addresses.add(normalize_address(a) or "")
                return a

    book = DemoBook()
    for i in range(agents):
        channel = CHANNELS[i % 2]
        book.agents.append({
            "业务员代码": f"A{i + 1:04d}", "姓名": fake.name(), "联系电话": uniq.phone(), "联系地址": address(),
            "所属团队": f"{'营销' if channel == '个人代理' else '银保'}{i % 3 + 1}组", "销售渠道": channel,
            "代理机构": "" if channel == "个人代理" else f"{fake.city_name()}支行", "证件号码": "",
        })

    def person(adult: bool = True) -> dict[str, Any]:
        male = rng.random() < 0.5
        age_days = rng.randrange(20 * 365, 65 * 365) if adult else rng.randrange(365, 15 * 365)
        birth = today - timedelta(days=age_days)
        return {"name": fake.name_male() if male else fake.name_female(), "sex": "男" if male else "女",
                "birth": birth, "id": make_id_number(rng, regions, birth, male)}

    for n in range(policies):
        agent = book.agents[n % agents]
        holder = person()
        minor = rng.random() < 0.3
        insured = person(adult=not minor) if rng.random() < 0.6 else None
        sign = today - timedelta(days=rng.randrange(1, 8))
        row = {
            "保单号": f"P{today:%Y}{n + 1:07d}", "险种代码": rng.choice(PRODUCTS), "保险期间": rng.choice((1, 10, 20)),
            "期间单位": "年", "销售渠道": agent["销售渠道"], "业务员代码": agent["业务员代码"],
            "代理机构": agent["代理机构"], "签单日期": sign.isoformat(),
            "回执签收日期": min(today, sign + timedelta(days=rng.randrange(1, 5))).isoformat(),
            "保费": f"{rng.randrange(1000, 50000)}.00",
            "投保人姓名": holder["name"], "投保人性别": holder["sex"], "投保人出生日期": holder["birth"].isoformat(),
            "投保人证件类型": "身份证", "投保人证件号码": holder["id"], "投保人联系电话": uniq.phone(),
            "投保人联系地址": address(), "投保人银行账号": uniq.account(),
        }
        if insured is None:
            row["与投保人关系"] = "本人"
        else:
            row.update({
                "被保险人姓名": insured["name"], "被保险人性别": insured["sex"],
                "被保险人出生日期": insured["birth"].isoformat(), "被保险人证件类型": "身份证",
                "被保险人证件号码": "" if minor and rng.random() < 0.5 else insured["id"],
                "与投保人关系": "子女" if minor else rng.choice(("配偶", "父母")),
            })
        book.policies.append(row)
    _plant(book, uniq)
    book.complaints = demo_complaints(today)
    return book


def _plant(book: DemoBook, uniq: _Unique) -> None:
    p = book.policies
    shared = uniq.phone()
    wide = shared.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for row, shown in zip((p[3], p[7], p[11]), (shared, f"+86 {shared[:3]}-{shared[3:7]}-{shared[7:]}", wide),
                          strict=True):
        row["投保人联系电话"] = shown
    book.planted.append(Planted("phone", shared, [p[3]["保单号"], p[7]["保单号"], p[11]["保单号"]]))
    account = p[5]["投保人银行账号"]
    p[13]["投保人银行账号"] = " ".join(account[i : i + 4] for i in range(0, len(account), 4))
    book.planted.append(Planted("account", normalize_account(account) or "", [p[5]["保单号"], p[13]["保单号"]]))
    # the same person on two policies: same ID, phone and account, not suspicious
    for key in ("投保人姓名", "投保人性别", "投保人出生日期", "投保人证件号码", "投保人联系电话", "投保人联系地址",
                "投保人银行账号"):
        p[17][key] = p[15][key]
    agent_phone = book.agents[0]["联系电话"]
    p[9]["投保人联系电话"] = agent_phone
    book.planted.append(Planted("agent_phone", normalize_phone(agent_phone) or "", [p[9]["保单号"]]))
    agent_address = book.agents[1]["联系地址"]
    p[19]["投保人联系地址"] = " " + agent_address[:3] + " " + agent_address[3:] + "。"
    book.planted.append(Planted("agent_address", normalize_address(agent_address) or "", [p[19]["保单号"]]))


def demo_complaints(today: date) -> list[dict[str, Any]]:
    """Three verified complaints against A0003 within the year, one old one and one unverified against A0004."""
    return [
        {"投诉编号": "TS001", "业务员代码": "A0003", "投诉日期": (today - timedelta(days=20)).isoformat(),
         "是否查实": "是", "投诉摘要": "夸大收益"},
        {"投诉编号": "TS002", "业务员代码": "A0003", "投诉日期": (today - timedelta(days=200)).isoformat(),
         "是否查实": "是", "投诉摘要": "未说明犹豫期"},
        {"投诉编号": "TS003", "业务员代码": "A0003", "投诉日期": (today - timedelta(days=300)).isoformat(),
         "是否查实": "是", "投诉摘要": "混淆存款与保险"},
        {"投诉编号": "TS004", "业务员代码": "A0004", "投诉日期": (today - timedelta(days=400)).isoformat(),
         "是否查实": "是", "投诉摘要": "夸大收益"},
        {"投诉编号": "TS005", "业务员代码": "A0004", "投诉日期": (today - timedelta(days=10)).isoformat(),
         "是否查实": "否", "投诉摘要": "夸大收益"},
    ]


DEMO_POLICIES = 60


def load_demo(today: date) -> list[tuple[int, str]] | None:
    """Import a small demo book (agents, policies, complaints) and run the T+1 detection once; None when the
    book is already loaded. Returns the open cases to investigate: exactly the planted ones."""
    import tempfile

    from sqlmodel import func, select

    from models.customers import Policy
    from zhidu.customers.daily import open_cases, run_daily_detection
    from zhidu.customers.importing import import_agents, import_complaints, import_policies
    from zhidu.db import session_scope

    with session_scope() as session:
        if session.exec(select(func.count()).select_from(Policy)).one():
            return None
    book = build_demo_book(policies=DEMO_POLICIES, today=today)
    with tempfile.TemporaryDirectory() as tmp, session_scope() as session:
        paths = book.write(Path(tmp))
        import_agents(paths["agents"], session=session)
        import_complaints(paths["complaints"], session=session)
        import_policies(paths["policies"], session=session, today=today)
        _, result = run_daily_detection(session=session, today=today)
        return open_cases(session=session, case_ids=result.changed)


def start_demo() -> str | None:
    """Load the demo book, raise its planted cases and start their investigation runs; a console line."""
    from flows.customers_detection import start_investigation_run
    from zhidu.db import utcnow
    from zhidu.workdays import get_calendar

    cases = load_demo(get_calendar().local_date(utcnow()))
    if cases is None:
        return None
    for case_id, number in cases:
        start_investigation_run(case_id, number, "demo")
    return f"可疑客户：已导入演示保单 {DEMO_POLICIES} 件，列入清单并启动排查 {'、'.join(n for _, n in cases)}"
