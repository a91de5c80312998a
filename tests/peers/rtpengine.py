"""A private rtpengine (Sipwise's media proxy, Debian package ``rtpengine-daemon``) as a test peer.

:class:`RtpEngine` runs ``rtpengine`` in userspace mode (``--table=-1``: no kernel forwarding module) as a
plain foreground process with its own control port (the "ng" protocol: bencoded dictionaries over UDP),
its own RTP port range and its own log, on one address -- loopback, or the address of a network namespace
of :mod:`tests.peers.netns` (the usual case: WebRTC media needs ICE and aioice never gathers loopback)::

    with RtpEngine(host=ns.address, netns=ns) as rtpe:
        rtpe.ng_socket          # "udp:10.200.0.1:<port>", Kamailio's rtpengine_sock
        rtpe.ng("list")         # {"result": "ok", "calls": [...]}

The system configuration (/etc/rtpengine/rtpengine.conf, read by default) is never used
(``--config-file=none``): its CLI and HTTP listeners on fixed ports would collide with a system instance.
Readiness is an ng ``ping`` answered with ``pong``.  ``stop()`` ends only the process this object started
and removes its directory (the log stays readable in ``last_log``).
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.peers.netns import Netns

__all__ = [
    "RtpEngine",
    "RtpEngineError",
    "bdecode",
    "bencode",
    "kamailio_rtpengine_module_available",
    "rtpengine_available",
]


class RtpEngineError(RuntimeError):
    """rtpengine did not start, or an ng command failed (the log is in the message)."""


def rtpengine_available() -> bool:
    """True if the ``rtpengine`` daemon binary is on PATH (Debian: rtpengine-daemon)."""
    return shutil.which("rtpengine") is not None


def kamailio_rtpengine_module_available() -> bool:
    """True if Kamailio's rtpengine module (rtpengine.so) is installed next to its other modules."""
    from tests.peers.kamailio import _find_modpath, kamailio_available

    if not kamailio_available():
        return False
    kamailio = shutil.which("kamailio")
    assert kamailio is not None
    return (Path(_find_modpath(kamailio)) / "rtpengine.so").is_file()


# ------------------------------------------------------------------ bencode (the ng protocol's encoding)


def bencode(value: Any) -> bytes:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list | tuple):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data: bytes) -> Any:
    """Decode one bencoded value; byte strings become ``str`` (rtpengine only sends UTF-8 text)."""

    def parse(i: int) -> tuple[Any, int]:
        c = data[i : i + 1]
        if c == b"i":
            end = data.index(b"e", i)
            return int(data[i + 1 : end]), end + 1
        if c == b"l":
            i += 1
            items = []
            while data[i : i + 1] != b"e":
                v, i = parse(i)
                items.append(v)
            return items, i + 1
        if c == b"d":
            i += 1
            out = {}
            while data[i : i + 1] != b"e":
                k, i = parse(i)
                v, i = parse(i)
                out[k] = v
            return out, i + 1
        if c.isdigit():
            colon = data.index(b":", i)
            n = int(data[i:colon])
            raw = data[colon + 1 : colon + 1 + n]
            if len(raw) != n:
                raise ValueError("truncated bencode string")
            return raw.decode(errors="replace"), colon + 1 + n
        raise ValueError(f"bad bencode at {i}: {data[i : i + 10]!r}")

    value, end = parse(0)
    if end != len(data):
        raise ValueError("trailing data after bencoded value")
    return value


# ------------------------------------------------------------------ the daemon


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _free_port_range(host: str, size: int) -> tuple[int, int]:
    """A random even-based UDP port range in 20000-59999 whose first ports are free now."""
    for _ in range(100):
        base = random.randrange(20000, 60000 - size, 2)
        try:
            for port in range(base, base + min(size, 16)):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((host, port))
        except OSError:
            continue
        return base, base + size - 1
    raise RtpEngineError("could not find a free RTP port range")


class RtpEngine:
    """One rtpengine daemon on ``host`` (userspace forwarding, no Redis, no system config).

    ``netns``: a :class:`Netns` the daemon runs in (``host`` must be one of its addresses); the readiness
    probe and :meth:`ng` then talk to it from inside that namespace.  ``ports``: RTP ports to use
    (each call leg takes two, RTP and RTCP); default: a free random range of 100.  ``log_level``: syslog
    level (6 info, 7 debug: every ng command with its SDP).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        netns: Netns | None = None,
        ports: tuple[int, int] | None = None,
        log_level: int = 6,
        start_timeout: float = 10.0,
        rtpengine_bin: str | None = None,
    ) -> None:
        self.host = host
        self.netns = netns
        self._ports = ports
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.rtpengine_bin = rtpengine_bin or shutil.which("rtpengine") or "rtpengine"
        self.ng_port = 0
        self.port_min = self.port_max = 0
        self.workdir: Path | None = None
        self.last_log = ""
        self.proc: subprocess.Popen[bytes] | None = None

    # ---------------------------------------------------------------- info

    @property
    def ng_address(self) -> tuple[str, int]:
        return self.host, self.ng_port

    @property
    def ng_socket(self) -> str:
        """The control address as Kamailio's ``rtpengine_sock`` modparam takes it."""
        return f"udp:{self.host}:{self.ng_port}"

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "rtpengine.log" if self.workdir is not None else None

    def log_text(self) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return self.last_log
        return path.read_text(errors="replace")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def __repr__(self) -> str:
        return f"<RtpEngine {self.host} ng={self.ng_port} rtp={self.port_min}-{self.port_max} pid={self.pid}>"

    # ----------------------------------------------------------- lifecycle

    def command(self) -> list[str]:
        assert self.workdir is not None
        args = [
            self.rtpengine_bin,
            "--config-file=none",
            f"--interface={self.host}",
            f"--listen-ng={self.host}:{self.ng_port}",
            "--foreground",
            "--log-stderr",
            f"--log-level={self.log_level}",
            "--table=-1",
            f"--port-min={self.port_min}",
            f"--port-max={self.port_max}",
            "--no-redis-required",
            f"--pidfile={self.workdir / 'rtpengine.pid'}",
            # a dead leg must not keep the call (and its ports) for the default 60 s
            "--timeout=10",
            "--delete-delay=0",
        ]
        return self.netns.command(*args) if self.netns is not None else args

    def start(self) -> RtpEngine:
        if self.proc is not None and self.proc.poll() is None:
            return self
        if not rtpengine_available():
            raise RtpEngineError("rtpengine not found (apt-get install rtpengine-daemon)")
        self.workdir = Path(tempfile.mkdtemp(prefix="rtpe-"))
        if self.netns is not None:
            with self.netns.entered():
                self._pick_ports()
        else:
            self._pick_ports()
        log_path = self.log_path
        assert log_path is not None
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                log_text = self.log_text()
                self.stop()
                raise RtpEngineError(f"rtpengine exited ({code}) during start-up:\n{log_text[-3000:]}")
            try:
                if self.ng("ping", timeout=0.3).get("result") == "pong":
                    return self
            except (OSError, RtpEngineError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.05)
        log_text = self.log_text()
        self.stop()
        raise RtpEngineError(f"rtpengine not answering ng ping ({last}):\n{log_text[-3000:]}")

    def _pick_ports(self) -> None:
        self.ng_port = _free_udp_port(self.host)
        self.port_min, self.port_max = self._ports or _free_port_range(self.host, 100)

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.workdir is not None:
            self.last_log = self.log_text()
            if os.environ.get("RTPENGINE_KEEP_WORKDIR", "") in ("", "0"):
                shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> RtpEngine:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------- ng control

    def ng(self, command: str, timeout: float = 2.0, **params: Any) -> dict[str, Any]:
        """One ng command (``ping``, ``list``, ``query`` with ``call-id``, ``statistics``...); its answer.

        Parameter names with ``-`` are passed with ``_`` (``call_id="..."``)."""
        if self.netns is not None:
            with self.netns.entered():
                return self._ng(command, timeout, params)
        return self._ng(command, timeout, params)

    def _ng(self, command: str, timeout: float, params: dict[str, Any]) -> dict[str, Any]:
        cookie = secrets.token_hex(6).encode()
        body = {"command": command, **{k.replace("_", "-"): v for k, v in params.items()}}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(cookie + b" " + bencode(body), self.ng_address)
            while True:
                data = s.recv(65535)
                got, _, payload = data.partition(b" ")
                if got == cookie:
                    break
        answer = bdecode(payload)
        if not isinstance(answer, dict):
            raise RtpEngineError(f"ng {command}: unexpected answer {answer!r}")
        if answer.get("result") == "error":
            raise RtpEngineError(f"ng {command}: {answer.get('error-reason')}")
        return answer
