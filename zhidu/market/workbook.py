"""The report as an .xlsx attachment (openpyxl, write-only): Chinese sheet names and headers, exact numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from models.market import REPORT_KIND_LABELS
from zhidu.market.report import GroupStat, MarketReport

HEADERS = ["项目", "价格类型", "条数", "均价", "上期均价", "均价环比(%)", "去年同期均价", "均价同比(%)",
           "数量", "上期数量", "数量环比(%)", "去年同期数量", "数量同比(%)"]


def _num(value: Decimal | None) -> Decimal | None:
    return value  # openpyxl writes Decimal as a number; None stays an empty cell


def _header(ws: WriteOnlyWorksheet, names: list[str]) -> None:
    bold = Font(bold=True)
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)


def _stats_sheet(wb: Workbook, name: str, stats: list[GroupStat]) -> None:
    ws = wb.create_sheet(name)
    _header(ws, HEADERS)
    for s in stats:
        ws.append([
            s.key, s.price_type_label, s.count, _num(s.avg_price), _num(s.prev_avg_price), _num(s.price_change_pct),
            _num(s.yoy_avg_price), _num(s.price_yoy_pct), _num(s.volume), _num(s.prev_volume),
            _num(s.volume_change_pct), _num(s.yoy_volume), _num(s.volume_yoy_pct),
        ])


def report_xlsx(report: MarketReport) -> tuple[str, bytes]:
    """(file name like ``市场信息周报_2026-W48.xlsx``, workbook bytes)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("概况")
    ws.append(["报告", REPORT_KIND_LABELS[report.kind]])
    ws.append(["期间", report.period.label])
    ws.append(["起止日期", report.period.span])
    ws.append(["本期信息条数", report.entry_count])
    ws.append(["上期信息条数", report.previous_count])
    ws.append(["去年同期信息条数", report.last_year_count])
    if report.empty:
        ws.append(["说明", "本期无市场信息"])
    _stats_sheet(wb, "总体", report.overall)
    _stats_sheet(wb, "按地区", report.by_region)
    _stats_sheet(wb, "按产品", report.by_product)
    _stats_sheet(wb, "按企业", report.by_competitor)
    effects = wb.create_sheet("影响分析")
    _header(effects, ["影响", "规则", "产品", "价格类型", "变动幅度(%)", "影响程度", "说明"])
    for e in report.effects:
        effects.append([e.effect_label, e.name, e.product, e.price_type, e.magnitude, e.size, e.text])
    buf = io.BytesIO()
    wb.save(buf)
    return report.xlsx_name, buf.getvalue()
