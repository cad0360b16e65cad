"""The procurement CLI answers bad input files with a Chinese reason and exit code 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import Zhidu
from zhidu.cli import app


def test_an_impossible_date_in_a_contract_file_is_named(zhidu: Zhidu, tmp_path: Path) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("supplier: 某公司\ncontract_no: HT-1\nsigned_on: 2026-13-45\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["procurement", "order", "CG-2026-0001", str(contract), "--by", "p-it-buyer"])
    assert result.exit_code == 1
    assert "不存在的日期" in result.output and "Traceback" not in result.output
