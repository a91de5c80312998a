"""CPU seconds per minute of call: the softphone's headless engine and baresip, side by side.

Both run the same call on loopback (a direct call, the caller playing speech), measured in one
run. For each we report the CPU time (user + system) of one endpoint process, scaled to a minute.

Run: .venv/bin/python bench/call_cpu.py [--seconds 20] [--codecs PCMU,opus]
Needs baresip-core, espeak-ng and sox (make test installs them).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.peers.audio import speech_wav  # noqa: E402
from tests.peers.baresip import Baresip, baresip_available  # noqa: E402

CLI = [sys.executable, "-m", "softphone.cli", "--json"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def softphone(codec: str, seconds: float, wav: Path) -> tuple[float, float]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    callee = subprocess.Popen(
        [*CLI, "--listen", f"127.0.0.1:{port}", "answer", "--codecs", codec],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert callee.stdout is not None
    callee.stdout.readline()  # started
    caller = subprocess.Popen(
        [
            *CLI,
            "--listen",
            "127.0.0.1:0",
            "call",
            f"sip:b@127.0.0.1:{port}",
            "--codecs",
            codec,
            "--play",
            str(wav),
            "--duration",
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert caller.stdout is not None
    for line in caller.stdout:
        if '"answered"' in line:
            break
    start_callee, start_caller = cpu_of(callee.pid), cpu_of(caller.pid)
    time.sleep(seconds - 0.5)
    used = (cpu_of(caller.pid) - start_caller, cpu_of(callee.pid) - start_callee)
    caller.wait(timeout=30)
    callee.wait(timeout=30)
    scale = 60.0 / (seconds - 0.5)
    return used[0] * scale, used[1] * scale


def baresip(codec: str, seconds: float, wav: Path, workdir: Path) -> tuple[float, float]:
    with (
        Baresip(workdir / f"b-{codec}", user="bob", codecs=[codec]) as b,
        Baresip(workdir / f"a-{codec}", user="alice", codecs=[codec], play_wav=wav) as a,
    ):
        a.dial(b.contact_uri)
        a.wait_event("CALL_ESTABLISHED", timeout=10)
        start_a, start_b = a.cpu_seconds(), b.cpu_seconds()
        time.sleep(seconds - 0.5)
        used = (a.cpu_seconds() - start_a, b.cpu_seconds() - start_b)
        a.hangup()
    scale = 60.0 / (seconds - 0.5)
    return used[0] * scale, used[1] * scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--codecs", default="PCMU,opus")
    args = parser.parse_args()
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    print(f"CPU seconds per minute of call ({args.seconds:.0f} s calls, one process per endpoint)")
    print(
        f"{'codec':6} {'softphone caller':>17} {'softphone callee':>17} "
        f"{'baresip caller':>15} {'baresip callee':>15}"
    )
    for codec in args.codecs.split(","):
        rate = 48000 if codec.lower() == "opus" else 16000 if codec.upper() == "G722" else 8000
        wav = speech_wav(rate=rate, seconds=args.seconds + 20)
        ours = softphone(codec, args.seconds, wav)
        theirs = baresip(codec, args.seconds, wav, workdir) if baresip_available() else (float("nan"),) * 2
        print(f"{codec:6} {ours[0]:>17.2f} {ours[1]:>17.2f} {theirs[0]:>15.2f} {theirs[1]:>15.2f}")


if __name__ == "__main__":
    main()
