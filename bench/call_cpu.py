"""CPU seconds per minute of call: the softphone's headless engine and baresip, side by side.

Both run the same call on loopback (a direct call, the caller playing speech), measured in one
run. For each we report the CPU time (user + system) of one endpoint process, scaled to a minute.

Run: .venv/bin/python bench/call_cpu.py [--seconds 20] [--codecs PCMU,opus] [--repeat 3]
    [--warmup 1] [--no-baresip] [--verbose]
``--repeat N`` runs every call N times and reports the medians (the CPU time of a shared machine is
noisy); ``--warmup S`` starts measuring S seconds after the answer, leaving out what a call does
once when its media starts (the caller loading and resampling its WAV file); ``--verbose`` prints
every run, with user and system time apart.
Needs baresip-core, espeak-ng and sox (make test installs them).

On a VM the numbers depend on the machine's load in an unexpected way: each 20 ms tick starts with
cold caches after the process slept, and an idle machine reads *higher* than a busy one (about
4 s/min against 3.4 for PCMU). Compare versions in one sitting, alternating them.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
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
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


VERBOSE = False


def report(
    what: str, before: list[tuple[float, float]], after: list[tuple[float, float]], span: float
) -> None:
    if VERBOSE:
        parts = []
        for name, (u0, s0), (u1, s1) in zip(("caller", "callee"), before, after, strict=True):
            scale = 60.0 / span
            parts.append(f"{name} user {(u1 - u0) * scale:.2f} sys {(s1 - s0) * scale:.2f}")
        print(f"  {what}: " + ", ".join(parts), flush=True)


def softphone(codec: str, seconds: float, wav: Path, warmup: float = 0.0) -> tuple[float, float]:
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
    time.sleep(warmup)
    before = [cpu_split(caller.pid), cpu_split(callee.pid)]
    span = seconds - 0.5 - warmup
    time.sleep(span)
    after = [cpu_split(caller.pid), cpu_split(callee.pid)]
    used = [sum(a) - sum(b) for a, b in zip(after, before, strict=True)]
    report(f"softphone {codec}", before, after, span)
    caller.wait(timeout=30)
    callee.wait(timeout=30)
    scale = 60.0 / span
    return used[0] * scale, used[1] * scale


def baresip(codec: str, seconds: float, wav: Path, workdir: Path, warmup: float = 0.0) -> tuple[float, float]:
    with (
        Baresip(workdir / f"b-{codec}", user="bob", codecs=[codec]) as b,
        Baresip(workdir / f"a-{codec}", user="alice", codecs=[codec], play_wav=wav) as a,
    ):
        a.dial(b.contact_uri)
        a.wait_event("CALL_ESTABLISHED", timeout=10)
        time.sleep(warmup)
        start_a, start_b = a.cpu_seconds(), b.cpu_seconds()
        span = seconds - 0.5 - warmup
        time.sleep(span)
        used = (a.cpu_seconds() - start_a, b.cpu_seconds() - start_b)
        if VERBOSE:
            print(f"  baresip {codec}: caller {used[0] * 60 / span:.2f} callee {used[1] * 60 / span:.2f}")
        a.hangup()
    scale = 60.0 / span
    return used[0] * scale, used[1] * scale


def median_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--codecs", default="PCMU,opus")
    parser.add_argument("--repeat", type=int, default=1, help="calls per measurement; medians are reported")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds after the answer not measured")
    parser.add_argument("--no-baresip", action="store_true", help="measure the softphone only")
    parser.add_argument("--verbose", action="store_true", help="print every run (user and system time)")
    args = parser.parse_args()
    if not 0 <= args.warmup < args.seconds - 1.5:
        parser.error("--warmup must leave at least a second to measure")
    global VERBOSE
    VERBOSE = args.verbose
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    repeat = max(1, args.repeat)
    print(
        f"CPU seconds per minute of call ({args.seconds:.0f} s calls, one process per endpoint"
        + (f", median of {repeat}" if repeat > 1 else "")
        + (f", {args.warmup:g} s warm-up" if args.warmup else "")
        + f"; load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"{'codec':6} {'softphone caller':>17} {'softphone callee':>17} "
        f"{'baresip caller':>15} {'baresip callee':>15}"
    )
    for codec in args.codecs.split(","):
        rate = 48000 if codec.lower() == "opus" else 16000 if codec.upper() == "G722" else 8000
        wav = speech_wav(rate=rate, seconds=args.seconds + 20)
        ours = median_of([softphone(codec, args.seconds, wav, args.warmup) for _ in range(repeat)])
        theirs: tuple[float, float] = (float("nan"), float("nan"))
        if baresip_available() and not args.no_baresip:
            theirs = median_of(
                [baresip(codec, args.seconds, wav, workdir, args.warmup) for _ in range(repeat)]
            )
        print(
            f"{codec:6} {ours[0]:>17.2f} {ours[1]:>17.2f} {theirs[0]:>15.2f} {theirs[1]:>15.2f}", flush=True
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (the CPU time of a shared machine is noisy)")


if __name__ == "__main__":
    main()
