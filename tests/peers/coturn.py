"""A throw-away coturn TURN/STUN server for tests (Debian package coturn, `turnserver` as a process).

Long-term credentials (RFC 8489 §9.2) for one user; no TLS/DTLS, no CLI, no web admin, no database outside a
private temporary directory, no config file (``-n``).  Run it either on loopback on a free port, or inside a
network namespace of :mod:`tests.peers.netns` (the usual case: ICE never gathers loopback), e.g. listening
on the interface facing one client and relaying from the interface facing the other::

    with TurnServer(listen_ip="10.200.1.1", relay_ip="10.200.2.1", netns=t) as turn:
        turn.address  # ("10.200.1.1", 3478)

Readiness is checked with a STUN Binding request (from inside the namespace when there is one).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.peers.netns import Netns

__all__ = ["TurnServer", "TurnServerError", "coturn_available"]

STUN_MAGIC = 0x2112A442


class TurnServerError(RuntimeError):
    """turnserver did not start (its log is in the message)."""


def coturn_available() -> bool:
    return shutil.which("turnserver") is not None


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _stun_binding_ok(address: tuple[str, int], timeout: float = 0.3) -> bool:
    txid = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, STUN_MAGIC) + txid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(request, address)
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == txid


class TurnServer:
    """coturn with one long-term-credential user; ``address`` is where clients reach it."""

    def __init__(
        self,
        *,
        listen_ip: str = "127.0.0.1",
        relay_ip: str | None = None,
        port: int | None = None,
        netns: Netns | None = None,
        username: str = "softphone",
        password: str | None = None,
        realm: str = "softphone.test",
    ) -> None:
        self.listen_ip = listen_ip
        self.relay_ip = relay_ip or listen_ip
        self.netns = netns
        self.port = port or (3478 if netns is not None else _free_udp_port(listen_ip))
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.realm = realm
        self.proc: subprocess.Popen[bytes] | None = None
        self.last_log = ""  # the log, kept when stop() removes the directory
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.listen_ip, self.port

    @property
    def server(self) -> str:
        """``host:port`` as MediaOptions/IceTransport take it."""
        return f"{self.listen_ip}:{self.port}"

    @property
    def log(self) -> str:
        if self._dir is None:
            return ""
        path = Path(self._dir.name) / "turn.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def command(self) -> list[str]:
        assert self._dir is not None
        work = Path(self._dir.name)
        args = [
            "turnserver",
            "-n",  # no configuration file
            "--listening-ip", self.listen_ip,
            "--listening-port", str(self.port),
            "--relay-ip", self.relay_ip,
            "--min-port", "40000",
            "--max-port", "40999",
            "--lt-cred-mech",
            "--user", f"{self.username}:{self.password}",
            "--realm", self.realm,
            "--userdb", str(work / "turndb"),
            "--pidfile", str(work / "turnserver.pid"),
            "--log-file", str(work / "turn.log"),
            "--simple-log",
            "--no-stdout-log",
            "--no-tls",
            "--no-dtls",
            "--no-tcp",
            "--no-cli",
            "--no-multicast-peers",
            "--no-software-attribute",
            "--fingerprint",
        ]  # fmt: skip
        if self.listen_ip.startswith("127.") or self.relay_ip.startswith("127."):
            args.append("--allow-loopback-peers")
        return self.netns.command(*args) if self.netns is not None else args

    def start(self, timeout: float = 10.0) -> None:
        if not coturn_available():
            raise TurnServerError("turnserver not found (apt-get install coturn)")
        self._dir = tempfile.TemporaryDirectory(prefix="softphone-coturn-")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=self._dir.name,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            returncode = self.proc.poll()
            if returncode is not None:
                log = self.log
                self.stop()
                raise TurnServerError(f"turnserver exited ({returncode}):\n{log[-3000:]}")
            if self._ready():
                return
            time.sleep(0.1)
        log = self.log
        self.stop()
        raise TurnServerError(f"turnserver not answering STUN on {self.server}:\n{log[-3000:]}")

    def _ready(self) -> bool:
        if self.netns is None:
            return _stun_binding_ok(self.address)
        with self.netns.entered():
            return _stun_binding_ok(self.address)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._dir is not None:
            self.last_log = self.log
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> TurnServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
