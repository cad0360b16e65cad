"""When a suspicious case must be investigated (§7, §13): 3 working days, and before the 犹豫期回访."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from zhidu.customers.products import Product, load_products
from zhidu.workdays import WorkCalendar, get_calendar

INVESTIGATION_WORKDAYS = 3  # §13: 渠道内勤在3个工作日内完成可疑排查


def resolve_product(product: Product | str) -> Product:
    """A product from the table; an unknown code gets the default 犹豫期 and return-visit days."""
    if isinstance(product, Product):
        return product
    table = load_products()
    return table.get(product) or table.default(product)


def cooling_off_end(receipt_signed_date: date, product: Product | str, *, calendar: WorkCalendar | None = None
                    ) -> datetime | None:
    """End of the 犹豫期: ``cooling_off_days`` counted from the day after the receipt is signed (Civil Code
    Art. 201, 203: a last day on a rest day moves to the next working day; ends at 24:00). None without one."""
    days = resolve_product(product).cooling_off_days
    if days < 1:
        return None
    return (calendar or get_calendar()).civil_deadline(receipt_signed_date, days)


def investigation_deadline(
    list_date: date,
    receipt_signed_date: date | None,
    product: Product | str,
    *,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """The earlier of the end of the 3rd working day after ``list_date`` and the end of the 犹豫期 less the
    calendar days the return visit needs (an aware UTC instant).

    Without a signed receipt the 犹豫期 has not started, so only the 3 working days apply.
    """
    cal = calendar or get_calendar()
    by_workdays = cal.end_of_day(cal.add_workdays(list_date, INVESTIGATION_WORKDAYS))
    if receipt_signed_date is None:
        return by_workdays
    prod = resolve_product(product)
    end = cooling_off_end(receipt_signed_date, prod, calendar=cal)
    if end is None:
        return by_workdays
    return min(by_workdays, end - timedelta(days=prod.return_visit_days))
