"""Start-up time (launch to main window shown) and idle memory of the desktop app.

Each run starts ``python -m softphone.ui.app`` with a private, empty profile on the offscreen
platform (no display needed), waits for its "main window shown" log line, then reads the
resident memory (VmRSS) after a few idle seconds, and quits it.

Run: .venv/bin/python bench/startup.py [--runs 5] [--idle 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(idle: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as profile:
        env = dict(
            os.environ,
            QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            SOFTPHONE_CONFIG_DIR=profile,
            SOFTPHONE_DATA_DIR=profile,
        )
        # a finished first-run wizard, so that the measurement is of the main window alone
        Path(profile, "ui.json").write_text('{"first_run_done": true}')
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "softphone.ui.app", "--new-instance", "--listen", "127.0.0.1:0"],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        shown = threading.Event()

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "main window shown" in line:
                    shown.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            if not shown.wait(60):
                raise RuntimeError("the main window never showed")
            startup = time.perf_counter() - started
            time.sleep(idle)
            memory = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
        return startup, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before memory is read")
    args = parser.parse_args()
    results = [one_run(args.idle) for _ in range(args.runs)]
    times = [r[0] * 1000 for r in results]
    memory = [r[1] for r in results]
    print(f"start-up to main window: median {statistics.median(times):.0f} ms "
          f"(min {min(times):.0f}, max {max(times):.0f}) over {args.runs} runs")
    print(f"idle memory (RSS after {args.idle:.0f} s): median {statistics.median(memory):.1f} MiB "
          f"(min {min(memory):.1f}, max {max(memory):.1f})")


if __name__ == "__main__":
    main()
