"""Imports from the shell keep the valid rows and still exit 1 when some rows were refused (scripts notice)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from models.market import MarketEntry
from tests.conftest import Zhidu
from zhidu.cli import app
from zhidu.db import get_engine

HEADER = "日期,地区,产品,品类,价格类型,价格,币种,单位,数量,竞争对手,渠道,来源,内容,报告人,密级\n"


def test_market_import_with_a_bad_row_keeps_the_good_one_and_exits_1(zhidu: Zhidu, tmp_path: Path) -> None:
    path = tmp_path / "entries.csv"
    path.write_text(HEADER + "2026-03-02,华中,92#汽油,成品油,现货价,8650.00,CNY,吨,120.5,,直销,电话,成交,曹丽,内部\n"
                             "2026-02-30,华中,92#汽油,成品油,现货价,8590.00,CNY,吨,300,,直销,电话,成交,曹丽,内部\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["market", "import", str(path), "--no-start"])
    assert result.exit_code == 1, result.output
    assert "第3行" in result.output.replace(" ", "") and "拒收 1 行" in result.output
    with Session(get_engine()) as session:
        assert session.exec(select(func.count()).select_from(MarketEntry)).one() == 1
