"""Stand-ins for the engine's calls, for widget tests without a network (and the screenshots)."""

from __future__ import annotations

import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from softphone.core.account import AccountConfig
from softphone.core.engine import Engine
from softphone.core.events import EngineEvent
from softphone.sip.address import Address
from softphone.sip.uri import parse_uri


def run_now(coro: Coroutine[Any, Any, Any]) -> None:
    """Runs a coroutine that never really waits (the fakes' methods) to its end, at once."""
    try:
        while True:
            coro.send(None)
    except StopIteration:
        pass


class FakeMedia:
    def __init__(self) -> None:
        self.muted = False
        self.numbers: dict[str, Any] = {}

    def set_mute(self, on: bool) -> None:
        self.muted = on

    def stats(self) -> dict[str, Any]:
        return dict(self.numbers)


class FakeCall:
    """Behaves like softphone.core.call.Call towards the GUI: methods emit the engine's events."""

    def __init__(
        self,
        engine: Engine,
        direction: str,
        uri: str,
        display_name: str | None = None,
        account: AccountConfig | None = None,
    ) -> None:
        self.engine = engine
        self.id = secrets.token_hex(6)
        self.direction = direction
        self.remote = Address(parse_uri(uri), display_name)
        self.account = account
        self.media = FakeMedia()
        self.state = "ringing" if direction == "incoming" else "calling"
        self.dtmf_sent = ""
        self.held = False
        engine.calls[self.id] = self

    def emit(self, name: str, **fields: Any) -> None:
        account = self.account.id if self.account else None
        self.engine.emit(EngineEvent(name, account, {"call": self.id, **fields}))

    def connect(self, codec: str = "opus", srtp: bool = True) -> None:
        self.state = "connected"
        self.emit("answered", codec=codec, clock_rate=48000, srtp=srtp, profile="RTP/SAVP", dtmf=True)

    def start_recording(self, path: str) -> str:
        """As Call does: the file is made (empty here), and a ``recording`` event says so."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(b"")
        self.recording = path
        self.emit("recording", on=True, path=path)
        return path

    def stop_recording(self) -> str | None:
        path = getattr(self, "recording", None)
        if path is not None:
            self.emit("recording", on=False, path=path)
        return path

    def end(self, reason: str, status: int | None = None, duration: float = 0.0) -> None:
        self.state = "ended"
        self.emit("ended", reason=reason, status=status, duration=duration)
        self.engine.calls.pop(self.id, None)

    async def answer(self) -> None:
        self.connect()

    async def reject(self, status: int = 486, reason: str | None = None) -> None:
        self.end("rejected", status)

    async def hangup(self) -> None:
        if self.state == "connected":
            self.end("local hangup", None, 12.0)
        elif self.direction == "outgoing":
            self.end("cancelled", 487)
        else:
            self.end("rejected", 603)

    async def hold(self, on: bool = True) -> bool:
        if self.state != "connected" or self.held == on:
            return False
        self.held = on
        self.emit("held" if on else "resumed", by="local")
        return True

    async def send_dtmf(self, digits: str) -> None:
        self.dtmf_sent += digits
