"""Resident IDs are checked by length, check digit and birth date, never by region code."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from epigrid.core.identity import (
    make_resident_id,
    mask_document,
    mask_phone,
    normalise_document,
    normalise_phone,
    resident_id_facts,
    validate_resident_id,
)


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_it_accepts_the_valid_examples_of_domain_md(number):
    assert validate_resident_id(number) == number


def test_it_rejects_the_invalid_example_of_domain_md_for_its_check_digit():
    with pytest.raises(ValidationError) as exc:
        validate_resident_id("360426199101010072")
    assert exc.value.code == "checksum"


def test_it_accepts_a_lanzhou_chengguan_id_of_someone_born_before_1983():
    # python-stdnum's ric.validate() rejects these for their region code; we must not.
    number = make_resident_id("620102", datetime.date(1941, 3, 8), 27)
    assert validate_resident_id(number) == number


def test_it_accepts_an_unknown_region_code():
    number = make_resident_id("999999", datetime.date(1990, 1, 1), 11)
    assert validate_resident_id(number) == number


def test_it_normalises_full_width_characters_spaces_and_lowercase_x():
    assert validate_resident_id("１１０１０５ 1949 1231 002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("11010519491231A02X", "format"),
        ("110105194902300021", "birth_date"),  # 30 February
    ],
)
def test_it_rejects_malformed_ids_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number)
    assert exc.value.code == code


def test_it_rejects_a_birth_date_in_the_future():
    number = make_resident_id("620102", timezone.localdate() + datetime.timedelta(days=30), 1)
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number)
    assert exc.value.code == "birth_date"


def test_it_reads_sex_and_birth_date_from_the_id():
    assert resident_id_facts("11010519491231002X") == ("F", datetime.date(1949, 12, 31))
    assert resident_id_facts("440524188001010014") == ("M", datetime.date(1880, 1, 1))


def test_it_normalises_other_documents_without_checking_digits():
    assert normalise_document("400", " e1234５678 ") == "E12345678"


@pytest.mark.parametrize(
    "raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "１３８１２３４５６７８"]
)
def test_it_normalises_mainland_mobiles_to_e164(raw):
    assert normalise_phone(raw) == "+8613812345678"


def test_it_accepts_a_lanzhou_landline():
    assert normalise_phone("0931-8888888") == "+869318888888"


@pytest.mark.parametrize("raw", ["12345", "1381234567", "abc", "23812345678"])
def test_it_rejects_invalid_phones(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)


def test_it_masks_ids_and_phones_like_offices_do():
    assert mask_document("620102194501010012") == "6201**********0012"
    assert mask_phone("+8613812345678") == "138****5678"
