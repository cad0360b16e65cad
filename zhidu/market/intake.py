"""New market entries (one from the web page, or a file) and the immediate-report rule on them (篇四 §15)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from models.market import Importance, MarketEntry, MarketEntryCreate, MarketReportRecord
from zhidu.market.effects import ImmediateTrigger, fmt_pct, load_rules, price_type_label
from zhidu.market.queries import immediate_triggers, store_entries
from zhidu.market.records import file_immediate_report

RULE_FILER = "即时上报规则"
RECENT_DAYS = 14  # older entries (history being loaded) are not news: the rule looks at recent ones only


@dataclass
class Registered:
    stored: list[MarketEntry]
    new_reports: list[MarketReportRecord] = field(default_factory=list)  # immediate reports to start
    triggers: list[ImmediateTrigger] = field(default_factory=list)  # every trigger, new or seen before


def trigger_title(trigger: ImmediateTrigger) -> str:
    who = trigger.competitor or "本公司"
    return (f"{trigger.region}{who}{trigger.product}{price_type_label(trigger.price_type)}价格异动"
            f"（{fmt_pct(trigger.change_pct)}）")


def register_entries(*, session: Session, entries: Sequence[MarketEntryCreate], today: date) -> Registered:
    """Store the entries and file one immediate report per new trigger among the recent ones (dated within
    ``RECENT_DAYS`` of the local ``today``); a trigger seen before files nothing.

    The caller commits, then starts a review run for each of ``new_reports``."""
    stored = store_entries(session=session, entries=entries)
    threshold = load_rules().immediate.threshold_pct
    recent = [e for e in stored if e.entry_date >= today - timedelta(days=RECENT_DAYS)]
    result = Registered(stored, triggers=immediate_triggers(session=session, entries=recent))
    for trigger in result.triggers:
        importance = Importance.critical if abs(trigger.change_pct) >= 2 * threshold else Importance.important
        record, created = file_immediate_report(session=session, title=trigger_title(trigger), content=trigger.text,
                                                filed_by=RULE_FILER, importance=importance, trigger=trigger)
        if created:
            result.new_reports.append(record)
    return result
