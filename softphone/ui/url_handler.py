"""Make the softphone the handler of sip:, sips:, tel: and callto: links, for this user.

- Windows: per-user keys under ``HKCU\\Software\\Classes`` (a ``URL Protocol`` class per scheme) and the
  "Default apps" registration (``Capabilities\\URLAssociations`` and ``RegisteredApplications``), the same
  keys the installer writes (packaging/windows/softphone.nsi; a test checks that they agree). Windows 10
  and later then let the user confirm the choice in Settings -> Default apps.
- Linux: ``xdg-mime default softphone.desktop x-scheme-handler/<scheme>`` (the user's mimeapps.list).
- macOS: the app's Info.plist declares the schemes (CFBundleURLTypes); the choice of default is the
  system's (``LSSetDefaultHandlerForURLScheme`` asks the user), so nothing is written here.

The system calls are injected (``registry``, ``run``) so that each platform's part is tested anywhere.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

SCHEMES = ("sip", "sips", "tel", "callto")
PROG_ID = "Softphone.URL"
CAPABILITIES = r"Software\Softphone\Capabilities"
DESKTOP_FILE = "softphone.desktop"

RegistryValue = tuple[str, str, str]  # (key under HKEY_CURRENT_USER, value name or "" for default, data)


class Registry(Protocol):
    def set_value(self, key: str, name: str, data: str) -> None: ...


def windows_url_keys(executable: str) -> list[RegistryValue]:
    """Every value that makes ``executable`` the per-user handler of the schemes (HKCU)."""
    command = f'"{executable}" "%1"'
    icon = f'"{executable}",0'
    values: list[RegistryValue] = []
    for scheme in SCHEMES:
        base = rf"Software\Classes\{scheme}"
        values += [
            (base, "", f"URL:{scheme} Protocol"),
            (base, "URL Protocol", ""),
            (rf"{base}\DefaultIcon", "", icon),
            (rf"{base}\shell\open\command", "", command),
        ]
    prog = rf"Software\Classes\{PROG_ID}"
    values += [
        (prog, "", "Softphone link"),
        (rf"{prog}\DefaultIcon", "", icon),
        (rf"{prog}\shell\open\command", "", command),
        (CAPABILITIES, "ApplicationName", "Softphone"),
        (CAPABILITIES, "ApplicationDescription", "SIP and WebRTC calls from your desktop"),
        *((rf"{CAPABILITIES}\URLAssociations", scheme, PROG_ID) for scheme in SCHEMES),
        (r"Software\RegisteredApplications", "Softphone", CAPABILITIES),
    ]
    return values


class WinRegistry:
    """HKEY_CURRENT_USER through winreg (Windows only)."""

    def set_value(self, key: str, name: str, data: str) -> None:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, data)


def launch_executable() -> str:
    """The program a link should start: the bundle's executable, or this interpreter's GUI script."""
    if getattr(sys, "frozen", False):
        return sys.executable
    return sys.argv[0]


def make_default(
    platform: str = sys.platform,
    *,
    registry: Registry | None = None,
    run: Callable[[Sequence[str]], int] | None = None,
    executable: str | None = None,
) -> str:
    """Register this app for the schemes; returns what the user should be told. Raises OSError when the
    system refused."""
    if platform.startswith("win"):
        target = registry or WinRegistry()
        for key, name, data in windows_url_keys(executable or launch_executable()):
            target.set_value(key, name, data)
        return "Softphone now opens sip:, sips:, tel: and callto: links (confirm in Settings > Default apps)."
    if platform == "darwin":
        return "On macOS, choose the app for sip: links in the app you open them from (FaceTime > Settings)."
    runner = run or _run
    for scheme in SCHEMES:
        status = runner(["xdg-mime", "default", DESKTOP_FILE, f"x-scheme-handler/{scheme}"])
        if status != 0:
            raise OSError(f"xdg-mime could not register x-scheme-handler/{scheme} (status {status})")
    return "Softphone now opens sip:, sips:, tel: and callto: links."


def _run(args: Sequence[str]) -> int:
    try:
        return subprocess.run(list(args), capture_output=True, timeout=10, check=False).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OSError(f"cannot run {args[0]}: {exc}") from exc
