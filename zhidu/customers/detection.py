"""Suspicious-customer detection (§7, §11): one case per shared value, kept up to date as groups grow.

* ``phone`` / ``account``: one normalised phone or bank account on two or more *different people*
  (different ``person_key``: the normalised ID number, or name + birth date without one). The same person on
  several policies is not suspicious.
* ``agent_phone`` / ``agent_address``: a customer's phone or address equal to an agent's (§11), unless the customer
  is that agent (same ID number).

``detect_incremental`` (one import batch) and ``detect_range`` (the policies entered since the last daily run) look
up only the new parties' values, in one set-based statement per kind, through the indexes ``(phone, person_key)``,
``(bank_account, person_key)``, ``address`` and the agent indexes: their cost grows with the batch, not the book.
``detect_full`` re-scans everything with ``GROUP BY … HAVING COUNT(DISTINCT person_key) > 1``.
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
                case.closed_at = case.closed_by = case.checked_at = case.checked_by = None
                case.round += 1
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


def _scope_stmt(sql: str, params: dict[str, Any]) -> Any:
    stmt = text(sql)
    for name, value in params.items():
        if isinstance(value, list):
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    return stmt


SCOPE_TABLE = "cust_scope_values"  # a TEMP table: the new parties' values of one detection run


def _scoped_shared_groups(session: Session, kind: CaseKind) -> list[_Group]:
    """Groups of different people sharing a value that a party in the scope has: one statement; SQLite seeks
    the ``(value, person_key)`` index once per distinct new value and reads members only of suspicious values."""
    c = SHARED_COLUMN[kind]
    sql = (
        f"SELECT p.id, p.policy_id, p.{c} FROM cust_party p WHERE p.{c} IN ("
        f" SELECT q.{c} FROM cust_party q WHERE q.{c} IN (SELECT {c} FROM {SCOPE_TABLE} WHERE {c} IS NOT NULL)"
        f" GROUP BY q.{c} HAVING COUNT(DISTINCT q.person_key) > 1)"
    )
    groups: dict[str, _Group] = {}
    for party_id, policy_id, value in session.execute(text(sql)).all():
        groups.setdefault(value, _Group(kind, value)).members.add((party_id, policy_id))
    return list(groups.values())


def _scoped_agent_groups(session: Session, kind: CaseKind) -> list[_Group]:
    """Customers whose phone/address equals an agent's, for the agents matching a party in the scope (CROSS JOIN
    keeps the small agent table outside, so the book's index is sought only for matching agents)."""
    c = AGENT_COLUMN[kind]
    sql = (
        f"SELECT a.code, p.id, p.policy_id, p.{c} FROM cust_agent a CROSS JOIN cust_party p WHERE p.{c} = a.{c} "
        f"AND a.{c} IN (SELECT {c} FROM {SCOPE_TABLE} WHERE {c} IS NOT NULL) "
        f"AND (a.id_number IS NULL OR p.id_number IS NULL OR p.id_number <> a.id_number)"
    )
    groups: dict[str, _Group] = {}
    for code, party_id, policy_id, value in session.execute(text(sql)).all():
        group = groups.setdefault(value, _Group(kind, value, agent_code=code))
        group.agent_code = min(group.agent_code or code, code)
        group.members.add((party_id, policy_id))
    return list(groups.values())


def _detect_scope(session: Session, scope: str, params: dict[str, Any], today: date | None) -> DetectionResult:
    """Detection for the parties matching ``scope`` (a SQL condition on alias ``b``) against the whole book.

    The scope's values are read once into a TEMP table; each kind is then one statement joining it to the
    indexes, so the cost follows the number of new parties, not the size of the book."""
    today = today or get_calendar().local_date(utcnow())
    session.execute(text(f"DROP TABLE IF EXISTS {SCOPE_TABLE}"))
    fill = (f"CREATE TEMP TABLE {SCOPE_TABLE} AS SELECT b.phone, b.bank_account, b.address "
            f"FROM cust_party b WHERE {scope}")
    session.execute(_scope_stmt(fill, params), params)
    try:
        groups: list[_Group] = []
        for kind in SHARED_COLUMN:
            groups += _scoped_shared_groups(session, kind)
        for kind in AGENT_COLUMN:
            groups += _scoped_agent_groups(session, kind)
        checked = int(session.execute(text(f"SELECT COUNT(*) FROM {SCOPE_TABLE}")).scalar_one())
    finally:
        session.execute(text(f"DROP TABLE IF EXISTS {SCOPE_TABLE}"))
    result = DetectionResult(checked_parties=checked)
    _apply(session, groups, today, result)
    return result


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


def detect_incremental(*, session: Session, batch_id: str, today: date | None = None) -> DetectionResult:
    """T+1 (§7): check the parties of one import batch against the whole book, set-based through the indexes."""
    lo, hi = session.execute(
        text("SELECT MIN(id), MAX(id) FROM cust_policy WHERE batch_id = :batch"), {"batch": batch_id}
    ).one()
    if lo is None:
        return DetectionResult()
    # the id range lets SQLite read the batch's parties by one range scan of the policy_id index
    scope = ("b.policy_id BETWEEN :lo AND :hi AND b.policy_id IN "
             "(SELECT id FROM cust_policy WHERE batch_id = :batch AND id BETWEEN :lo AND :hi)")
    return _detect_scope(session, scope, {"batch": batch_id, "lo": lo, "hi": hi}, today)


def detect_range(*, session: Session, after_id: int, up_to_id: int, today: date | None = None) -> DetectionResult:
    """T+1 (§7): the parties of the policies with ``after_id < id <= up_to_id`` (all entries since the last run)."""
    scope = "b.policy_id > :lo AND b.policy_id <= :hi"
    return _detect_scope(session, scope, {"lo": after_id, "hi": up_to_id}, today)


def detect_policies(*, session: Session, policy_ids: Sequence[int], today: date | None = None) -> DetectionResult:
    """Detection for the parties of these policies (e.g. an agent's book, §14)."""
    result = DetectionResult()
    for batch in _chunks(list(policy_ids)):
        part = _detect_scope(session, "b.policy_id IN :ids", {"ids": list(batch)}, today)
        result.new_cases += part.new_cases
        result.grown_cases += [c for c in part.grown_cases if c not in result.grown_cases]
        result.checked_parties += part.checked_parties
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
