"""Building a controller and a main window for widget tests (no network, no event loop needed)."""

from __future__ import annotations

from typing import Any

from softphone.core.account import AccountConfig
from softphone.core.engine import Engine
from softphone.core.history import History
from softphone.ui.controller import PhoneController
from softphone.ui.main_window import MainWindow
from softphone.ui.preferences import Preferences
from tests.ui.fakes import FakeCall, run_now


class DialRecorder:
    """Replaces Engine.call: records what the GUI asked for and returns a FakeCall."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: list[tuple[str, str | None]] = []
        self.made: list[FakeCall] = []

    async def __call__(self, uri: str, account_id: str | None = None) -> Any:
        self.calls.append((uri, account_id))
        account = self.engine.registrations[account_id].config if account_id else None
        target = uri if uri.startswith("sip:") or "@" not in uri else "sip:" + uri
        if "@" not in target:
            target = f"sip:{uri}@{account.uri.host if account else 'example.com'}"
        call = FakeCall(self.engine, "outgoing", target, None, account)
        self.made.append(call)
        return call


def make_window(
    accounts: list[AccountConfig] | None = None, prefs: Preferences | None = None
) -> tuple[MainWindow, PhoneController, DialRecorder]:
    engine = Engine()
    engine.media_factory = lambda: None  # type: ignore[assignment,return-value]
    recorder = DialRecorder(engine)
    engine.call = recorder  # type: ignore[method-assign]
    accounts = accounts or []
    history = History(":memory:")
    controller = PhoneController(
        engine, accounts, history, prefs or Preferences(), persist=False, spawn=run_now
    )
    for account in accounts:
        engine.add_account(account)
    window = MainWindow(controller)
    return window, controller, recorder
