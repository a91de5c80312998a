"""Start-up time (launch to main window shown) and idle memory of the desktop app.

Each run starts ``python -m softphone.ui.app`` with a private, empty profile on the offscreen
platform (no display needed), waits for its "main window shown" log line, then reads the
resident memory (VmRSS) after a few idle seconds, and quits it.

Run: .venv/bin/python bench/startup.py [--runs 5] [--idle 5] [--installed [COMMAND]]

``--installed`` also measures an installed app (default ``/usr/bin/softphone``, the .deb's; or an
AppImage's AppRun) in the same run, the two interleaved so that both see the same machine.
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


SOURCE = [sys.executable, "-m", "softphone.ui.app"]


def one_run(idle: float, command: list[str] = SOURCE) -> tuple[float, float]:
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
            [*command, "--new-instance", "--listen", "127.0.0.1:0"],
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


def report(name: str, results: list[tuple[float, float]], idle: float) -> None:
    times = [r[0] * 1000 for r in results]
    memory = [r[1] for r in results]
    print(
        f"{name}: start-up to main window: median {statistics.median(times):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f}) over {len(results)} runs; "
        f"idle memory (RSS after {idle:.0f} s): median {statistics.median(memory):.1f} MiB "
        f"(min {min(memory):.1f}, max {max(memory):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before memory is read")
    parser.add_argument(
        "--installed", nargs="?", const="/usr/bin/softphone", help="also measure this installed app's command"
    )
    args = parser.parse_args()
    commands = {"source checkout": SOURCE}
    if args.installed:
        commands[f"installed ({args.installed})"] = [args.installed]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            results[name].append(one_run(args.idle, command))
    for name in commands:
        report(name, results[name], args.idle)


if __name__ == "__main__":
    main()
