"""Start with the system: the per-user login item of each desktop platform.

- Linux and other freedesktop.org desktops: ``$XDG_CONFIG_HOME/autostart/softphone.desktop``
  (Desktop Application Autostart Specification).
- Windows: the ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` value ``Softphone``.
- macOS: a LaunchAgent ``~/Library/LaunchAgents/org.softphone.Softphone.plist`` with RunAtLoad.

The phone starts hidden in the tray (``--hidden``), so logging in does not throw a window at the user.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from pathlib import Path

from ..core.settings import write_atomically

APP_ID = "softphone"
LABEL = "org.softphone.Softphone"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def command() -> list[str]:
    """How the login item starts the phone, in the tray: the installed app itself, or (from a source
    checkout) this interpreter with this package."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--hidden"]
    return [sys.executable, "-m", "softphone.ui.app", "--hidden"]


def _desktop_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / f"{APP_ID}.desktop"


def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def is_enabled(platform: str = sys.platform) -> bool:
    if platform.startswith("win"):
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, "Softphone")
            return True
        except OSError:
            return False
    if platform == "darwin":
        return _launch_agent().exists()
    path = _desktop_file()
    if not path.exists():
        return False
    return "Hidden=true" not in path.read_text(encoding="utf-8", errors="replace")


def set_enabled(on: bool, platform: str = sys.platform) -> None:
    """Add or remove the login item; raises OSError with the reason when the system refuses."""
    if platform.startswith("win"):
        import winreg  # type: ignore[import-not-found,unused-ignore]

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            if on:
                value = " ".join(f'"{part}"' if " " in part else part for part in command())
                winreg.SetValueEx(key, "Softphone", 0, winreg.REG_SZ, value)
            else:
                try:
                    winreg.DeleteValue(key, "Softphone")
                except FileNotFoundError:
                    pass
        return
    path = _launch_agent() if platform == "darwin" else _desktop_file()
    if not on:
        path.unlink(missing_ok=True)
        return
    if platform == "darwin":
        data = plistlib.dumps({"Label": LABEL, "ProgramArguments": command(), "RunAtLoad": True})
    else:
        data = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Softphone\n"
            "Comment=SIP and WebRTC softphone\n"
            f"Exec={shlex.join(command())}\n"
            "Icon=softphone\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        ).encode()
    write_atomically(path, data)
