"""Shared by the atheris targets: import path, known-bug filters, entry point."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# FUZZ_STRICT=1: crash on the known bugs too (by default the targets step around them so that
# a run keeps looking for new ones; tests/robustness/test_parsers_property.py pins them).
STRICT = os.environ.get("FUZZ_STRICT") == "1"


def has_non_ascii_digit(data: str | bytes) -> bool:
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return any(ch.isdigit() and not ch.isascii() for ch in data)


def known_unicode_digit_bug(exc: BaseException, data: str | bytes) -> bool:
    """BUG-1: str.isdigit() accepts '²' and friends, int() refuses them -> ValueError."""
    return (
        not STRICT
        and type(exc) is ValueError
        and "invalid literal for int()" in str(exc)
        and has_non_ascii_digit(data)
    )


def known_framer_bug(buffered: bytes) -> bool:
    """BUG-2: after CR LF CR (not a ping) the StreamFramer buffers without limit."""
    return not STRICT and buffered.startswith(b"\r\n\r") and not buffered.startswith(b"\r\n\r\n")


def known_crypto_lifetime_bug(key_params: str) -> bool:
    """BUG-4: ``inline:KEY|junk|2^20`` - sdp.Crypto.problem() looks at the last lifetime only,
    srtp.SrtpKey.from_inline at every one: negotiation accepts what SRTP then refuses."""
    extras = key_params.partition(":")[2].split("|")[1:]
    return not STRICT and len([e for e in extras if ":" not in e]) > 1


def main(test_one_input: Callable[[bytes], None]) -> None:
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
