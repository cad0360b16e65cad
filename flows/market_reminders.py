"""Reminders for the market forms (篇七 §二): 销售信息反馈表 per week, month and quarter; 顾客意见征询表 one week
before quarter end; 客户回访 in the last 5 days of January, April, July and October; each summary within a week."""

from __future__ import annotations

from datetime import date

from prefect import flow

from tasks.market import send_reminders, start_pending_immediate
from zhidu.db import utcnow
from zhidu.market.periods import local_date

DAYS_AHEAD = 3


@flow(name="market-form-reminders", flow_run_name="市场表单提醒-{day}")
def market_form_reminders(day: str = "", days_ahead: int = DAYS_AHEAD) -> int:
    """Remind of every form and summary due from ``day`` (default: today, Shanghai) to ``days_ahead`` days later."""
    first = date.fromisoformat(day) if day else local_date(utcnow())
    start_pending_immediate()  # safety net: an immediate report whose run could not be started when filed
    return send_reminders(first.isoformat(), days_ahead)
