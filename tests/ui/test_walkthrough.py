"""A new user's first hour, as they would do it (issue 12): a real window under Xvfb with openbox, driven
with the keyboard through xdotool, against the tests' Kamailio and a baresip phone.

First start -> the wizard -> register; call baresip and hang up; answer a call from baresip and hang up;
quit; start again. Every window of the app must stay on the 1366x768 screen at each step. With
``SOFTPHONE_WALKTHROUGH_SHOTS=DIR`` the screenshots are also written to DIR (docs/screenshots)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.interop.conftest import kamailio, make_baresip  # noqa: F401  (the session's registrar)
from tests.peers.baresip import BaresipFactory
from tests.peers.desktop import (
    desktop_unavailable_reason,
    fresh_user,
    keys,
    screenshot,
    type_text,
    wait_for_window,
    windows_of,
    x_session,
)
from tests.peers.kamailio import KamailioServer

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.interop,
    pytest.mark.timeout(240),
    pytest.mark.skipif(desktop_unavailable_reason() is not None, reason=str(desktop_unavailable_reason())),
]


def wait_until(condition, timeout: float = 15.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {what}")
        time.sleep(0.2)


class Walk:
    def __init__(self, session: dict[str, str], tmp_path: Path) -> None:
        self.session = session
        self.shots = tmp_path / "shots"
        self.shots.mkdir()
        self.keep = os.environ.get("SOFTPHONE_WALKTHROUGH_SHOTS")
        self.app: subprocess.Popen[str] | None = None
        self.log = tmp_path / "app.log"

    def start(self) -> subprocess.Popen[str]:
        with self.log.open("a") as log:
            self.app = subprocess.Popen(
                [sys.executable, "-m", "softphone.ui.app", "--new-instance", "--listen", "127.0.0.1:0", "-v"],
                env=self.session, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        return self.app

    def shot(self, name: str) -> None:
        """A screenshot, and every window of the app checked against the screen."""
        time.sleep(0.6)
        path = screenshot(self.session, self.shots / f"walkthrough-{name}.png")
        if self.keep:
            shutil.copyfile(path, Path(self.keep) / path.name)
        assert self.app is not None
        windows = windows_of(self.session, self.app.pid)
        off = [w for w in windows if not w.on_screen()]
        assert not off, f"{name}: windows run off the 1366x768 screen: {off}"


def test_first_start_register_call_answer_quit_and_start_again(
    kamailio: KamailioServer,  # noqa: F811
    make_baresip: BaresipFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    bob.wait_registered()
    env = fresh_user(tmp_path)
    home = Path(env["HOME"])
    env.update(
        SOFTPHONE_CONFIG_DIR=str(home / "config"), SOFTPHONE_DATA_DIR=str(home / "data"), SOFTPHONE_LANG="en"
    )
    with x_session(env) as session:
        walk = Walk(session, tmp_path)
        app = walk.start()
        try:
            # 1. first start: the wizard
            wizard = wait_for_window(session, "Set up Softphone")
            walk.shot("1-welcome")
            keys(session, wizard, "Return")  # "I have a SIP account" is chosen: Next
            time.sleep(0.5)
            keys(session, wizard, "alt+u")
            type_text(session, "alice")
            keys(session, wizard, "alt+m")
            type_text(session, kamailio.domain)
            keys(session, wizard, "alt+p")
            type_text(session, kamailio.users["alice"])
            keys(session, wizard, "alt+v", "alt+x")  # Advanced, then the outbound proxy
            type_text(session, kamailio.uri())
            walk.shot("2-account")
            keys(session, wizard, "alt+n")  # Next: registers
            wait_until(lambda: "alice" in kamailio.ul_dump(), what="alice registered")
            walk.shot("3-registered")
            keys(session, wizard, "Return")  # Finish
            # 2. call bob by his user name, from the account the wizard made
            main = wait_for_window(session, "^Softphone$")
            keys(session, main, "ctrl+l")
            type_text(session, "bob")
            keys(session, main, "Return")
            bob.wait_event("CALL_ESTABLISHED", timeout=15)
            call = wait_for_window(session, "Call with")
            walk.shot("4-call-connected")
            keys(session, call, "ctrl+shift+e")  # hang up
            bob.wait_event("CALL_CLOSED", timeout=10)
            # 3. bob calls: the incoming window, answered from the keyboard
            time.sleep(4.5)  # the ended call's window closes by itself
            bob.dial(kamailio.aor("alice"))
            incoming = wait_for_window(session, "Call with")
            walk.shot("5-incoming")
            keys(session, incoming, "ctrl+shift+a")
            wait_until(lambda: len(bob.events("CALL_ESTABLISHED")) >= 2, what="bob's call answered")
            walk.shot("6-answered")
            keys(session, incoming, "ctrl+shift+e")
            wait_until(lambda: len(bob.events("CALL_CLOSED")) >= 2, what="bob's call ended")
            # 4. quit: unregistered, status 0
            main = wait_for_window(session, "^Softphone$")
            keys(session, main, "ctrl+q")
            assert app.wait(timeout=20) == 0, walk.log.read_text()[-3000:]
            wait_until(lambda: "alice" not in kamailio.ul_dump(), timeout=5, what="alice unregistered")
            # 5. start again: no wizard, registered at once
            app = walk.start()
            main = wait_for_window(session, "^Softphone$")
            wait_until(lambda: "alice" in kamailio.ul_dump(), what="alice registered again")
            walk.shot("7-started-again")
            keys(session, main, "ctrl+q")
            assert app.wait(timeout=20) == 0
        finally:
            if walk.app is not None and walk.app.poll() is None:
                walk.app.kill()
