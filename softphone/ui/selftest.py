"""``softphone --self-test``: the core's checks (core/diagnostics.py) plus the Qt platform plugin.

The Qt check runs in a child process: a platform plugin that cannot load (no display, a missing xcb
library) aborts the process that tried, and the self-test must still print its report.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ..core.diagnostics import Check, report, run_checks

QT_CHECK_FLAG = "--self-test-qt"  # the child's own command line (not for users)
QT_CHECK_TIMEOUT = 30.0


def _child_command() -> list[str]:
    # in a bundle sys.executable is the app, which answers -m like Python (packaging/pyinstaller/launch.py)
    return [sys.executable, "-m", "softphone.ui.app", QT_CHECK_FLAG]


def qt_child_main() -> int:
    """In the child: start Qt's GUI, say which platform plugin it loaded and which image formats."""
    from PySide6.QtGui import QGuiApplication, QImageReader

    app = QGuiApplication([sys.argv[0]])
    formats = sorted(bytes(f.data()).decode() for f in QImageReader.supportedImageFormats())
    print(f"{app.platformName()}; image formats {', '.join(formats)}")
    return 0


def check_qt() -> Check:
    env = dict(os.environ)
    try:
        done = subprocess.run(
            _child_command(), capture_output=True, text=True, timeout=QT_CHECK_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("qt", False, f"cannot start the Qt check: {exc}")
    if done.returncode != 0:
        reason = " ".join(line for line in done.stderr.strip().splitlines()[-3:])
        hint = ""
        if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
            hint = " (no DISPLAY or WAYLAND_DISPLAY: is a desktop session running?)"
        return Check("qt", False, f"the Qt platform plugin did not load{hint}: {reason or done.returncode}")
    return Check("qt", True, "platform " + done.stdout.strip())


def self_test() -> int:
    text, status = report(run_checks((check_qt,)))
    print(text)
    return status
