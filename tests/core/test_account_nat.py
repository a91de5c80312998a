"""An account's NAT traversal settings (STUN, TURN, relay-only, profile) reach the media of its calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from softphone.core.account import AccountConfig, AccountError
from softphone.core.engine import Engine
from softphone.core.settings import load_accounts, save_accounts
from softphone.media.session import AudioCallMedia, MediaOptions


def account(**kw: object) -> AccountConfig:
    return AccountConfig(aor="sip:alice@example.com", register=False, **kw)  # type: ignore[arg-type]


def test_an_account_without_nat_settings_changes_nothing() -> None:
    assert account().media_settings() == {}


def test_stun_or_turn_turns_ice_on_for_classic_calls() -> None:
    settings = account(stun_server="stun.example.com", turn_server="turn.example.com").media_settings()
    assert settings["ice"] is True
    assert settings["stun_server"] == "stun.example.com" and settings["turn_server"] == "turn.example.com"


def test_relay_only_without_a_turn_server_is_refused_with_a_reason() -> None:
    with pytest.raises(AccountError, match="TURN"):
        account(ice_relay_only=True)


def test_an_unknown_media_profile_is_refused() -> None:
    with pytest.raises(AccountError, match="profile"):
        account(media_profile="sdes")


def test_the_turn_password_is_never_written_to_the_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    save_accounts([account(turn_server="turn.example.com", turn_username="u", turn_password="s3cret")], path)
    assert "s3cret" not in path.read_text()
    loaded = load_accounts(path)[0]
    assert loaded.turn_server == "turn.example.com" and loaded.turn_password is None
    assert json.loads(path.read_text())["accounts"][0]["turn_username"] == "u"


def test_calls_of_the_account_get_its_turn_server_and_relay_only() -> None:
    engine = Engine(media=MediaOptions(codecs=["PCMU"]))
    config = account(
        turn_server="turn:192.0.2.7:3478",
        turn_username="u",
        turn_password="p",
        ice_relay_only=True,
        media_profile="webrtc",
    )
    media = engine._media_for(config)
    assert isinstance(media, AudioCallMedia)
    options = media.options
    assert options.ice and options.ice_relay_only and options.profile == "webrtc"
    assert (options.turn_server, options.turn_username, options.turn_password) == (
        "turn:192.0.2.7:3478",
        "u",
        "p",
    )
    # other calls are not affected: the engine's options are not changed in place
    assert not engine._media_for(None).options.ice  # type: ignore[attr-defined]
