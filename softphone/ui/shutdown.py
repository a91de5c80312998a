"""Ending the phone from outside, like Phone -> Quit: SIGTERM (logging out, systemd, `kill`), SIGINT
(Ctrl+C in a terminal), SIGHUP (the terminal went away), and the session manager's "end session"
(Qt's commitDataRequest: the X11/Wayland session manager, WM_QUERYENDSESSION on Windows, and
applicationShouldTerminate on macOS all arrive there). Quitting un-REGISTERs, ends calls with BYE,
flushes the history and exits 0; without this, the registrar keeps a binding to a dead Contact and
callers ring nobody until it expires.

Python runs a signal handler only between bytecodes, and Qt's event loop is C++: the C-level handler
writes to a wakeup socket (``signal.set_wakeup_fd``) that a QSocketNotifier watches, so the Python
handler runs at once.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

QUIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


class QuitOnSignals(QObject):
    def __init__(self, app: QGuiApplication, quit: Callable[[], None]) -> None:
        super().__init__(app)
        self._quit = quit
        self._asked = False
        self._reader, self._writer = socket.socketpair()
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        app.commitDataRequest.connect(lambda _manager: self._request("the session is ending"))

    def _on_signal(self, number: int, _frame: object) -> None:
        self._request(f"{signal.Signals(number).name} received")

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _request(self, why: str) -> None:
        if self._asked:
            return
        self._asked = True
        log.info("%s: hanging up, unregistering and quitting", why)
        self._quit()

    def close(self) -> None:
        """Give the signals back (after the engine has stopped)."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()


def quit_on_signals(app: QGuiApplication, quit: Callable[[], None]) -> QuitOnSignals | None:
    if sys.platform == "win32":  # no wakeup fd for Qt's loop there; the session end still arrives
        app.commitDataRequest.connect(lambda _manager: quit())
        return None
    return QuitOnSignals(app, quit)
