"""Settings on disk: JSON under the platform's config folder, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from .account import AccountConfig

APP_NAME = "softphone"
SECRET_FIELDS = frozenset({"password", "turn_password"})


def config_dir() -> Path:
    override = os.environ.get("SOFTPHONE_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a crash mid-write leaves the old file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_accounts(path: Path | None = None) -> list[AccountConfig]:
    path = path or config_dir() / "accounts.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    known = {f.name for f in fields(AccountConfig)} - SECRET_FIELDS
    accounts = []
    for item in raw.get("accounts", []):
        accounts.append(AccountConfig(**{k: v for k, v in item.items() if k in known}))
    return accounts


def save_accounts(accounts: list[AccountConfig], path: Path | None = None) -> None:
    path = path or config_dir() / "accounts.json"
    items: list[dict[str, Any]] = []
    for account in accounts:
        item = asdict(account)
        for secret in SECRET_FIELDS:
            item.pop(secret, None)  # passwords go to the keyring only
        items.append(item)
    write_atomically(path, json.dumps({"version": 1, "accounts": items}, indent=2).encode())
