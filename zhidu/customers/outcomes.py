"""Investigation outcomes (§13): cleared, corrected (with an audit trail of old and new values), confirmed false."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from models.customers import CaseMember, CaseStatus, Party, PolicyCorrection, SuspiciousCase
from zhidu.customers.normalize import normalize_account, normalize_address, normalize_phone
from zhidu.db import utcnow

_NORMALISE = {"phone": normalize_phone, "bank_account": normalize_account, "address": normalize_address}


class OutcomeError(ValueError):
    pass


def _case(session: Session, case_id: int) -> SuspiciousCase:
    case = session.get(SuspiciousCase, case_id)
    if case is None:
        raise OutcomeError(f"no suspicious case {case_id}")
    return case


def _members(session: Session, case_id: int) -> list[CaseMember]:
    return list(session.exec(select(CaseMember).where(CaseMember.case_id == case_id)))


def _close(session: Session, case: SuspiciousCase, status: CaseStatus, by: str, note: str, at: datetime) -> None:
    case.status, case.closed_by, case.closed_at, case.updated_at = status, by, at, at
    case.note = note
    session.add(case)


def apply_correction(
    *,
    session: Session,
    case_id: int,
    party_id: int,
    by: str,
    confirmation: str,
    phone: str | None = None,
    bank_account: str | None = None,
    address: str | None = None,
    close: bool = True,
    at: datetime | None = None,
) -> list[PolicyCorrection]:
    """Write the customer's true data to the party and keep one audit row per changed field.

    ``confirmation`` names the customer's signed confirmation (客户亲笔签名确认, §13); values are normalised.
    With ``close`` the case ends as ``corrected``. Returns the audit rows (nothing changed: empty list).
    """
    if not confirmation.strip():
        raise OutcomeError("a correction needs the customer's signed confirmation (客户签名确认)")
    at = at or utcnow()
    case = _case(session, case_id)
    member = next((m for m in _members(session, case_id) if m.party_id == party_id), None)
    if member is None:
        raise OutcomeError(f"party {party_id} is not a member of case {case_id}")
    party = session.get(Party, party_id)
    assert party is not None
    corrections = []
    for name, raw in (("phone", phone), ("bank_account", bank_account), ("address", address)):
        if raw is None:
            continue
        new = _NORMALISE[name](raw)
        old = getattr(party, name)
        if new == old:
            continue
        setattr(party, name, new)
        corrections.append(
            PolicyCorrection(
                policy_id=party.policy_id, party_id=party_id, case_id=case_id, field_name=name,
                old_value=old, new_value=new, by=by, at=at, confirmation=confirmation,
            )
        )
    session.add(party)
    session.add_all(corrections)
    member.outcome = CaseStatus.corrected
    session.add(member)
    if close:
        _close(session, case, CaseStatus.corrected, by, f"已修正,客户确认:{confirmation}", at)
    session.commit()
    return corrections


def record_cleared(*, session: Session, case_id: int, by: str, evidence: str, at: datetime | None = None) -> None:
    """The suspicion is excluded (排除可疑) with evidence; every member without an outcome is cleared."""
    if not evidence.strip():
        raise OutcomeError("clearing a case needs evidence (排除可疑的证明材料)")
    at = at or utcnow()
    case = _case(session, case_id)
    for m in _members(session, case_id):
        if m.outcome is None:
            m.outcome = CaseStatus.cleared
            session.add(m)
    _close(session, case, CaseStatus.cleared, by, evidence, at)
    session.commit()


def record_confirmed_false(
    *,
    session: Session,
    case_id: int,
    by: str,
    note: str,
    party_ids: Iterable[int] | None = None,
    at: datetime | None = None,
) -> None:
    """False data confirmed (查实虚假, §14, §22): the named members (default: all) count against their policies'
    agents and agencies in the quarterly summary."""
    at = at or utcnow()
    case = _case(session, case_id)
    chosen = None if party_ids is None else set(party_ids)
    members = _members(session, case_id)
    if chosen is not None and not chosen <= {m.party_id for m in members}:
        raise OutcomeError(f"parties {sorted(chosen)} are not all members of case {case_id}")
    for m in members:
        if chosen is None or m.party_id in chosen:
            m.outcome = CaseStatus.confirmed_false
        elif m.outcome is None:
            m.outcome = CaseStatus.cleared
        session.add(m)
    _close(session, case, CaseStatus.confirmed_false, by, note, at)
    session.commit()


def corrections_of(*, session: Session, policy_id: int) -> list[PolicyCorrection]:
    """The audit trail of one policy, oldest first."""
    query = select(PolicyCorrection).where(PolicyCorrection.policy_id == policy_id).order_by(col(PolicyCorrection.id))
    return list(session.exec(query))


def reopen_case(*, session: Session, case_id: int, by: str, note: str, at: datetime | None = None) -> None:
    """Compliance sent the result back (退回重新排查): the case is open again and its members have no outcome.
    Corrections already written stay, with their audit rows."""
    at = at or utcnow()
    case = _case(session, case_id)
    for m in _members(session, case_id):
        m.outcome = None
        session.add(m)
    case.status, case.closed_at, case.closed_by, case.updated_at = CaseStatus.open, None, None, at
    case.checked_at = case.checked_by = None
    case.note = f"{note}（{by}退回）"
    session.add(case)
    session.commit()


def mark_checked(*, session: Session, case_id: int, by: str, at: datetime | None = None) -> None:
    """Compliance confirmed the investigation's result (合规复核通过); the case must be closed."""
    case = _case(session, case_id)
    if case.status not in (CaseStatus.cleared, CaseStatus.corrected, CaseStatus.confirmed_false):
        raise OutcomeError(f"case {case_id} is {case.status.value}: only a closed case can be checked")
    case.checked_by, case.checked_at = by, at or utcnow()
    session.add(case)
    session.commit()
