"""The dial plan turns typed and pasted numbers into what the provider expects."""

from __future__ import annotations

import pytest

from softphone.core.dialplan import (
    DialPlan,
    apply_dial_plan,
    clean_number,
    dial_string,
    is_sip_address,
    is_user_name,
    looks_dialable,
)

GERMANY = DialPlan(country_code="49")


@pytest.mark.parametrize(
    "text",
    ["+49 30 123", "0049 30 123", "+49 (0)30 123", "+49-30-123", "tel:+4930123", " 0049.30.123 ", "030 123"],
)
def test_german_numbers_become_digits_only(text: str) -> None:
    assert apply_dial_plan(text, GERMANY) == "004930123"


def test_without_a_country_plus_becomes_the_international_prefix() -> None:
    assert apply_dial_plan("+49 30 123", DialPlan()) == "004930123"
    assert apply_dial_plan("0049 30 123", DialPlan()) == "004930123"
    assert apply_dial_plan("030 123", DialPlan()) == "030123"  # national: left alone


def test_e164_and_national_formats() -> None:
    e164 = DialPlan(country_code="49", number_format="e164")
    assert apply_dial_plan("0049 30 123", e164) == "+4930123"
    assert apply_dial_plan("030 123", e164) == "+4930123"
    national = DialPlan(country_code="49", number_format="national")
    assert apply_dial_plan("+49 30 123", national) == "030123"
    assert apply_dial_plan("+33 1 23", national) == "00331" + "23"


def test_other_international_prefix() -> None:
    usa = DialPlan(country_code="1", international_prefix="011", national_prefix="1")
    assert apply_dial_plan("+44 20 7946 0000", usa) == "011442079460000"


def test_sip_addresses_pass_unchanged() -> None:
    for text in ("sip:bob@example.com", "alice@example.com", "sips:carol@host:5061;transport=tls"):
        assert is_sip_address(text)
        assert apply_dial_plan(text, GERMANY) == text
    assert not is_sip_address("tel:+4930123")


def test_service_codes_and_asis() -> None:
    assert apply_dial_plan("*21#", GERMANY) == "*21#"
    assert apply_dial_plan("+49 30 123", DialPlan(number_format="asis")) == "+4930123"


def test_not_a_number_is_returned_stripped() -> None:
    assert clean_number("bob") is None
    assert apply_dial_plan(" bob ", GERMANY) == "bob"
    assert dial_string("+49 30 123") == "004930123"


def test_looks_dialable() -> None:
    assert looks_dialable("+49 30 123")
    assert looks_dialable("bob@host")
    assert looks_dialable("sip:bob@host")
    assert not looks_dialable("")
    assert not looks_dialable("sip:")
    assert not looks_dialable("hello world")
    assert not looks_dialable("carol")
    assert looks_dialable("carol", user_names=True)
    assert looks_dialable("sales.team", user_names=True)
    assert not looks_dialable("carol smith", user_names=True)
    assert is_user_name("carol") and not is_user_name("-x")


def test_plan_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        DialPlan(country_code="DE")
