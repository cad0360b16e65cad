"""Rendering the report for people: markdown (artifact/archive), the HTML/text email, its attachments and charts.

Templates: ``reports/market_report.md``, ``email/market_report.html|txt``, ``email/market_immediate.html|txt``,
``email/market_reminder.html|txt``. Values are formatted here (exact Decimal text), so templates only print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from models.market import IMPORTANCE_LABELS, SECRECY_LABELS, MarketReportRecord
from zhidu.mail import Attachment
from zhidu.market.charts import InlineImage, report_charts
from zhidu.market.effects import Effect, ImmediateTrigger
from zhidu.market.reminders import Reminder
from zhidu.market.report import MarketReport, stat_row
from zhidu.market.workbook import report_xlsx
from zhidu.templating import local_dt, render

EFFECTS_SHOWN = 10  # per kind in the mail and markdown; the .xlsx lists them all
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _effect(e: Effect) -> dict[str, str]:
    return {"effect": e.effect_label, "name": e.name, "product": e.product, "price_type": e.price_type,
            "magnitude": f"{e.magnitude:.2f}%", "size": e.size, "text": e.text}


@dataclass(frozen=True)
class Instruction:
    """The deputy general manager's instruction (批示) printed on top of a distributed report."""

    text: str
    by: str
    at: str  # already formatted (local time)


NO_INSTRUCTION = Instruction("", "", "")


def instruction_context(instruction: Instruction | None) -> dict[str, str]:
    i = instruction or NO_INSTRUCTION
    return {"instruction": i.text, "instructed_by": i.by, "instructed_at": i.at}


def report_context(
    report: MarketReport, charts: Sequence[InlineImage] = (), instruction: Instruction | None = None,
    archive_url: str = "",
) -> dict[str, Any]:
    """Everything the report templates print, as text (the instruction and archive link empty until known)."""
    sections = []
    for name, stats in report.sections():
        rows = [{k: _md_cell(v) for k, v in stat_row(name, s).items()} for s in stats]
        sections.append({"name": name, "rows": rows})
    return {
        "title": report.title,
        "subject": report.subject,
        "period_title": report.period.title,
        "period_label": report.period.label,
        "span": report.period.span,
        "previous_label": report.period.previous.label,
        "last_year_label": report.period.same_last_year.label,
        "entry_count": report.entry_count,
        "previous_count": report.previous_count,
        "last_year_count": report.last_year_count,
        "empty": report.empty,
        "sections": sections,
        "columns": ["项目", "价格类型", "条数", "均价", "均价环比", "均价同比", "数量", "数量环比", "数量同比"],
        "favourable": [_effect(e) for e in report.favourable[:EFFECTS_SHOWN]],
        "unfavourable": [_effect(e) for e in report.unfavourable[:EFFECTS_SHOWN]],
        "favourable_more": max(0, len(report.favourable) - EFFECTS_SHOWN),
        "unfavourable_more": max(0, len(report.unfavourable) - EFFECTS_SHOWN),
        "charts": [{"cid": c.cid, "title": c.title} for c in charts],
        "xlsx_name": report.xlsx_name,
        "generated_at": local_dt(report.generated_at),
        "archive_url": archive_url,
    } | instruction_context(instruction)


def render_markdown(report: MarketReport) -> str:
    return render("reports/market_report.md", **report_context(report))


@dataclass(frozen=True)
class MarketEmail:
    """The arguments for ``zhidu.mail.send_email`` plus the inline images the HTML refers to (``cid:``)."""

    subject: str
    template: str
    context: dict[str, Any]
    attachments: list[Attachment] = field(default_factory=list)
    inline_images: list[InlineImage] = field(default_factory=list)


def report_email(report: MarketReport, *, with_charts: bool = True) -> MarketEmail:
    """The report mail: HTML/text body in Chinese, charts inline (cid), the .xlsx attached."""
    charts = report_charts(report) if with_charts else []
    name, content = report_xlsx(report)
    return MarketEmail(
        subject=report.subject,
        template="market_report",
        context=report_context(report, charts),
        attachments=[Attachment(name, content, XLSX_TYPE)],
        inline_images=charts,
    )


def immediate_email(
    record: MarketReportRecord, trigger: ImmediateTrigger | None = None, instruction: Instruction | None = None,
    archive_url: str = "",
) -> MarketEmail:
    """The mail of an immediate report (即时上报), from a rule's trigger or filed by hand."""
    context: dict[str, Any] = {
        "title": record.title,
        "content": record.body_md,
        "trigger_text": trigger.text if trigger else "",
        "importance": IMPORTANCE_LABELS[record.importance],
        "secrecy": SECRECY_LABELS[record.secrecy],
        "filed_by": record.filed_by or "",
        "created_at": local_dt(record.created_at),
        "archive_url": archive_url,
    } | instruction_context(instruction)
    return MarketEmail(subject=f"【即时上报】{record.title}", template="market_immediate", context=context)


def reminder_email(reminder: Reminder, *, name: str) -> MarketEmail:
    """A reminder that a form or a summary is due."""
    context = {"name": name, "title": reminder.title, "period_label": reminder.period_label,
               "opens": reminder.opens.isoformat(), "due": reminder.due.isoformat()}
    return MarketEmail(subject=f"提醒：{reminder.title}（{reminder.period_label}）请于{reminder.due.isoformat()}前完成",
                       template="market_reminder", context=context)


def add_inline_images(message: EmailMessage, images: Sequence[InlineImage]) -> None:
    """Attach ``images`` as multipart/related parts of the message's HTML body (Content-ID = ``<cid>``), so that
    ``<img src="cid:…">`` shows inline. For a mail layer built on ``zhidu.mail.build_message``."""
    html = message.get_body(preferencelist=("html",))
    if html is None:
        raise ValueError("the message has no HTML body to relate images to")
    assert isinstance(html, EmailMessage)
    for image in images:
        maintype, _, subtype = image.content_type.partition("/")
        html.add_related(image.content, maintype=maintype, subtype=subtype, cid=f"<{image.cid}>",
                         filename=image.filename, disposition="inline")
