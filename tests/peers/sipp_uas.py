"""A SIPp server-side (UAS) scenario as a scripted SIP peer for tests.

:class:`SippUas` runs ``sipp -sf SCENARIO -i 127.0.0.1 -p PORT -m N`` as a
plain foreground process in a private working directory, on a free UDP port,
with message, error and log traces switched on.  The messages SIPp received
and sent are parsed from its ``-trace_msg`` file into :class:`SippMessage`
objects (with SIPp's own timestamps), so tests can assert on what the peer
saw on the wire.  It has no pytest dependency.

Example::

    with SippUas(SIPP_DIR / "uas_register_ok.xml") as uas:
        ...  # send a REGISTER to 127.0.0.1:<uas.port>
        assert uas.wait(timeout=10) == 0, uas.explain()
        registers = uas.requests("REGISTER")

SIPp facts this relies on (3.6.x):

* A UAS scenario starts with ``<recv request=...>``; each new Call-ID is a new
  "call", and ``-m 1`` makes SIPp exit after one call (exit status 0 when every
  call succeeded, 1 when one failed, 97/99 for other ends, negative on fatal
  errors, e.g. a port that cannot be bound).
* Retransmissions of the last received request are absorbed by SIPp itself
  (it re-sends its last message, if any) and do not advance the scenario, but
  ``-trace_msg`` records every datagram, retransmissions included.
* ``-trace_msg`` is written as messages come and go, so :meth:`messages` can
  be read while SIPp is still running.
* SIGTERM ends SIPp cleanly (traces complete).
* SIPp also binds media ports (6000, 6002, ... the next free pair) and a
  control port (8888 or the next free one); several instances can run at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

__all__ = [
    "SIPP_DIR",
    "SippError",
    "SippMessage",
    "SippUas",
    "parse_message_trace",
    "sipp_available",
]

SIPP_DIR = Path(__file__).resolve().parent / "sipp"
"""Where the scenario files live (``tests/peers/sipp``)."""


class SippError(RuntimeError):
    """SIPp could not be started (its output is included in the message)."""


def sipp_available(executable: str = "sipp") -> bool:
    """True if the SIPp binary is on PATH (Debian package ``sip-tester``)."""
    return shutil.which(executable) is not None


# ------------------------------------------------------------------ the trace


@dataclass(frozen=True)
class SippMessage:
    """One SIP message in SIPp's ``-trace_msg`` file.

    ``direction`` is ``"received"`` or ``"sent"`` (from SIPp's point of view);
    ``timestamp`` is SIPp's wall-clock time for it (seconds since the epoch,
    microsecond resolution); ``text`` the message with ``\\n`` line ends.
    """

    direction: str
    timestamp: float
    transport: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str | None:
        """The request method, or for a response the CSeq method."""
        if self.is_request:
            return self.first_line.split(" ", 1)[0]
        cseq = self.header("CSeq")
        return cseq.split()[-1] if cseq else None

    @property
    def status(self) -> int | None:
        """The status code of a response, None for a request."""
        if self.is_request:
            return None
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    @property
    def reason(self) -> str:
        parts = self.first_line.split(" ", 2)
        return parts[2] if not self.is_request and len(parts) > 2 else ""

    @property
    def cseq(self) -> int | None:
        value = self.header("CSeq")
        if value is None:
            return None
        number = value.split()[0]
        return int(number) if number.isdigit() else None

    @property
    def branch(self) -> str | None:
        via = self.header("Via")
        match = re.search(r";\s*branch=([^;,\s]+)", via or "")
        return match.group(1) if match else None

    def headers(self, name: str) -> list[str]:
        """Values of every header line called ``name`` (case-insensitive, no compact forms)."""
        head = self.text.split("\n\n", 1)[0]
        wanted = name.lower()
        values: list[str] = []
        for line in head.split("\n")[1:]:
            if line[:1] in (" ", "\t") and values:  # folded continuation line
                values[-1] += " " + line.strip()
                continue
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == wanted:
                values.append(value.strip())
        return values

    def header(self, name: str) -> str | None:
        """The first ``name`` header's value, or None."""
        values = self.headers(name)
        return values[0] if values else None


_SEPARATOR = re.compile(r"^-{20,}\s+(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*$")
_KIND = re.compile(r"^(\w+) message (received|sent)\b", re.IGNORECASE)


def _parse_time(day: str, clock: str) -> float:
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in clock else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(f"{day} {clock}", fmt).timestamp()  # SIPp writes local time


def parse_message_trace(text: str) -> list[SippMessage]:
    """Parse a SIPp ``-trace_msg`` file into messages, in file order.

    Each entry is a ``----- DATE TIME`` separator line, a ``UDP message
    received [N] bytes :`` / ``UDP message sent (N bytes):`` line, an empty
    line and the message.  Entries of another shape are skipped.
    """
    messages: list[SippMessage] = []
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        separator = _SEPARATOR.match(lines[index])
        if separator is None:
            index += 1
            continue
        timestamp = _parse_time(separator.group(1), separator.group(2))
        index += 1
        body: list[str] = []
        while index < len(lines) and _SEPARATOR.match(lines[index]) is None:
            body.append(lines[index])
            index += 1
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            continue
        kind = _KIND.match(body[0].strip())
        if kind is None:
            continue
        text_lines = body[1:]
        while text_lines and not text_lines[0].strip():
            text_lines.pop(0)
        message = "\n".join(text_lines).rstrip("\n")
        if not message.strip():
            continue
        messages.append(
            SippMessage(
                direction=kind.group(2).lower(),
                timestamp=timestamp,
                transport=kind.group(1).lower(),
                text=message + "\n",
            )
        )
    return messages


# ------------------------------------------------------------------ the peer


def _free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _udp_inodes(address: str, port: int) -> set[str]:
    """Socket inodes of UDP sockets bound to ``address:port`` (Linux /proc)."""
    packed = socket.inet_aton(address)
    wanted_hosts = {
        f"{int.from_bytes(packed, 'little'):08X}",  # /proc/net/udp is little-endian on x86/arm
        f"{int.from_bytes(packed, 'big'):08X}",
        "00000000",
    }
    inodes: set[str] = set()
    with contextlib.suppress(OSError), open("/proc/net/udp") as table:
        next(table, None)
        for line in table:
            fields = line.split()
            if len(fields) < 10:
                continue
            host, _, port_hex = fields[1].partition(":")
            if host.upper() in wanted_hosts and int(port_hex, 16) == port:
                inodes.add(fields[9])
    return inodes


def _process_owns(pid: int, inodes: set[str]) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return True
    except OSError:
        return False
    return False


class SippUas:
    """Run a SIPp UAS scenario on 127.0.0.1:<free UDP port>.

    ``scenario``: path of the XML file, or a file name inside :data:`SIPP_DIR`.
    ``calls``: ``-m`` (SIPp exits after that many calls).  ``timeout``:
    SIPp's global ``-timeout`` (with ``-timeout_error``), so it never hangs.
    ``keys``: ``-key NAME VALUE`` pairs (``[NAME]`` in the scenario).
    ``workdir``: where traces go (a fresh temp dir, removed by :meth:`stop`,
    when not given).  Use as a context manager, or :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        scenario: str | os.PathLike[str],
        *,
        calls: int = 1,
        timeout: float = 20.0,
        keys: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        workdir: str | os.PathLike[str] | None = None,
        address: str = "127.0.0.1",
        port: int | None = None,
        name: str | None = None,
        executable: str = "sipp",
    ) -> None:
        path = Path(scenario)
        if not path.is_absolute() and not path.exists():
            path = SIPP_DIR / path
        if not path.is_file():
            raise SippError(f"no such SIPp scenario: {path}")
        self.scenario = path
        self.calls = calls
        self.timeout = timeout
        self.keys = dict(keys or {})
        self.extra_args = tuple(extra_args)
        self.address = address
        self._requested_port = port
        self.port: int = port or 0
        self.name = name or path.stem
        self.executable = executable
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self.cmd: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.timed_out = False

    # -- files -----------------------------------------------------------

    def _file(self, suffix: str) -> Path:
        assert self.workdir is not None, "SIPp was never started"
        return self.workdir / f"{self.name}.{suffix}"

    def _read(self, suffix: str) -> str:
        if self.workdir is None:
            return ""
        path = self._file(suffix)
        return path.read_text(errors="replace") if path.exists() else ""

    def message_text(self) -> str:
        """The raw ``-trace_msg`` file (every message in and out)."""
        return self._read("messages")

    def log_text(self) -> str:
        """``<log>`` action output (``-trace_logs``)."""
        return self._read("logs")

    def error_text(self) -> str:
        """Unexpected messages and errors (``-trace_err``)."""
        return self._read("errors")

    def output_text(self) -> str:
        """SIPp's stdout and stderr (its screens, fatal errors)."""
        return self._read("out")

    def messages(self) -> list[SippMessage]:
        """Every message SIPp received or sent so far, in order."""
        return parse_message_trace(self.message_text())

    def received(self, method: str | None = None) -> list[SippMessage]:
        """Messages SIPp received (retransmissions included), optionally of one method."""
        return [
            m
            for m in self.messages()
            if m.direction == "received" and (method is None or (m.is_request and m.method == method))
        ]

    def requests(self, method: str | None = None) -> list[SippMessage]:
        """Requests SIPp received, retransmissions left out (first copy of each branch + CSeq)."""
        seen: set[tuple[str | None, int | None, str | None]] = set()
        unique: list[SippMessage] = []
        for message in self.received(method):
            if not message.is_request:
                continue
            key = (message.branch, message.cseq, message.method)
            if key not in seen:
                seen.add(key)
                unique.append(message)
        return unique

    def sent(self) -> list[SippMessage]:
        return [m for m in self.messages() if m.direction == "sent"]

    def explain(self, tail: int = 6000) -> str:
        """Everything useful when a test fails: command, status, traces."""
        return (
            f"sipp {self.name} port={self.port} rc={self.returncode} timed_out={self.timed_out}\n"
            f"cmd: {' '.join(self.cmd)}\n"
            f"--- errors ---\n{self.error_text()[-3000:]}\n"
            f"--- logs ---\n{self.log_text()[-2000:]}\n"
            f"--- messages ---\n{self.message_text()[-tail:]}\n"
            f"--- output ---\n{self.output_text()[-1500:]}"
        )

    # -- process ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        cmd = [
            self.executable,
            "-sf", str(self.scenario),
            "-i", self.address,
            "-p", str(self.port),
            "-t", "u1",
            "-m", str(self.calls),
            "-timeout", f"{max(1, round(self.timeout))}s",
            "-timeout_error",
            "-nostdin",
            "-trace_msg", "-message_file", str(self._file("messages")),
            "-trace_err", "-error_file", str(self._file("errors")),
            "-trace_logs", "-log_file", str(self._file("logs")),
        ]  # fmt: skip
        for key, value in self.keys.items():
            cmd += ["-key", key, str(value)]
        cmd += list(self.extra_args)
        return cmd

    def start(self, ready_timeout: float = 10.0) -> SippUas:
        if self._process is not None:
            raise SippError("SIPp already started")
        executable = shutil.which(self.executable)
        if executable is None:
            raise SippError(f"{self.executable!r} not found (Debian: apt-get install sip-tester)")
        if self._given_workdir is not None:
            self._given_workdir.mkdir(parents=True, exist_ok=True)
            self.workdir = self._given_workdir
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="sipp-uas-"))
        attempts = 1 if self._requested_port else 3
        last_error: SippError | None = None
        for _ in range(attempts):
            self.port = self._requested_port or _free_udp_port(self.address)
            try:
                self._spawn(ready_timeout)
                return self
            except SippError as exc:  # e.g. the port was taken in between
                last_error = exc
                self._kill()
        assert last_error is not None
        raise last_error

    def _spawn(self, ready_timeout: float) -> None:
        self.cmd = self.command()
        self.returncode = None
        with self._file("out").open("ab") as out:
            self._process = subprocess.Popen(
                self.cmd,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not SIPp
            )
        deadline = time.monotonic() + ready_timeout
        proc_available = Path("/proc/net/udp").exists()
        while True:
            if self._process.poll() is not None:
                self.returncode = self._process.returncode
                raise SippError(
                    f"sipp exited with status {self.returncode} before listening on "
                    f"{self.address}:{self.port}:\n{self.output_text()[-2000:]}"
                )
            if not proc_available:
                time.sleep(0.3)  # no way to see the socket: give SIPp a moment
                return
            inodes = _udp_inodes(self.address, self.port)
            if inodes and _process_owns(self._process.pid, inodes):
                return
            if time.monotonic() > deadline:
                raise SippError(f"sipp did not bind {self.address}:{self.port} within {ready_timeout}s")
            time.sleep(0.02)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for SIPp to exit and return its exit status.

        If it has not exited after ``timeout`` seconds it is killed,
        :attr:`timed_out` is set and the (negative) status is returned.
        """
        process = self._process
        if process is None:
            if self.returncode is None:
                raise SippError("SIPp was never started")
            return self.returncode
        try:
            self.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self._kill()
        return self.returncode if self.returncode is not None else -1

    def stop(self) -> None:
        """End SIPp (SIGTERM, then SIGKILL) and remove a private workdir."""
        self._kill()
        if self._given_workdir is None and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _kill(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=3)
        self.returncode = process.returncode

    def __enter__(self) -> SippUas:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"{self.address}:{self.port}" if self.running else f"stopped rc={self.returncode}"
        return f"<SippUas {self.name} {state}>"
