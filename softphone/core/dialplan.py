"""Dial plans: what the user typed or pasted, as the string the provider expects.

Pure functions, no I/O. ``"+49 30 123"``, ``"0049 (0)30-123"`` and ``"tel:+4930123"`` are phone
numbers; ``"alice@example.com"`` and ``"sip:bob@host"`` are SIP addresses and pass through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NumberFormat = Literal["international", "e164", "national", "asis"]

_SEPARATORS = re.compile(r"[\s\-./()\u00a0\u2010-\u2015]+")
_TRUNK_IN_BRACKETS = re.compile(r"^\+(\d{1,3})\s*\(0\)")
_DIALABLE = re.compile(r"^\+?[0-9*#]+$")
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~!$&'*+=-]*$")


@dataclass(frozen=True)
class DialPlan:
    """How one account's provider wants numbers.

    ``country_code``: the account's own country (``"49"``), needed to turn national numbers into
    international ones and back. ``number_format``: ``international`` sends ``00<cc><number>``,
    ``e164`` sends ``+<cc><number>``, ``national`` sends ``0<number>`` for numbers in the own country
    (and international form for others), ``asis`` only strips separators.
    """

    country_code: str = ""
    international_prefix: str = "00"
    national_prefix: str = "0"
    number_format: NumberFormat = "international"

    def __post_init__(self) -> None:
        for name in ("country_code", "international_prefix", "national_prefix"):
            value = getattr(self, name)
            if value and not value.isdigit():
                raise ValueError(f"{name} must be digits, not {value!r}")


def is_sip_address(text: str) -> bool:
    """A SIP address (with scheme or ``user@host``) rather than a phone number."""
    text = text.strip()
    lowered = text.lower()
    return lowered.startswith(("sip:", "sips:")) or ("@" in text and not lowered.startswith("tel:"))


def clean_number(text: str) -> str | None:
    """Separators removed, ``tel:`` and ``(0)`` dropped: ``+4930123``, ``004930123``, ``*21#``.

    None when the text is not a phone number at all.
    """
    text = text.strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    text = _TRUNK_IN_BRACKETS.sub(r"+\1", text)
    text = _SEPARATORS.sub("", text)
    if not text or not _DIALABLE.match(text):
        return None
    return text


def _split_international(number: str, plan: DialPlan) -> str | None:
    """The number after the country code's start (``4930123``), when it is international."""
    if number.startswith("+"):
        return number[1:]
    if plan.international_prefix and number.startswith(plan.international_prefix):
        return number[len(plan.international_prefix) :]
    return None


def apply_dial_plan(text: str, plan: DialPlan) -> str:
    """What to send for ``text``: SIP addresses unchanged, numbers in the plan's format.

    >>> apply_dial_plan("+49 30 123", DialPlan(country_code="49"))
    '004930123'
    >>> apply_dial_plan("0049 30 123", DialPlan(country_code="49", number_format="national"))
    '030123'
    """
    stripped = text.strip()
    if is_sip_address(stripped):
        return stripped
    number = clean_number(stripped)
    if number is None:
        return stripped
    if plan.number_format == "asis" or not number[0].isdigit() and number[0] != "+":
        return number
    if any(c in number for c in "*#"):
        return number  # service codes (*21#) are never rewritten
    international = _split_international(number, plan)
    if international is None:
        # national (0 30 123) or local (123): only rewritten when we know the country
        if (
            plan.country_code
            and plan.national_prefix
            and number.startswith(plan.national_prefix)
            and plan.number_format in ("international", "e164")
        ):
            international = plan.country_code + number[len(plan.national_prefix) :]
        else:
            return number
    if plan.number_format == "e164":
        return "+" + international
    if plan.number_format == "national" and plan.country_code and international.startswith(plan.country_code):
        return plan.national_prefix + international[len(plan.country_code) :]
    return plan.international_prefix + international


def dial_string(text: str, plan: DialPlan | None = None) -> str:
    """The string for ``Engine.call``: SIP addresses as typed, numbers through the plan."""
    return apply_dial_plan(text, plan or DialPlan())


def is_user_name(text: str) -> bool:
    """A bare user or extension name (``carol``, ``sales.team``): callable at an account's domain."""
    return bool(_USER_NAME.match(text.strip()))


def looks_dialable(text: str, *, user_names: bool = False) -> bool:
    """Something worth pressing Call for: a SIP address or a phone number (or, with an account to
    call from and ``user_names``, a bare user name)."""
    stripped = text.strip()
    if not stripped:
        return False
    if is_sip_address(stripped):
        return len(stripped.split(":", 1)[-1]) > 0
    return clean_number(stripped) is not None or (user_names and is_user_name(stripped))
