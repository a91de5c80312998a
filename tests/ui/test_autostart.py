"""Start with the system: the login item is written where each desktop looks for it."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from softphone.ui import autostart


def test_linux_autostart_is_an_xdg_desktop_entry_that_starts_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled("linux")
    autostart.set_enabled(True, "linux")
    entry = (tmp_path / "autostart" / "softphone.desktop").read_text()
    assert entry.startswith("[Desktop Entry]\n") and "Type=Application" in entry
    assert "softphone.ui.app --hidden" in entry
    assert autostart.is_enabled("linux")


def test_turning_autostart_off_removes_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    autostart.set_enabled(True, "linux")
    autostart.set_enabled(False, "linux")
    assert not (tmp_path / "autostart" / "softphone.desktop").exists()
    autostart.set_enabled(False, "linux")  # already off: no error
    assert not autostart.is_enabled("linux")


def test_macos_autostart_is_a_launch_agent_run_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    autostart.set_enabled(True, "darwin")
    agent = plistlib.loads((tmp_path / "Library/LaunchAgents/org.softphone.Softphone.plist").read_bytes())
    assert agent["RunAtLoad"] is True and agent["ProgramArguments"][-1] == "--hidden"
    assert autostart.is_enabled("darwin")
