"""Passwords live in the OS keyring, never in plain configuration files or logs."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SERVICE = "softphone"


def turn_key(account: str) -> str:
    """The keyring entry of an account's TURN password (beside its SIP password)."""
    return f"{account}#turn"


def get_password(account: str) -> str | None:
    """The saved password of an account, or None when there is none or no keyring works."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(SERVICE, account)
    except (KeyringError, RuntimeError) as exc:
        log.warning("cannot read the keyring: %s", exc)
        return None


def set_password(account: str, password: str) -> None:
    import keyring

    keyring.set_password(SERVICE, account, password)


def delete_password(account: str) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, account)
    except PasswordDeleteError:
        pass
