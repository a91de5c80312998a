"""softphone-cli's STUN/TURN options reach the media of its calls the way an account's do."""

from __future__ import annotations

import pytest

from softphone.calls_cli import media_options
from softphone.cli import build_parser
from softphone.media.session import MediaOptions


def options_for(*args: str) -> MediaOptions:
    return media_options(build_parser().parse_args(["call", "sip:bob@example.com", *args]))


@pytest.mark.parametrize("option", ["--stun-server", "--turn-server"])
def test_a_stun_or_turn_server_turns_ice_on_as_for_an_account(option: str) -> None:
    """Without ICE the server would be ignored and the offer would carry the private address."""
    options = options_for(option, "198.18.0.1:3478")
    assert options.ice is True


def test_no_nat_option_leaves_ice_off() -> None:
    assert options_for().ice is False
