"""Engine events: one stream that the GUI and the CLI both show."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EngineEvent:
    """Something that happened, for the user: ``name`` is the stable event name
    (``registering``, ``registered``, ``registration_failed``, ``unregistered`` ...)."""

    name: str
    account: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    timestamp: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.name}
        if self.account is not None:
            out["account"] = self.account
        out.update(self.fields)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)

    def describe(self) -> str:
        """The event in plain words, for the CLI without --json and for the GUI's status line."""
        f = self.fields
        who = self.account or ""
        if self.name == "registering":
            return f"{who}: registering with {f.get('registrar', '?')}"
        if self.name == "registered":
            return f"{who}: registered as {f.get('contact')} for {f.get('expires')} s"
        if self.name == "registration_failed":
            retry = f.get("retry_in")
            tail = f"; retrying in {retry:.0f} s" if retry is not None else "; not retrying"
            return f"{who}: registration failed: {f.get('status')} {f.get('reason')}{tail}"
        if self.name == "unregistering":
            return f"{who}: unregistering"
        if self.name == "unregistered":
            return f"{who}: unregistered"
        details = ", ".join(f"{k}={v}" for k, v in f.items())
        return f"{who}: {self.name} {details}".strip()


EventSink = Callable[[EngineEvent], None]
