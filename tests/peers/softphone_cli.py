"""Runs softphone-cli as a subprocess, the way scripts and monitoring use it."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "softphone.cli"]
ROOT = Path(__file__).resolve().parents[2]


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago (for --listen)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CliProcess:
    """softphone-cli with --json: events are read from stdout as they come."""

    def __init__(
        self, *args: str, password: str | None = None, env: dict[str, str] | None = None, stdin: bool = False
    ) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONPATH"] = str(ROOT)
        if password is not None:
            full_env["SOFTPHONE_TEST_PASSWORD"] = password
        self.args = [*CLI, "--json", *args]
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            text=True,
            env=full_env,
            cwd=ROOT,
        )
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "non-json", "line": line}
            self.events.append(event)
            self._queue.put(event)
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def send(self, line: str) -> None:
        """One line on the CLI's stdin (interactive mode)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait_event(self, name: str, timeout: float = 15.0, **fields: Any) -> dict[str, Any]:
        """The next event with this name (and these field values); fails after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {name!r} event within {timeout} s; got {self.events}\n{self.stderr[-3000:]}"
                )
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is None:
                raise AssertionError(
                    f"exited ({self.proc.poll()}) before {name!r}; got {self.events}\n{self.stderr[-3000:]}"
                )
            if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
                return event

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        rc = self.proc.wait(timeout=timeout)
        time.sleep(0.05)  # let the reader threads drain
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> CliProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
