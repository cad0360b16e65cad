"""The report as the reviewer saw it, kept under ``var/market/reports/<id>/`` until (and after) distribution.

The report is computed once, before the review; the distribution after the instruction (days later, in a resumed
run) sends exactly what was reviewed, even if late entries for the period arrived meanwhile. Files are written
to a temporary name and renamed, so a concurrent writer never leaves half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from zhidu.mail import Attachment
from zhidu.market.charts import InlineImage
from zhidu.market.render import MarketEmail
from zhidu.settings import get_settings


def report_dir(report_id: str) -> Path:
    return get_settings().var_dir / "market" / "reports" / report_id


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def save_prepared(report_id: str, mail: MarketEmail) -> Path:
    """Store the mail's subject, template, context, attachments and inline images."""
    folder = report_dir(report_id)
    folder.mkdir(parents=True, exist_ok=True)
    for a in mail.attachments:
        _write(folder / a.filename, a.content)
    for c in mail.inline_images:
        _write(folder / c.filename, c.content)
    meta = {
        "subject": mail.subject, "template": mail.template, "context": mail.context,
        "attachments": [{"filename": a.filename, "content_type": a.content_type} for a in mail.attachments],
        "inline_images": [{"cid": c.cid, "filename": c.filename, "title": c.title} for c in mail.inline_images],
    }
    _write(folder / "mail.json", json.dumps(meta, ensure_ascii=False).encode())
    return folder


def load_prepared(report_id: str) -> MarketEmail:
    """The stored mail; ``FileNotFoundError`` names the folder when the report was never prepared here."""
    folder = report_dir(report_id)
    meta = json.loads((folder / "mail.json").read_text(encoding="utf-8"))
    return MarketEmail(
        subject=meta["subject"], template=meta["template"], context=meta["context"],
        attachments=[Attachment(a["filename"], (folder / a["filename"]).read_bytes(), a["content_type"])
                     for a in meta["attachments"]],
        inline_images=[InlineImage(c["cid"], c["filename"], c["title"], (folder / c["filename"]).read_bytes())
                       for c in meta["inline_images"]],
    )
