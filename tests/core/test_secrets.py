"""Passwords: the OS keyring when there is one; a 0600 file, with a warning, only when there is none."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from softphone.core import secrets


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SOFTPHONE_CONFIG_DIR", str(tmp_path))
    previous = keyring.get_keyring()
    yield tmp_path
    keyring.set_keyring(previous)


def test_with_a_keyring_the_password_goes_there_and_never_to_a_file(profile: Path) -> None:
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    secrets.set_password("sip:alice@example.com", "s3cret")
    assert memory.store[("softphone", "sip:alice@example.com")] == "s3cret"
    assert not (profile / secrets.FALLBACK_FILE).exists()
    assert secrets.get_password("sip:alice@example.com") == "s3cret"


def test_without_a_keyring_the_password_goes_to_a_private_file_with_a_warning(
    profile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keyring.set_keyring(fail.Keyring())
    with caplog.at_level(logging.WARNING):
        secrets.set_password("sip:alice@example.com", "s3cret")
    assert "no system keyring" in caplog.text and "s3cret" not in caplog.text
    path = profile / secrets.FALLBACK_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.get_password("sip:alice@example.com") == "s3cret"


def test_deleting_removes_the_password_from_the_fallback_file(profile: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    secrets.set_password("sip:alice@example.com", "s3cret")
    secrets.set_password(secrets.turn_key("sip:alice@example.com"), "turn")
    secrets.delete_password("sip:alice@example.com")
    assert secrets.get_password("sip:alice@example.com") is None
    assert secrets.get_password(secrets.turn_key("sip:alice@example.com")) == "turn"
