"""The one Jinja2 environment: autoescaped HTML, StrictUndefined, and the masking/time/money filters."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from zhidu.masking import mask_account, mask_id, mask_phone, mask_text
from zhidu.settings import get_settings

_CENT = Decimal("0.01")


def local_dt(value: datetime) -> str:
    """An aware instant as Asia/Shanghai (settings.timezone) text: ``2026年12月3日 17:30``."""
    if not isinstance(value, datetime):
        raise TypeError(f"local_dt needs a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: zhidu shows only timezone-aware instants")
    local = value.astimezone(get_settings().tz)
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


FILTERS: dict[str, Any] = {
    "mask_phone": mask_phone,
    "mask_account": mask_account,
    "mask_id": mask_id,
    "mask_text": mask_text,
    "local_dt": local_dt,
    "money": money,
}


@lru_cache(maxsize=8)
def _env_for(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def get_env() -> Environment:
    """The shared environment for ``settings.templates_dir`` (cached per directory, so tests may change it)."""
    return _env_for(Path(get_settings().templates_dir).resolve())


def render(template_name: str, /, **context: Any) -> str:
    """Render ``template_name`` (relative to the templates dir, e.g. ``email/x.html``); a missing variable raises."""
    return get_env().get_template(template_name).render(**context)
