"""What the desktop app remembers besides the accounts: devices, codecs, dial plans, window state.

Kept in ``ui.json`` beside ``accounts.json`` (same folder, same atomic write).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..core.dialplan import DialPlan
from ..core.settings import config_dir, write_atomically

log = logging.getLogger(__name__)

ALL_CODECS = ("opus", "G722", "PCMU", "PCMA")
SRTP_POLICIES = ("off", "optional", "required")
THEMES = ("system", "light", "dark")


@dataclass
class AccountExtras:
    """Per-account settings the core's AccountConfig does not hold."""

    srtp: str = "optional"
    country_code: str = ""
    international_prefix: str = "00"
    national_prefix: str = "0"
    number_format: str = "international"

    def dial_plan(self) -> DialPlan:
        fmt = (
            self.number_format
            if self.number_format in ("international", "e164", "national", "asis")
            else "asis"
        )
        try:
            return DialPlan(
                country_code=self.country_code,
                international_prefix=self.international_prefix,
                national_prefix=self.national_prefix,
                number_format=fmt,  # type: ignore[arg-type]
            )
        except ValueError:
            return DialPlan(number_format="asis")


@dataclass
class Preferences:
    codecs: list[str] = field(default_factory=lambda: list(ALL_CODECS))
    input_device: str | None = None  # device name; None is the system default
    output_device: str | None = None
    ringing_device: str | None = None
    default_srtp: str = "optional"
    do_not_disturb: bool = False
    close_to_tray: bool = True
    start_hidden: bool = False
    theme: str = "system"
    language: str = ""  # a catalogue's language code ("de"), "en", or "" for the system's
    recordings_dir: str = ""  # where call recordings go; "" for Music/Softphone
    first_run_done: bool = False
    last_account: str | None = None
    show_dialpad: bool = True
    accounts: dict[str, AccountExtras] = field(default_factory=dict)

    def extras(self, account_id: str | None) -> AccountExtras:
        if account_id is None:
            return AccountExtras(srtp=self.default_srtp)
        return self.accounts.setdefault(account_id, AccountExtras(srtp=self.default_srtp))

    # -- disk --
    @classmethod
    def load(cls, path: Path | None = None) -> Preferences:
        path = path or config_dir() / "ui.json"
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known and k != "accounts"}
        prefs = cls(**values)
        extra_fields = {f.name for f in fields(AccountExtras)}
        for account_id, item in (raw.get("accounts") or {}).items():
            if isinstance(item, dict):
                prefs.accounts[account_id] = AccountExtras(
                    **{k: v for k, v in item.items() if k in extra_fields}
                )
        prefs.codecs = [c for c in prefs.codecs if c in ALL_CODECS] or list(ALL_CODECS)
        if prefs.theme not in THEMES:
            prefs.theme = "system"
        return prefs

    def save(self, path: Path | None = None) -> None:
        path = path or config_dir() / "ui.json"
        data = asdict(self)
        write_atomically(path, json.dumps(data, indent=2).encode())
