"""The one Jinja2 environment: autoescaped HTML, StrictUndefined, and the masking/time/money filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from zhidu.masking import mask_account, mask_id, mask_phone, mask_text
from zhidu.settings import get_settings

_CENT = Decimal("0.01")


def local_dt(value: datetime) -> str:
    """An aware instant as Asia/Shanghai (settings.timezone) text: ``2026年12月3日 17:30``.

    Local midnight, the end of a day-counted deadline, is written as 24:00 of the day before
    (``2026年12月8日 24:00``), as offices write it, not as 00:00 of a day that is not the deadline's."""
    if not isinstance(value, datetime):
        raise TypeError(f"local_dt needs a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: zhidu shows only timezone-aware instants")
    local = value.astimezone(get_settings().tz)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        day = local.date() - timedelta(days=1)
        return f"{day.year}年{day.month}月{day.day}日 24:00"
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def money(value: Decimal | int) -> str:
    """An exact amount as ``¥1,234.50`` (half-up to the fen); float is refused, never rounded silently."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money needs Decimal (or int), got {type(value).__name__}: {value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"money needs a finite amount, got {value!r}")
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@lru_cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(value: str) -> Markup:
    """Markdown (a report body) as HTML, with phone numbers, accounts and IDs masked; raw HTML in it is escaped."""
    return Markup(_markdown().render(mask_text(value)))  # noqa: S704 - markdown-it escapes (html disabled)


FILTERS: dict[str, Any] = {
    "mask_phone": mask_phone,
    "mask_account": mask_account,
    "mask_id": mask_id,
    "mask_text": mask_text,
    "local_dt": local_dt,
    "money": money,
    "markdown": markdown_html,
}


def _mask_output(value: Any) -> Any:
    """Every value a mail template prints goes through ``mask_text`` (a template that forgets the filter on a
    title, a comment or a name still masks the phone, account or ID number in it); Markup stays Markup."""
    if isinstance(value, Markup):
        return Markup(mask_text(str(value)))
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    return value


@lru_cache(maxsize=8)
def _env_for(templates_dir: Path, masked: bool = False) -> Environment:
    env = Environment(
        finalize=_mask_output if masked else None,
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def get_env(*, masked: bool = False) -> Environment:
    """The shared environment for ``settings.templates_dir`` (cached per directory, so tests may change it);
    ``masked``: every printed value goes through ``mask_text`` (mail templates, which are never forms)."""
    return _env_for(Path(get_settings().templates_dir).resolve(), masked)


def render(template_name: str, /, **context: Any) -> str:
    """Render ``template_name`` (relative to the templates dir, e.g. ``email/x.html``); a missing variable raises."""
    return get_env().get_template(template_name).render(**context)


def render_masked(template_name: str, /, **context: Any) -> str:
    """``render`` with every printed value masked (``mask_text``): what ``send_email`` uses for mail bodies."""
    return get_env(masked=True).get_template(template_name).render(**context)
