"""Every window and dialog fits a 1366x768 screen at 100 % and a 1280x720 screen at 125 % (1024x576
logical pixels), with every panel open, and its primary action stays in sight (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENS = {"1366x768 at 100 %": (1366, 768, 1.0), "1280x720 at 125 %": (1024, 576, 1.25)}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_window_fits_the_screen_with_every_panel_open(screen: str, tmp_path: Path) -> None:
    width, height, ratio = SCREENS[screen]
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96,
                     "logicalBaseDpi": 96, "dpr": ratio}
                ]
            }
        )
    )  # fmt: skip
    env = dict(
        os.environ,
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        SOFTPHONE_CONFIG_DIR=str(tmp_path / "config"),
        SOFTPHONE_DATA_DIR=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.fit_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n".join(f"{r['name']}: {r.get('size')} in {r.get('free')}" for r in results))
    problems = [r for r in results if not (r["fits"] and r["primary_visible"])]
    assert not problems, problems
    size = {r["name"]: r["size"] for r in results}
    assert {"main window", "add account, advanced open", "wizard, advanced open"} <= set(size)
    # a dialog that grew for its Advanced section shrinks back when it closes
    assert size["add account, advanced closed again"][1] < size["add account, advanced open"][1]
