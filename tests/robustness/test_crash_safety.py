"""Crash safety: SIGKILL at any moment loses nothing written before, and the next start works.

The history is SQLite in WAL mode with one transaction per change; settings are JSON written to a
temporary file, fsynced and renamed over the old one (``core.settings.write_atomically``).  These
tests kill real processes: a writer hammering both stores, and the desktop app in the middle of a call.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from softphone.core.history import History
from softphone.core.settings import load_accounts
from tests.peers.softphone_cli import CliProcess, free_udp_port

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from softphone.core.account import AccountConfig
    from softphone.core.history import CallRecord, History
    from softphone.core.settings import save_accounts
    history = History()
    n = 0
    while True:
        n += 1
        record = CallRecord(direction="outgoing", remote_uri=f"sip:{n}@example.com", duration=float(n))
        history.add_call(record)
        save_accounts([AccountConfig(aor=f"sip:user{n}@example.com", display_name="x" * (n % 5000))])
        print(n, flush=True)
    """
)


def _profile(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        QT_QPA_PLATFORM="offscreen",
        SOFTPHONE_CONFIG_DIR=str(tmp_path),
        SOFTPHONE_DATA_DIR=str(tmp_path),
    )


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.timeout(120)
def test_sigkill_while_writing_keeps_every_committed_call_and_readable_settings(tmp_path: Path) -> None:
    env = _profile(tmp_path)
    rng = random.Random(4)
    confirmed = 0
    for _round in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        last = 0
        deadline = time.monotonic() + rng.uniform(0.3, 1.2)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert last > 0, "the writer never got going"
        database = tmp_path / "history.sqlite3"
        assert _integrity(database) == "ok"
        with History(database) as history:
            count = len(history.calls(limit=1_000_000))
        # Each confirmed add_call was committed before its number was printed.
        assert count >= confirmed + last
        confirmed = count
        accounts = load_accounts(tmp_path / "accounts.json")
        assert len(accounts) == 1 and accounts[0].aor.startswith("sip:user")


def _app(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[str]:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "softphone.ui.app", "--new-instance", "--listen", "127.0.0.1:0", "-v", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=handle,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_sigkill_during_a_call_loses_no_earlier_history_and_the_app_starts_again(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    env = _profile(tmp_path)
    port = free_udp_port()
    with CliProcess("--listen", f"127.0.0.1:{port}", "answer", "--duration", "120", "--calls", "5") as peer:
        peer.wait_event("started", timeout=20)
        target = f"sip:peer@127.0.0.1:{port}"

        # A first call that ends normally: the app quits (and hangs up) after 6 s.
        first = _app(env, target, "--quit-after", "6", log=tmp_path / "first.log")
        assert first.wait(60) == 0, (tmp_path / "first.log").read_text()[-3000:]
        with History(tmp_path / "history.sqlite3") as history:
            before = history.calls()
        assert [call.remote_uri for call in before] and "peer@127.0.0.1" in before[0].remote_uri

        # A second call, killed while it is up.
        second = _app(env, target, "--quit-after", "60", log=tmp_path / "second.log")
        peer.wait_event("answered", timeout=30)
        peer.wait_event("answered", timeout=30)
        time.sleep(1.0)
        second.send_signal(signal.SIGKILL)
        second.wait(10)

    assert _integrity(tmp_path / "history.sqlite3") == "ok"
    third = _app(env, "--quit-after", "3", log=tmp_path / "third.log")
    assert third.wait(60) == 0, (tmp_path / "third.log").read_text()[-3000:]
    with History(tmp_path / "history.sqlite3") as history:
        after = history.calls()
    assert [call.remote_uri for call in before] == [call.remote_uri for call in after[-len(before) :]]
