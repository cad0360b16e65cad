"""Breaker: quality intake files as staff really make them (Excel CSV in GBK, BOM, merged cells, formulas, blank
rows, wrong headers); every refusal names the row and field, and the counts reconcile."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.conftest import Zhidu
from zhidu.cli.quality import app
from zhidu.quality.intake import IntakeError, parse_file, read_file

HEADER = ["来源", "类别", "标题", "内容", "涉及部门", "报告人", "异常", "突发重大"]
ROW = ["外部", "质量投诉", "破损", "包装破损", "STORE", "郑客服", "否", "否"]


def csv_text(*rows: list[str]) -> str:
    return "".join(",".join(r) + "\n" for r in (HEADER, *rows))


def xlsx(path: Path, *rows: list[object], merge: str | None = None) -> Path:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    if merge:
        sheet.merge_cells(merge)
    wb.save(path)
    return path


def test_excel_csv_in_gbk_is_read(zhidu: Zhidu, tmp_path: Path) -> None:
    # Was: UnicodeDecodeError traceback (Excel on Chinese Windows saves "CSV" as GBK).
    path = tmp_path / "gbk.csv"
    path.write_bytes(csv_text(ROW, ["内部", *ROW[1:]]).encode("gbk"))
    items = parse_file(path)
    assert [(i.source.value, i.title, i.reporter) for i in items] == [("outside", "破损", "郑客服"),
                                                                      ("inside", "破损", "郑客服")]


def test_blank_rows_are_skipped_and_counted(zhidu: Zhidu, tmp_path: Path) -> None:
    # Was: a row of empty cells (",,,,,,,", what Excel leaves) was refused as eight missing fields.
    path = tmp_path / "blank.csv"
    path.write_text(csv_text(ROW, [""] * 8, [" "] * 8, ROW), encoding="utf-8-sig")
    parsed = read_file(path)
    assert len(parsed.items) == 2 and parsed.counts == "共 2 行：有效 2 行，有误 0 行（另有空行 2 行已跳过）"


def test_wrong_or_duplicated_headers_are_one_clear_error(zhidu: Zhidu, tmp_path: Path) -> None:
    # Was: a wrong header gave "missing" for every field of every row; a duplicated column silently won.
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("来源;类别;标题\n外部;质量投诉;破损\n", encoding="utf-8")
    with pytest.raises(IntakeError) as err:
        parse_file(wrong)
    [problem] = err.value.problems
    assert problem.startswith("wrong.csv 第 1 行表头：缺少列 来源、类别、标题、内容、涉及部门、报告人（未识别的列：来源;类别;标题")
    dup = tmp_path / "dup.csv"
    dup.write_text(",".join([*HEADER, "标题"]) + "\n" + ",".join([*ROW, "另一个"]) + "\n", encoding="utf-8")
    with pytest.raises(IntakeError) as err:
        parse_file(dup)
    assert err.value.problems == ["dup.csv 第 1 行表头：列 标题 出现了不止一次"]
    spaced = tmp_path / "spaced.csv"
    spaced.write_text(" 来源 ," + csv_text(ROW).split(",", 1)[1], encoding="utf-8")
    assert len(parse_file(spaced)) == 1


def test_a_flag_that_is_neither_yes_nor_no_is_refused(zhidu: Zhidu, tmp_path: Path) -> None:
    # Was: "可能" in 异常 was silently taken for "no".
    path = tmp_path / "flag.csv"
    path.write_text(csv_text(ROW, [*ROW[:6], "可能", "否"]), encoding="utf-8")
    with pytest.raises(IntakeError) as err:
        read_file(path)
    assert err.value.problems == ["第 3 行 字段「异常」：应为 是 或 否，而不是 可能"]
    assert err.value.counts == "共 2 行：有效 1 行，有误 1 行"


def test_xlsx_merged_cells_blank_first_row_and_formulas(zhidu: Zhidu, tmp_path: Path) -> None:
    # Was: the second row under a merged 涉及部门 cell was "missing"; a header below a blank first row was not found;
    # a formula never calculated (file written by a program) was reported as an empty 标题.
    merged = xlsx(tmp_path / "merged.xlsx", [None] * 8, HEADER, ROW, [*ROW[:2], "破损2", ROW[3], None, *ROW[5:]],
                  merge="E3:E4")
    assert [(i.title, i.departments) for i in parse_file(merged)] == [("破损", ["STORE"]), ("破损2", ["STORE"])]
    formula = xlsx(tmp_path / "formula.xlsx", HEADER, [*ROW[:2], '=A2&"x"', *ROW[3:]])
    with pytest.raises(IntakeError) as err:
        parse_file(formula)
    assert err.value.problems[0] == ('第 2 行 C2 单元格：公式没有计算结果（=A2&"x"），请在 Excel 中打开并保存，或改为数值')


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "old.xls：不支持旧版 .xls，请在 Excel 中另存为 .xlsx 或「CSV UTF-8」"),
        ("broken.xlsx", b"not a zip", "broken.xlsx：无法作为 .xlsx 读取（BadZipFile），请在 Excel 中另存为 .xlsx"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "image.csv：不是文本文件（CSV），请另存为「CSV UTF-8」或 .xlsx"),
    ],
)
def test_files_that_are_not_tables_are_refused_in_words(zhidu: Zhidu, tmp_path: Path, name: str, content: bytes,
                                                        problem: str) -> None:
    # Was: UnicodeDecodeError / BadZipFile tracebacks.
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IntakeError) as err:
        parse_file(path)
    assert err.value.problems == [problem]


def test_cli_import_of_a_missing_or_bad_file_exits_1_with_reasons_and_counts(zhidu: Zhidu, tmp_path: Path) -> None:
    runner = CliRunner()

    def flat(output: str) -> str:  # rich wraps long lines at the terminal width
        return "".join(output.split())

    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--no-start"])
    assert missing.exit_code == 1 and "文件不存在" in flat(missing.output) and "未登记任何条目" in missing.output
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(ROW, [*ROW[:4], "仓库X", *ROW[5:]]), encoding="utf-8")
    bad = runner.invoke(app, ["import", str(path), "--no-start"])
    assert bad.exit_code == 1 and "第3行字段「涉及部门」：未知部门仓库X" in flat(bad.output)
    assert "共2行：有效1行，有误1行" in flat(bad.output)
    path.write_text(csv_text(ROW, ROW), encoding="utf-8")
    good = runner.invoke(app, ["import", str(path), "--no-start"])
    assert good.exit_code == 0 and "共2行：有效2行，有误0行" in flat(good.output) and "ZL-" in good.output


def test_the_register_number_takes_the_year_in_shanghai(zhidu: Zhidu) -> None:
    # Was: ZL-2026-… for an item registered at 04:30 on 1 January 2027 in Shanghai (20:30 UTC on 31 December).
    from datetime import UTC, datetime

    from sqlmodel import Session

    from zhidu.db import get_engine
    from zhidu.quality.intake import next_number

    with Session(get_engine()) as session:
        assert next_number(session=session, when=datetime(2026, 12, 31, 20, 30, tzinfo=UTC)) == "ZL-2027-0001"
        assert next_number(session=session, when=datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == "ZL-2026-0001"


def test_cli_intake_whose_deadline_reaches_2027_says_so_instead_of_a_traceback(
        zhidu: Zhidu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Was: CalendarYearMissing escaped as a traceback from `zhidu quality import` (from late December 2026 on).
    from datetime import UTC, datetime

    import zhidu.db

    monkeypatch.setattr(zhidu.db, "utcnow", lambda: datetime(2026, 12, 30, 2, 0, tzinfo=UTC))
    path = tmp_path / "late.csv"
    path.write_text(csv_text(ROW), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--no-start"])
    flat = "".join(result.output.split())
    assert result.exit_code == 1 and "无法计算办理期限：noworking-daycalendarfor2027" in flat
    assert "未登记任何条目" in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
