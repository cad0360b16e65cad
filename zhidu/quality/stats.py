"""Monthly statistics of the quality-information register (篇五 §6): by class, department, overdue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from models.quality import ItemStatus, QualityItem
from zhidu.settings import get_settings


@dataclass
class MonthStats:
    month: str
    total: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    by_department: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    overdue: list[str] = field(default_factory=list)


def is_overdue(item: QualityItem, now: datetime) -> bool:
    """Decided after its deadline, or still undecided past it; or the 24-hour feedback missed."""
    decided = item.decided_at or now
    late_feedback = item.feedback_due is not None and (item.feedback_sent_at or now) > item.feedback_due
    return decided > item.decision_due or late_feedback


def month_stats(*, session: Session, month: date, now: datetime) -> MonthStats:
    """Counts for the items registered in ``month`` (local time)."""
    tz = get_settings().tz
    stats = MonthStats(month=f"{month.year}-{month.month:02d}")
    for item in session.exec(select(QualityItem)).all():
        local = item.created_at.astimezone(tz)
        if (local.year, local.month) != (month.year, month.month):
            continue
        stats.total += 1
        stats.by_class[item.qclass.value] += 1
        stats.by_status[ItemStatus(item.status).value] += 1
        for dept in item.departments:
            stats.by_department[dept] += 1
        if is_overdue(item, now):
            stats.overdue.append(item.number)
    return stats


def to_markdown(stats: MonthStats) -> str:
    lines = [f"# 质量信息月度统计 {stats.month}", "", f"登记总数：{stats.total}", "", "| 分级 | 条数 |", "|---|---|"]
    lines += [f"| {k} | {stats.by_class.get(k, 0)} |" for k in ("A", "B", "C")]
    lines += ["", "| 部门 | 涉及条数 |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(stats.by_department.items())]
    lines += ["", f"逾期：{len(stats.overdue)} 条" + (f"（{'、'.join(stats.overdue)}）" if stats.overdue else "")]
    return "\n".join(lines)
