"""Passwords live in the OS keyring, never in plain configuration files or logs.

Only where no keyring exists at all (a minimal Linux session with no Secret Service, a headless
server) do they go to ``secrets.json`` in the config folder, readable by the user alone (0600), and
a warning says so each time one is written there.  A keyring that exists but fails (locked, the
user refused) is an error for the caller to report, never a reason to write the password to a file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .settings import config_dir, write_atomically

log = logging.getLogger(__name__)

SERVICE = "softphone"
FALLBACK_FILE = "secrets.json"


def turn_key(account: str) -> str:
    """The keyring entry of an account's TURN password (beside its SIP password)."""
    return f"{account}#turn"


def keyring_available() -> bool:
    """False when the keyring package has no usable backend here (its ``fail`` or ``null`` backend)."""
    try:
        import keyring
    except ImportError:
        return False
    backend: Any = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "chainer" in name.lower():
        return bool(getattr(backend, "backends", []))
    return not name.startswith(("keyring.backends.fail", "keyring.backends.null"))


def fallback_path() -> Path:
    """The private file that holds passwords where no keyring exists."""
    return config_dir() / FALLBACK_FILE


def _read_fallback() -> dict[str, str]:
    try:
        data = json.loads((config_dir() / FALLBACK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_fallback(entries: dict[str, str]) -> None:
    path = config_dir() / FALLBACK_FILE
    write_atomically(path, json.dumps(entries, indent=2).encode())
    os.chmod(path, 0o600)


def get_password(account: str) -> str | None:
    """The saved password of an account, or None when there is none or no keyring works."""
    if not keyring_available():
        return _read_fallback().get(account)
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, account)
    except (KeyringError, RuntimeError) as exc:
        log.warning("cannot read the keyring: %s", exc)
        return None


def set_password(account: str, password: str) -> None:
    if not keyring_available():
        log.warning(
            "no system keyring here: the password of %s is stored in %s, readable by you only",
            account,
            config_dir() / FALLBACK_FILE,
        )
        entries = _read_fallback()
        entries[account] = password
        _write_fallback(entries)
        return
    import keyring

    keyring.set_password(SERVICE, account, password)


def delete_password(account: str) -> None:
    entries = _read_fallback()
    if account in entries:
        del entries[account]
        _write_fallback(entries)
    if not keyring_available():
        return
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, account)
    except PasswordDeleteError:
        pass
