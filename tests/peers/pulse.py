"""A private PulseAudio server with null sinks: clocked virtual sound devices for tests.

The server runs in its own runtime directory with its own socket (``PULSE_SERVER``), no default
script (``-n``), no D-Bus and no real card, so it cannot touch anything else on the machine. As
root it runs in per-user mode anyway (the warning about root is harmless; ``--system`` would
need the pulse user and a system-wide socket). PortAudio reaches it through ALSA's ``pulse`` /
``default`` devices (libasound2-plugins), so the softphone sees it like any desktop's sound server.

A null sink plays into nothing at real speed; its ``.monitor`` source records what was played.
Tests use one sink as the softphone's microphone (``paplay`` speech into it, the softphone records
from its monitor) and another as its speaker (``parecord`` from its monitor).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

RATE = 48000


def pulse_available() -> bool:
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay", "parecord"))


class PulseError(RuntimeError):
    pass


class PulseServer:
    def __init__(self, workdir: str | os.PathLike[str] | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="pulse-") if workdir is None else None
        self.dir = Path(workdir) if workdir is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.runtime = self.dir / "run"
        self.socket = self.runtime / "native"
        self.proc: subprocess.Popen[bytes] | None = None
        self.recorders: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to use this server (and nothing else)."""
        return {
            "PULSE_SERVER": f"unix:{self.socket}",
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_STATE_PATH": str(self.dir / "state"),
            "PULSE_COOKIE": str(self.dir / "cookie"),
        }

    def start(self, timeout: float = 10.0) -> PulseServer:
        self.runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {**os.environ, **self.env, "HOME": str(self.dir)}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.proc = subprocess.Popen(
            [
                "pulseaudio", "-n", "-F", "/dev/null", "--daemonize=no", "--exit-idle-time=-1",
                "--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr",
                "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "pulse.log", "wb"),  # noqa: SIM115 - the child keeps it
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PulseError(f"pulseaudio exited: {(self.dir / 'pulse.log').read_text()[-2000:]}")
            if self.socket.exists() and self._pactl("info", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        self.stop()
        raise PulseError("pulseaudio did not come up")

    def _pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pactl", *args], env={**os.environ, **self.env}, capture_output=True, text=True, timeout=10
        )
        if check and done.returncode != 0:
            raise PulseError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done

    def null_sink(self, name: str) -> int:
        """A clocked virtual output at 48 kHz mono; returns its module id (for unload)."""
        out = self._pactl(
            "load-module", "module-null-sink", f"sink_name={name}", f"rate={RATE}", "channels=1"
        )
        return int(out.stdout.strip())

    def unload(self, module: int) -> None:
        self._pactl("unload-module", str(module))

    def set_default_sink(self, name: str) -> None:
        self._pactl("set-default-sink", name)

    def set_default_source(self, name: str) -> None:
        self._pactl("set-default-source", name)

    def sink_inputs(self) -> list[str]:
        return [line for line in self._pactl("list", "short", "sink-inputs").stdout.splitlines() if line]

    def play(self, wav: str | os.PathLike[str], sink: str) -> subprocess.Popen[bytes]:
        """paplay a WAV file into ``sink`` (returns at once)."""
        return subprocess.Popen(
            ["paplay", f"--device={sink}", str(wav)],
            env={**os.environ, **self.env},
            stderr=subprocess.DEVNULL,
        )

    def record(self, source: str, path: str | os.PathLike[str]) -> subprocess.Popen[bytes]:
        """parecord from ``source`` (a sink's ``.monitor``) into a 48 kHz mono WAV until stop_recording."""
        proc = subprocess.Popen(
            [
                "parecord", f"--device={source}", "--file-format=wav", f"--rate={RATE}", "--channels=1",
                "--format=s16le", "--latency-msec=20", str(path),
            ],
            env={**os.environ, **self.env},
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.recorders.append(proc)
        return proc

    def stop_recording(self, proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()  # parecord finishes the WAV header on SIGTERM
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc in self.recorders:
            self.recorders.remove(proc)

    def stop(self) -> None:
        for proc in list(self.recorders):
            self.stop_recording(proc)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> PulseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
