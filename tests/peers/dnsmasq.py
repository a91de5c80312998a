"""A throw-away dnsmasq DNS server on 127.0.0.1 for tests.

Only the records given to :class:`DnsmasqServer` are served.  The server
listens on a free loopback port, reads nothing but its own generated
configuration file (no ``/etc/resolv.conf``, no ``/etc/hosts``, no
``/etc/dnsmasq.conf``), never forwards queries and answers NXDOMAIN (or an
empty NOERROR) for names it does not know inside ``local_domains``.  Nothing
outside a private temporary directory is written.

Example::

    with DnsmasqServer(
        NaptrRecord("example.test", 10, 50, "s", "SIP+D2T", "",
                    "_sip._tcp.example.test"),
        SrvRecord("_sip._tcp.example.test", "sip1.example.test", 5070, 10, 60),
        HostRecord("sip1.example.test", "127.0.0.1", "::1"),
    ) as dns_server:
        resolver = SipResolver(dns_server.nameservers)

dnsmasq quirks worth knowing:

* Without ``local=/<domain>/`` dnsmasq answers REFUSED (not NXDOMAIN) for
  names it has no record for, because it has no upstream to ask; hence the
  ``local_domains`` parameter (default ``("test",)``).
* ``srv-host=<service>`` without a target (or with target ``.``) is served as
  ``SRV 0 0 1 .`` -- the RFC 2782 "service decidedly not available" record.
* ``host-record`` takes at most one IPv4 and one IPv6 address per line; this
  helper writes one line per address so a name can have any number.
* All records are served with TTL 0.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = [
    "DnsmasqError",
    "DnsmasqServer",
    "HostRecord",
    "NaptrRecord",
    "Record",
    "SrvRecord",
    "dnsmasq_available",
]


class DnsmasqError(RuntimeError):
    """dnsmasq could not be started (its log is included in the message)."""


def _quote(value: str) -> str:
    """Quote a string field for a dnsmasq config file (commas, empty values)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True)
class SrvRecord:
    """``srv-host=<service>,<target>,<port>,<priority>,<weight>``.

    ``service`` is the full owner name, e.g. ``_sip._udp.example.test``.
    ``target=None`` publishes the "service not available" record (target ".").
    """

    service: str
    target: str | None
    port: int = 5060
    priority: int = 0
    weight: int = 0

    def config_lines(self) -> list[str]:
        if self.target is None or self.target == ".":
            return [f"srv-host={self.service}"]
        return [f"srv-host={self.service},{self.target},{self.port},{self.priority},{self.weight}"]


@dataclass(frozen=True)
class NaptrRecord:
    """``naptr-record=<name>,<order>,<preference>,<flags>,<service>,<regexp>,<replacement>``."""

    name: str
    order: int
    preference: int
    flags: str
    service: str
    regexp: str = ""
    replacement: str = ""

    def config_lines(self) -> list[str]:
        fields = [
            self.name,
            str(self.order),
            str(self.preference),
            _quote(self.flags),
            _quote(self.service),
            _quote(self.regexp),
        ]
        if self.replacement:
            fields.append(self.replacement)
        return ["naptr-record=" + ",".join(fields)]


class HostRecord:
    """A/AAAA records: ``HostRecord("sip1.example.test", "127.0.0.1", "::1")``."""

    __slots__ = ("addresses", "name")

    def __init__(self, name: str, *addresses: str) -> None:
        if not addresses:
            raise ValueError("HostRecord needs at least one address")
        self.name = name
        self.addresses = addresses

    def __repr__(self) -> str:
        return f"HostRecord({self.name!r}, {', '.join(map(repr, self.addresses))})"

    def config_lines(self) -> list[str]:
        return [f"host-record={self.name},{address}" for address in self.addresses]


Record = SrvRecord | NaptrRecord | HostRecord | str
"""A record object, or a raw dnsmasq config line such as ``"cname=a.test,b.test"``."""


def dnsmasq_available(executable: str = "dnsmasq") -> bool:
    """True if the dnsmasq binary can be found (also looks in /usr/sbin)."""
    return _find_executable(executable) is not None


def _find_executable(executable: str) -> str | None:
    found = shutil.which(executable)
    if found is None and os.sep not in executable:
        found = shutil.which(executable, path="/usr/sbin:/sbin:/usr/local/sbin")
    return found


def _free_port(address: str) -> int:
    """A port currently free for both UDP and TCP on ``address``."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
                return port
    raise DnsmasqError(f"no free UDP+TCP port found on {address}")


# A minimal DNS query (id 0x5150, RD set) for "probe.invalid. IN A", used to
# detect when dnsmasq is answering; any reply means it is ready.
_PROBE_QUERY = b"\x51\x50\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05probe\x07invalid\x00\x00\x01\x00\x01"


class DnsmasqServer:
    """Run ``dnsmasq`` in the foreground on 127.0.0.1:<free port>.

    ``records`` are :class:`SrvRecord`, :class:`NaptrRecord`,
    :class:`HostRecord` objects or raw config lines.  ``local_domains`` are
    declared ``local=/<domain>/`` so unknown names under them get NXDOMAIN
    instead of REFUSED.  Use as a context manager or call :meth:`start` /
    :meth:`stop`.
    """

    def __init__(
        self,
        *records: Record,
        local_domains: Sequence[str] = ("test",),
        listen_address: str = "127.0.0.1",
        port: int | None = None,
        log_queries: bool = False,
        extra_options: Iterable[str] = (),
        executable: str = "dnsmasq",
    ) -> None:
        self.records: tuple[Record, ...] = records
        self.local_domains = tuple(local_domains)
        self.address = listen_address
        self._requested_port = port
        self.port: int | None = port
        self.log_queries = log_queries
        self.extra_options = tuple(extra_options)
        self.executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._log_path: Path | None = None

    # -- public API ----------------------------------------------------

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        """``[(address, port)]``, suitable for ``SipResolver(nameservers=...)``."""
        if self.port is None or self._process is None:
            raise DnsmasqError("dnsmasq is not running")
        return [(self.address, self.port)]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def config_text(self) -> str:
        lines: list[str] = [f"local=/{domain}/" for domain in self.local_domains]
        for record in self.records:
            if isinstance(record, str):
                lines.append(record)
            else:
                lines.extend(record.config_lines())
        lines.extend(self.extra_options)
        return "\n".join(lines) + "\n"

    def log_text(self) -> str:
        """dnsmasq's stderr/stdout so far (useful in assertion messages)."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def start(self, timeout: float = 5.0) -> DnsmasqServer:
        if self._process is not None:
            raise DnsmasqError("dnsmasq already started")
        executable = _find_executable(self.executable)
        if executable is None:
            raise DnsmasqError(f"{self.executable!r} not found (Debian: apt-get install dnsmasq-base)")
        self._workdir = Path(tempfile.mkdtemp(prefix="dnsmasq-test-"))
        conf = self._workdir / "dnsmasq.conf"
        conf.write_text(self.config_text())
        self._log_path = self._workdir / "dnsmasq.log"
        attempts = 1 if self._requested_port is not None else 3
        last_error: DnsmasqError | None = None
        for _ in range(attempts):
            self.port = self._requested_port or _free_port(self.address)
            try:
                self._spawn(executable, conf, timeout)
                return self
            except DnsmasqError as exc:  # e.g. the port was taken in between
                last_error = exc
                self._kill()
        self._cleanup_workdir()
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        self._kill()
        self._cleanup_workdir()

    def __enter__(self) -> DnsmasqServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"{self.address}:{self.port}" if self.running else "stopped"
        return f"<DnsmasqServer {state} records={len(self.records)}>"

    # -- internals -----------------------------------------------------

    def _command(self, executable: str, conf: Path) -> list[str]:
        assert self._workdir is not None
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        command = [
            executable,
            "--no-daemon",
            "--keep-in-foreground",
            f"--port={self.port}",
            f"--listen-address={self.address}",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            f"--conf-file={conf}",
            # Stay the current user/group: "nobody"/"dip" may not exist, and
            # there is nothing to gain from dropping privileges in a test.
            f"--user={user}",
            f"--group={group}",
            f"--pid-file={self._workdir / 'dnsmasq.pid'}",
            "--log-facility=-",
        ]
        if self.log_queries:
            command.append("--log-queries")
        return command

    def _spawn(self, executable: str, conf: Path, timeout: float) -> None:
        assert self._log_path is not None
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(executable, conf),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.05)
            while True:
                if self._process.poll() is not None:
                    raise DnsmasqError(
                        f"dnsmasq exited with status {self._process.returncode}:\n" + self.log_text()
                    )
                try:
                    probe.sendto(_PROBE_QUERY, (self.address, self.port))
                    reply, _ = probe.recvfrom(4096)
                    if reply[:2] == _PROBE_QUERY[:2]:
                        return
                except OSError:  # timeout or ICMP port unreachable: not up yet
                    pass
                if time.monotonic() > deadline:
                    raise DnsmasqError(f"dnsmasq did not answer within {timeout}s:\n{self.log_text()}")
                time.sleep(0.01)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=3)

    def _cleanup_workdir(self) -> None:
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(workdir)
