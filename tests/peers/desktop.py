"""A user's desktop for tests that drive real windows: Xvfb at 1366x768 with openbox (a real window manager:
decorations, focus, placement), xdotool for keys and window geometry, ImageMagick's ``import`` for
screenshots. Needs ``xvfb openbox xdotool imagemagick x11-utils`` (scripts/install-debian-deps test)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCREEN = (1366, 768)
TOOLS = ("Xvfb", "openbox", "xdotool", "import", "xdpyinfo")


def desktop_unavailable_reason() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    return f"missing {', '.join(missing)} (scripts/install-debian-deps test)" if missing else None


def run(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@contextlib.contextmanager
def x_session(env: dict[str, str], screen: tuple[int, int] = SCREEN) -> Iterator[dict[str, str]]:
    """Xvfb with openbox; yields ``env`` with DISPLAY set."""
    display = f":{60 + os.getpid() % 30}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{screen[0]}x{screen[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    session = {**env, "DISPLAY": display}
    wm = None
    try:
        for _ in range(100):
            if run("xdpyinfo", env=session).returncode == 0:
                break
            time.sleep(0.1)
        wm = subprocess.Popen(["openbox"], env=session, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        yield session
    finally:
        for process in (wm, xvfb):
            if process is not None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)


def wait_for_window(session: dict[str, str], name: str, timeout: float = 20) -> str:
    """The id of a visible window whose title matches ``name`` (a regular expression)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = run("xdotool", "search", "--onlyvisible", "--name", name, env=session)
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.split()[0]
        time.sleep(0.2)
    raise AssertionError(f"no window named {name!r} within {timeout} s")


@dataclass(frozen=True)
class WindowGeometry:
    window: str
    name: str
    x: int
    y: int
    width: int
    height: int

    def on_screen(self, screen: tuple[int, int] = SCREEN) -> bool:
        return (
            self.x >= 0
            and self.y >= 0
            and self.x + self.width <= screen[0]
            and self.y + self.height <= screen[1]
        )


def windows_of(session: dict[str, str], pid: int) -> list[WindowGeometry]:
    """The visible top-level windows of process ``pid`` (as the window manager placed them)."""
    found = run("xdotool", "search", "--onlyvisible", "--pid", str(pid), env=session)
    result = []
    for window in found.stdout.split():
        shell = run("xdotool", "getwindowgeometry", "--shell", window, env=session).stdout
        values = dict(line.split("=", 1) for line in shell.splitlines() if "=" in line)
        name = run("xdotool", "getwindowname", window, env=session).stdout.strip()
        if not values or not name:
            continue
        result.append(
            WindowGeometry(
                window, name, int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])
            )
        )
    return result


def screenshot(session: dict[str, str], path: Path) -> Path:
    done = run("import", "-window", "root", path, env=session)
    if done.returncode != 0:
        raise AssertionError(f"screenshot failed: {done.stderr}")
    return path


def keys(session: dict[str, str], window: str, *sequence: str) -> None:
    """Activate ``window`` and press each key combination (xdotool names: ctrl+l, Return, alt+n)."""
    run("xdotool", "windowactivate", "--sync", window, env=session)
    for combo in sequence:
        run("xdotool", "key", "--clearmodifiers", combo, env=session)
        time.sleep(0.15)


def type_text(session: dict[str, str], text: str) -> None:
    run("xdotool", "type", "--delay", "20", text, env=session)
    time.sleep(0.1)


def fresh_user(tmp_path: Path) -> dict[str, str]:
    """The environment of a user who never ran the app: an empty home with its XDG folders, no session
    variables of the machine running the tests, and no keyring (so passwords go to the 0600 file)."""
    home = tmp_path / "home"
    for sub in (".config", ".local/share", ".cache", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "run").chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QT_", "DISPLAY", "WAYLAND"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / "run"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env
