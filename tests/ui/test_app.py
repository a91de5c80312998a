"""The desktop application starts, shows accounts with their state, and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from softphone.core.account import AccountConfig  # noqa: E402
from softphone.core.engine import Engine  # noqa: E402
from softphone.core.events import EngineEvent  # noqa: E402
from softphone.ui.app import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_app_starts_and_quits_with_status_0(tmp_path: Path) -> None:
    """Known trap: PySide6 6.12.0 with qasync aborts at exit (bool_dealloc); ours exits 0."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SOFTPHONE_CONFIG_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "softphone.ui.app", "--quit-after", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_account_list_shows_registration_state_and_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The account list shows the live state, and a failure in words."""
    account = AccountConfig(aor="sip:alice@example.com")
    window = MainWindow(Engine(), [account])
    qtbot.addWidget(window)
    window.engine.emit(EngineEvent("registered", account.id, {"expires": 600, "contact": "sip:a@h"}))
    assert "Registered" in window.items[account.id].text()
    window.engine.emit(
        EngineEvent(
            "registration_failed",
            account.id,
            {"status": 401, "reason": "authentication failed: wrong user name or password", "retry_in": None},
        )
    )
    assert "wrong user name or password" in window.items[account.id].text()
