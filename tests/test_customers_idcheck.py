"""ID numbers (§6) and the normalisation detection relies on (§7)."""

from datetime import date

import pytest

from zhidu.customers.idcheck import check_id_number, convert_15_to_18, region_status
from zhidu.customers.normalize import normalize_account, normalize_address, normalize_phone, person_key

TODAY = date(2026, 1, 15)
GB_EXAMPLE = "11010519491231002X"  # the standard's own example: 1949-12-31, female


def codes(raw: str, **kw: object) -> list[str]:
    return [i.code for i in check_id_number(raw, today=TODAY, **kw).issues]  # type: ignore[arg-type]


def test_valid_number_gives_birth_date_and_sex() -> None:
    r = check_id_number(GB_EXAMPLE, stated_birth=date(1949, 12, 31), stated_sex="F", today=TODAY)
    assert (r.number, r.birth_date, r.sex, r.issues, r.ok) == (GB_EXAMPLE, date(1949, 12, 31), "F", [], True)


@pytest.mark.parametrize(
    "raw", [" 11010519491231002x ", "１１０１０５１９４９１２３１００２Ｘ", "110105 19491231 002X", "\t11010519491231002X\n"]
)
def test_whitespace_fullwidth_and_lowercase_x_normalise(raw: str) -> None:
    assert check_id_number(raw, today=TODAY).number == GB_EXAMPLE


def test_bad_check_character_names_the_expected_one() -> None:
    r = check_id_number("110105194912310021", today=TODAY)
    assert (r.number, [(i.code, i.reason) for i in r.issues]) == (None, [("check_digit", "校验码错误:末位应为X,实为1")])


def _with_check(body17: str) -> str:
    from stdnum.iso7064 import mod_11_2

    return body17 + mod_11_2.calc_check_digit(body17)


def test_feb_29_only_in_leap_years() -> None:
    assert codes(_with_check("11010519490229002")) == ["birth_date_invalid"]
    leap = check_id_number(_with_check("11010520000229002"), today=TODAY)
    assert (leap.birth_date, leap.issues) == (date(2000, 2, 29), [])
    assert codes(_with_check("11010519000229002")) == ["birth_date_invalid"]  # 1900: not a leap year


def test_impossible_month_and_future_birth_date() -> None:
    assert codes(_with_check("11010519491331002")) == ["birth_date_invalid"]
    assert codes(_with_check("11010520260116002")) == ["birth_date_future"]
    assert codes(_with_check("11010520260115002")) == []  # born today


def test_stated_sex_and_birth_date_must_agree() -> None:
    assert codes(GB_EXAMPLE, stated_birth=date(1949, 12, 30), stated_sex="M") == ["birth_date_mismatch", "sex_mismatch"]


def test_fifteen_digits_are_converted_to_eighteen() -> None:
    assert convert_15_to_18("110105491231002") == GB_EXAMPLE
    r = check_id_number("110105491231002", stated_birth=date(1949, 12, 31), stated_sex="F", today=TODAY)
    assert (r.number, r.issues) == (GB_EXAMPLE, [])


def test_wrong_length_and_letters() -> None:
    assert codes("1101051949123100") == ["length"]
    assert codes("11010519491231A02X") == ["format"]
    assert codes("") == ["missing"]


def test_region_that_never_existed_is_an_error() -> None:
    assert region_status("990101", 1980) == "unknown"
    assert codes(_with_check("99010119800101001")) == ["region_unknown"]
    assert codes(_with_check("11999919800101001")) == ["region_unknown"]


def test_region_not_yet_created_is_only_a_warning() -> None:
    # 110112 通州区 exists from 1997: a person born in 1980 and registered there later is real.
    number = _with_check("11011219800101001")
    r = check_id_number(number, today=TODAY)
    assert (r.number, r.ok, [(i.code, i.warning) for i in r.issues]) == (number, True, [("region_not_yet", True)])
    assert region_status("110112", 1998) == "ok"
    assert region_status("110103", 2015) == "abolished"  # 崇文区 until 2010


def test_phone_normalisation() -> None:
    expected = "13800138000"
    for raw in ("13800138000", "138-0013-8000", "+86 138 0013 8000", "0086-13800138000", "８６１３８００１３８０００",
                "(+86)138.0013.8000", "１３８００１３８０００"):
        assert normalize_phone(raw) == expected, raw
    assert normalize_phone("020-8888 6666") == "02088886666"
    assert normalize_phone("  ") is None


def test_account_address_and_person_key() -> None:
    assert normalize_account("6222 0200 1234 5678 901") == "6222020012345678901"
    assert normalize_account("６２２２-０２００") == "62220200"
    assert normalize_address(" 广州市 天河区,体育东路１号 ") == "广州市天河区体育东路1号"
    assert person_key("身份证", GB_EXAMPLE, "王芳", "1949-12-31") == GB_EXAMPLE
    assert person_key("护照", "E1234567", "王芳", None) == "护照:E1234567"
    assert person_key("身份证", None, "王小明", "2015-06-01") == "~王小明|2015-06-01"
