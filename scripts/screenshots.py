#!/usr/bin/env python3
"""Renders each main screen of the desktop app in a real window and saves PNGs into docs/screenshots.

    xvfb-run -a .venv/bin/python scripts/screenshots.py            # 100 % and 200 %, light and dark

Runs itself once per scale factor (QT_SCALE_FACTOR=1 and 2). The windows show made-up accounts,
calls and contacts (no network): what a user sees, not what a test peer does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def children(scales: list[str], themes: list[str], out: Path) -> int:
    status = 0
    for scale in scales:
        for theme in themes:
            env = dict(
                os.environ, QT_SCALE_FACTOR=scale, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb")
            )
            env.pop("QT_AUTO_SCREEN_SCALE_FACTOR", None)
            with tempfile.TemporaryDirectory() as profile:
                env["SOFTPHONE_CONFIG_DIR"] = profile
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    "--theme",
                    theme,
                    "--scale",
                    scale,
                    "--out",
                    str(out),
                ]
                result = subprocess.run(cmd, env=env, cwd=ROOT)
                status = status or result.returncode
    return status


def render(theme: str, scale: str, out: Path) -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    from softphone.core.account import AccountConfig
    from softphone.core.engine import Engine
    from softphone.core.events import EngineEvent
    from softphone.core.history import CallRecord, Contact, ContactNumber, History
    from softphone.core.trace import TraceEntry
    from softphone.ui.controller import PhoneController
    from softphone.ui.main_window import MainWindow
    from softphone.ui.preferences import Preferences
    from softphone.ui.theme import app_icon, apply_scheme
    from tests.ui.fakes import FakeCall, run_now

    app = QApplication([sys.argv[0]])
    app.setApplicationName("Softphone")
    app.setWindowIcon(app_icon())
    apply_scheme(app, theme)
    suffix = f"-{theme}" + ("" if scale in ("1", "1.0") else f"@{scale}x")
    out.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 250) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shoot(widget: QWidget, name: str) -> None:
        widget.show()
        widget.raise_()
        settle()
        path = out / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        print(path)

    engine = Engine()
    history = History(":memory:")
    now = time.time()
    bob = Contact(
        "Bob Builder",
        [ContactNumber("mobile", "+49 151 2345 6789"), ContactNumber("sip", "sip:bob@example.com")],
        organization="ACME",
    )
    history.add_contact(bob)
    history.add_contact(Contact("Carol Jones", [ContactNumber("work", "sip:carol@example.org")]))
    history.add_contact(Contact("Dave Müller", [ContactNumber("home", "030 1234567")]))
    history.add_call(
        CallRecord(
            "incoming", "sip:+4915123456789@sip.example.com", started=now - 300, outcome="missed", seen=False
        )
    )
    history.add_call(
        CallRecord("outgoing", "sip:carol@example.org", "Carol Jones", started=now - 3600, duration=754)
    )
    history.add_call(
        CallRecord("incoming", "sip:0301234567@sip.example.com", started=now - 86400 - 1000, duration=95)
    )
    history.add_call(
        CallRecord(
            "outgoing", "sip:support@provider.example", started=now - 3 * 86400, outcome="busy", status=486
        )
    )
    history.add_call(
        CallRecord(
            "incoming", "sip:erin@example.net", "Erin", started=now - 9 * 86400, outcome="missed", seen=False
        )
    )
    alice = AccountConfig(aor="sip:alice@sip.example.com", display_name="Alice Example")
    work = AccountConfig(aor="sip:4930555@pbx.example.org")
    controller = PhoneController(engine, [alice, work], history, Preferences(), persist=False, spawn=run_now)
    window = MainWindow(controller)
    engine.emit(EngineEvent("registered", alice.id, {"expires": 600, "contact": "sip:alice@192.0.2.5"}))
    engine.emit(
        EngineEvent(
            "registration_failed",
            work.id,
            {
                "status": 403,
                "reason": "authentication failed: wrong user name or password",
                "retry_in": None,
                "permanent": True,
            },
        )
    )
    window.move(40, 40)
    shoot(window, "main-keypad")
    window.tabs.setCurrentIndex(1)
    shoot(window, "main-history")
    window.tabs.setCurrentIndex(2)
    shoot(window, "main-contacts")
    window.tabs.setCurrentIndex(0)
    window.dialer.input.setText("bo")
    shoot(window, "main-search")
    window.dialer.input.clear()

    # an outgoing call, connected, quality shown
    call = FakeCall(engine, "outgoing", "sip:bob@example.com", None, alice)
    controller._track(call)  # noqa: SLF001  (what Engine.call hands the controller)
    call.emit("calling", to="sip:bob@example.com")
    call.connect("opus", srtp=True)
    call.media.numbers = {
        "jitter_ms": 4.2,
        "fraction_lost": 0.004,
        "packets_lost": 3,
        "rtt_ms": 38.0,
        "packets_sent": 3120,
        "packets_received": 3098,
    }
    controller._poll_stats()  # noqa: SLF001
    call_window = window.call_windows[call.id]
    info = controller.calls[call.id]
    info.answered_at = time.monotonic() - 83
    call_window.update_view()
    shoot(call_window, "call-connected")
    call_window.quality_button.setChecked(True)
    call_window.keypad_button.setChecked(True)
    call_window.dtmf_label.setText("123#")
    shoot(call_window, "call-quality-keypad")
    call_window.quality_button.setChecked(False)
    call_window.keypad_button.setChecked(False)
    call.emit("levels", mic={"peak": -14.0, "rms": -20.0}, speaker={"peak": -9.0, "rms": -15.0})
    call_window._update_meters()  # noqa: SLF001  (the meters' 10 Hz timer, once)
    call_window.audio_button.setChecked(True)
    shoot(call_window, "call-audio")
    call_window.audio_button.setChecked(False)
    run_now(call.hold(True))
    shoot(call_window, "call-on-hold")
    shoot(window, "main-active-call")
    call_window.auto_close_ms = -1
    call.end("remote hangup", None, 83)
    shoot(call_window, "call-ended")

    incoming = FakeCall(engine, "incoming", "sip:carol@example.org", "Carol Jones", alice)
    incoming.emit("incoming", **{"from": "sip:carol@example.org", "display_name": "Carol Jones"})
    shoot(window.call_windows[incoming.id], "call-incoming")

    # dialogs
    dialog = window.add_account()
    dialog.form.display_name.setText("Alice Example")
    dialog.form.user.setText("alice")
    dialog.form.domain.setText("sip.example.com")
    dialog.form.password.setText("secret")
    shoot(dialog, "account-dialog")
    dialog.form.advanced.setChecked(True)
    dialog.adjustSize()
    shoot(dialog, "account-dialog-advanced")
    dialog.reject()

    settings = window.open_settings()
    for index, name in enumerate(
        ("settings-accounts", "settings-audio", "settings-calls", "settings-general")
    ):
        settings.tabs.setCurrentIndex(index)  # type: ignore[attr-defined]
        shoot(settings, name)
    settings.reject()

    wizard = window.open_wizard()
    shoot(wizard, "wizard-welcome")
    wizard.next()  # type: ignore[attr-defined]
    wizard.account.form.user.setText("alice")  # type: ignore[attr-defined]
    wizard.account.form.domain.setText("sip.example.com")  # type: ignore[attr-defined]
    wizard.account.form.password.setText("secret")  # type: ignore[attr-defined]
    shoot(wizard, "wizard-account")
    wizard.reject()

    for n, (direction, text) in enumerate(
        [
            (
                "out",
                "REGISTER sip:sip.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.5:5060\r\n"
                "CSeq: 1 REGISTER\r\n\r\n",
            ),
            (
                "in",
                "SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\n"
                'WWW-Authenticate: Digest realm="example"\r\n\r\n',
            ),
            (
                "out",
                "REGISTER sip:sip.example.com SIP/2.0\r\nCSeq: 2 REGISTER\r\n"
                "Authorization: Digest <redacted>\r\n\r\n",
            ),
            ("in", "SIP/2.0 200 OK\r\nCSeq: 2 REGISTER\r\nExpires: 600\r\n\r\n"),
            (
                "out",
                "INVITE sip:bob@example.com SIP/2.0\r\nCSeq: 1 INVITE\r\n"
                "Content-Type: application/sdp\r\n\r\n",
            ),
            ("in", "SIP/2.0 100 Trying\r\nCSeq: 1 INVITE\r\n\r\n"),
            ("in", "SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n"),
            ("in", "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n"),
            ("out", "ACK sip:bob@198.51.100.7 SIP/2.0\r\nCSeq: 1 ACK\r\n\r\n"),
        ]
    ):
        controller.on_trace(TraceEntry(direction, "203.0.113.10:5060", text, now - 30 + n * 0.4))
    trace = window.open_trace()
    trace.table.selectRow(7)  # type: ignore[attr-defined]
    shoot(trace, "trace-list")
    trace.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    shoot(trace, "trace-ladder")
    trace.close()
    for widget in app.topLevelWidgets():
        widget.hide()
    settle(50)
    history.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", default="1")
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument("--scales", default="1,2", help="scale factors to render (default 1,2)")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.child:
        render(args.theme, args.scale, args.out)
        return 0
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print("no display: run under xvfb-run -a", file=sys.stderr)
        return 2
    return children(args.scales.split(","), args.themes.split(","), args.out)


if __name__ == "__main__":
    sys.exit(main())
