"""The desktop application starts, shows accounts with their state, and quits cleanly."""

from __future__ import annotations

import json
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


def test_a_second_launch_hands_its_uri_to_the_running_phone(tmp_path: Path) -> None:
    """Single instance: the second `softphone sip:...` exits at once; the first one dials."""
    import time

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SOFTPHONE_CONFIG_DIR=str(tmp_path))
    log = tmp_path / "first.log"
    with log.open("w") as stderr:
        first = subprocess.Popen(
            [sys.executable, "-m", "softphone.ui.app", "--quit-after", "20", "--listen", "127.0.0.1:0"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    try:
        deadline = time.monotonic() + 15
        while "waiting for other launches" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        while True:
            second = subprocess.run(
                [sys.executable, "-m", "softphone.ui.app", "--quit-after", "5", "sip:nobody@127.0.0.1:9"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=30,
            )
            if "handed over" in second.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "handed over" in second.stderr
        deadline = time.monotonic() + 10
        while "dialling sip:nobody@127.0.0.1:9" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "dialling sip:nobody@127.0.0.1:9" in log.read_text()
        assert first.wait(timeout=40) == 0, log.read_text()[-2000:]  # it dialled, then quit cleanly
    finally:
        if first.poll() is None:
            first.terminate()
            first.wait(timeout=30)


@pytest.mark.interop
@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_phone_like_quit_and_leaves_no_binding(signal_name: str, tmp_path: Path) -> None:
    """Logging out sends SIGTERM: the phone un-REGISTERs (Kamailio keeps no binding), and exits 0."""
    import shutil
    import signal
    import time

    if shutil.which("kamailio") is None:
        pytest.skip("kamailio not installed")
    from softphone.core.account import AccountConfig
    from softphone.core.settings import save_accounts
    from tests.peers.kamailio import KamailioServer

    server = KamailioServer().start()
    try:
        user = "alice"
        account = AccountConfig(aor=server.aor(user), registrar=server.uri())
        save_accounts([account], tmp_path / "accounts.json")
        (tmp_path / "secrets.json").write_text(json.dumps({account.id: server.users[user]}))
        (tmp_path / "secrets.json").chmod(0o600)
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            SOFTPHONE_CONFIG_DIR=str(tmp_path),
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        log = tmp_path / "app.log"
        with log.open("w") as stderr:
            app = subprocess.Popen(
                [sys.executable, "-m", "softphone.ui.app", "--new-instance", "--listen", "127.0.0.1:0", "-v"],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not server.ul_dump().get(user) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert server.ul_dump().get(user), log.read_text()[-3000:]
            app.send_signal(getattr(signal, signal_name))
            assert app.wait(timeout=30) == 0, log.read_text()[-3000:]
        finally:
            if app.poll() is None:
                app.kill()
        assert f"{signal_name} received" in log.read_text()
        assert not server.ul_dump().get(user), "the registrar kept the binding"
    finally:
        server.stop()
