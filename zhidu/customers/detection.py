"""Suspicious-customer detection (§7, §11): one case per shared value, kept up to date as groups grow.

* ``phone`` / ``account``: one normalised phone or bank account on two or more *different people*
  (different ``person_key``: the normalised ID number, or name + birth date without one). The same person on
  several policies is not suspicious.
* ``agent_phone`` / ``agent_address``: a customer's phone or address equal to an agent's (§11), unless the customer
  is that agent (same ID number).

``detect_incremental`` looks up only the values of one import batch, through the indexes
``(phone, person_key)``, ``(bank_account, person_key)``, ``address`` and the agent indexes: its cost grows with the
batch, not the book. ``detect_full`` re-scans everything with ``GROUP BY … HAVING COUNT(DISTINCT person_key) > 1``.
Both create new cases, add new members to existing ones (re-opening a closed case: a new policy joined it) and
report what changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlmodel import Session, SQLModel, col, select

from models.customers import CLOSED_STATUSES, CaseKind, CaseMember, CaseStatus, SuspiciousCase
from zhidu.customers.deadlines import investigation_deadline, resolve_product
from zhidu.db import utcnow
from zhidu.workdays import WorkCalendar, get_calendar

SHARED_COLUMN = {CaseKind.phone: "phone", CaseKind.account: "bank_account"}
AGENT_COLUMN = {CaseKind.agent_phone: "phone", CaseKind.agent_address: "address"}
IN_CHUNK = 500


@dataclass
class DetectionResult:
    new_cases: list[int] = field(default_factory=list)
    grown_cases: list[int] = field(default_factory=list)
    checked_parties: int = 0

    @property
    def changed(self) -> list[int]:
        return self.new_cases + self.grown_cases


@dataclass
class _Group:
    kind: CaseKind
    value: str
    members: set[tuple[int, int]] = field(default_factory=set)  # (party_id, policy_id)
    agent_code: str | None = None


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _shared_groups(session: Session, kind: CaseKind, values: Sequence[str] | None) -> list[_Group]:
    """Groups of different people sharing a value; ``values`` limits the lookup (None: the whole book)."""
    col_name = SHARED_COLUMN[kind]
    groups: dict[str, _Group] = {}
    if values is None:
        grouped = suspicious_values_sql(kind)
        sql = (f"SELECT p.id, p.policy_id, p.{col_name} FROM cust_party p "
               f"JOIN ({grouped}) g ON g.{col_name} = p.{col_name}")
        for party_id, policy_id, value in session.execute(text(sql)).all():
            groups.setdefault(value, _Group(kind, value)).members.add((party_id, policy_id))
        return list(groups.values())
    # one index seek per value on (value, person_key); grouping the few rows found is done here
    stmt = text(
        f"SELECT id, policy_id, {col_name}, person_key FROM cust_party WHERE {col_name} IN :vals"
    ).bindparams(bindparam("vals", expanding=True))
    for batch in _chunks(sorted(values)):
        found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for party_id, policy_id, value, person in session.execute(stmt, {"vals": list(batch)}).all():
            found[value].append((party_id, policy_id, person))
        for value, rows in found.items():
            if len({person for _, _, person in rows}) > 1:
                groups[value] = _Group(kind, value, {(party, policy) for party, policy, _ in rows})
    return list(groups.values())


def _agent_groups(session: Session, kind: CaseKind, values: Sequence[str] | None) -> list[_Group]:
    """Customers whose phone/address equals an agent's, the agent themself excepted."""
    col = AGENT_COLUMN[kind]
    sql = (
        f"SELECT a.code, p.id, p.policy_id, p.{col} FROM cust_agent a JOIN cust_party p ON p.{col} = a.{col} "
        f"WHERE a.{col} IS NOT NULL AND (a.id_number IS NULL OR p.id_number IS NULL OR p.id_number <> a.id_number)"
    )
    groups: dict[str, _Group] = {}
    batches: Iterable[Sequence[str] | None] = [None] if values is None else _chunks(sorted(values))
    for batch in batches:
        if batch is None:
            rows = session.execute(text(sql)).all()
        else:
            stmt = text(sql + f" AND a.{col} IN :vals").bindparams(bindparam("vals", expanding=True))
            rows = session.execute(stmt, {"vals": list(batch)}).all()
        for code, party_id, policy_id, value in rows:
            group = groups.setdefault(value, _Group(kind, value, agent_code=code))
            group.agent_code = min(group.agent_code or code, code)
            group.members.add((party_id, policy_id))
    return list(groups.values())


def _policy_facts(session: Session, policy_ids: set[int]) -> dict[int, tuple[date | None, str, str]]:
    facts: dict[int, tuple[date | None, str, str]] = {}
    stmt = text("SELECT id, receipt_date, product_code, channel FROM cust_policy WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for batch in _chunks(sorted(policy_ids)):
        for pid, receipt, product, channel in session.execute(stmt, {"ids": list(batch)}).all():
            if isinstance(receipt, str):
                receipt = date.fromisoformat(receipt)
            facts[pid] = (receipt, product, channel)
    return facts


class _Deadlines:
    """Investigation deadlines for one run, computed once per (receipt date, product)."""

    def __init__(self, facts: dict[int, tuple[date | None, str, str]], today: date, cal: WorkCalendar) -> None:
        self.facts, self.today, self.cal = facts, today, cal
        self.cache: dict[tuple[date | None, str], datetime] = {}

    def of(self, policy_ids: Iterable[int]) -> datetime:
        out: list[datetime] = []
        for pid in policy_ids:
            receipt, product, _ = self.facts[pid]
            key = (receipt, product)
            if key not in self.cache:
                prod = resolve_product(product)
                self.cache[key] = investigation_deadline(self.today, receipt, prod, calendar=self.cal)
            out.append(self.cache[key])
        return min(out)


def _apply(session: Session, groups: list[_Group], today: date, result: DetectionResult) -> None:
    """Open a case per new group, add new members to known ones; commits."""
    if not groups:
        session.commit()
        return
    facts = _policy_facts(session, {pid for g in groups for _, pid in g.members})
    deadlines = _Deadlines(facts, today, get_calendar())
    now = utcnow()
    by_kind: dict[CaseKind, list[_Group]] = defaultdict(list)
    for g in groups:
        by_kind[g.kind].append(g)
    pending: list[tuple[SuspiciousCase, set[tuple[int, int]], bool]] = []
    for kind, kind_groups in by_kind.items():
        cases: dict[str, SuspiciousCase] = {}
        for batch in _chunks([g.value for g in kind_groups]):
            query = select(SuspiciousCase).where(SuspiciousCase.kind == kind, col(SuspiciousCase.value).in_(batch))
            cases.update({c.value: c for c in session.exec(query)})
        known: dict[int, set[int]] = defaultdict(set)
        for batch in _chunks([c.id for c in cases.values()]):
            member_query = select(CaseMember.case_id, CaseMember.party_id).where(col(CaseMember.case_id).in_(batch))
            for case_id, party_id in session.exec(member_query):
                known[case_id].add(party_id)
        for g in kind_groups:
            case = cases.get(g.value)
            if case is None:
                case = SuspiciousCase(
                    kind=kind,
                    value=g.value,
                    list_date=today,
                    deadline=deadlines.of(pid for _, pid in g.members),
                    channel=facts[max(pid for _, pid in g.members)][2],
                    agent_code=g.agent_code,
                    created_at=now,
                    updated_at=now,
                )
                pending.append((case, g.members, True))
                continue
            added = {m for m in g.members if m[0] not in known[case.id or 0]}
            if not added:
                continue
            deadline = deadlines.of(pid for _, pid in added)
            if case.status in CLOSED_STATUSES:
                case.status, case.list_date, case.deadline = CaseStatus.open, today, deadline
                case.closed_at = case.closed_by = None
            else:
                case.deadline = min(case.deadline, deadline)
            case.channel = facts[max(pid for _, pid in added)][2]
            case.updated_at = now
            pending.append((case, added, False))
    session.add_all(case for case, _, _ in pending)
    session.flush()
    member_rows = []
    for case, added, is_new in pending:
        assert case.id is not None
        (result.new_cases if is_new else result.grown_cases).append(case.id)
        member_rows += [
            {"case_id": case.id, "party_id": party, "policy_id": policy, "added_at": now} for party, policy in added
        ]
    if member_rows:
        session.execute(insert(SQLModel.metadata.tables["cust_case_member"]), member_rows)
    session.commit()


def detect_values(
    *, session: Session, phones: Iterable[str] = (), accounts: Iterable[str] = (), addresses: Iterable[str] = (),
    today: date | None = None,
) -> DetectionResult:
    """Detection limited to these normalised values, each checked against the whole book by index."""
    today = today or get_calendar().local_date(utcnow())
    ph, ac, ad = sorted(set(phones)), sorted(set(accounts)), sorted(set(addresses))
    groups = (
        _shared_groups(session, CaseKind.phone, ph)
        + _shared_groups(session, CaseKind.account, ac)
        + _agent_groups(session, CaseKind.agent_phone, ph)
        + _agent_groups(session, CaseKind.agent_address, ad)
    )
    result = DetectionResult()
    _apply(session, groups, today, result)
    return result


def _values_of(session: Session, where: str, params: dict[str, Any]) -> tuple[list[str], list[str], list[str], int]:
    sql = f"SELECT p.phone, p.bank_account, p.address FROM cust_party p WHERE {where}"
    stmt = text(sql)
    for name, value in params.items():
        if isinstance(value, list):
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    rows = session.execute(stmt, params).all()
    phones = [r[0] for r in rows if r[0]]
    accounts = [r[1] for r in rows if r[1]]
    addresses = [r[2] for r in rows if r[2]]
    return phones, accounts, addresses, len(rows)


def detect_incremental(*, session: Session, batch_id: str, today: date | None = None) -> DetectionResult:
    """T+1 (§7): check the parties of one import batch against the whole book, by indexed lookups only."""
    where = "p.policy_id IN (SELECT id FROM cust_policy WHERE batch_id = :batch)"
    phones, accounts, addresses, n = _values_of(session, where, {"batch": batch_id})
    result = detect_values(session=session, phones=phones, accounts=accounts, addresses=addresses, today=today)
    result.checked_parties = n
    return result


def detect_policies(*, session: Session, policy_ids: Sequence[int], today: date | None = None) -> DetectionResult:
    """Detection for the parties of these policies (e.g. an agent's book, §14)."""
    result = DetectionResult()
    for batch in _chunks(list(policy_ids)):
        phones, accounts, addresses, n = _values_of(session, "p.policy_id IN :ids", {"ids": list(batch)})
        part = detect_values(session=session, phones=phones, accounts=accounts, addresses=addresses, today=today)
        result.new_cases += part.new_cases
        result.grown_cases += [c for c in part.grown_cases if c not in result.grown_cases]
        result.checked_parties += n
    return result


def detect_full(*, session: Session, today: date | None = None) -> DetectionResult:
    """A full re-scan of the book (SQL GROUP BY … HAVING COUNT(DISTINCT person_key) > 1, and agent joins)."""
    today = today or get_calendar().local_date(utcnow())
    groups: list[_Group] = []
    for kind in SHARED_COLUMN:
        groups += _shared_groups(session, kind, None)
    for kind in AGENT_COLUMN:
        groups += _agent_groups(session, kind, None)
    result = DetectionResult(checked_parties=int(session.execute(text("SELECT COUNT(*) FROM cust_party")).scalar_one()))
    _apply(session, groups, today, result)
    return result


def suspicious_values_sql(kind: CaseKind) -> str:
    """The grouping query of the full scan for one shared kind (also run on DuckDB by the benchmark)."""
    col = SHARED_COLUMN[kind]
    return (
        f"SELECT {col} FROM cust_party WHERE {col} IS NOT NULL "
        f"GROUP BY {col} HAVING COUNT(DISTINCT person_key) > 1"
    )
