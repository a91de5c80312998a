"""Throw-away network namespaces joined by veth pairs, for tests that need real interfaces.

ICE agents (aioice) never gather loopback addresses, so ICE tests run between namespaces: each namespace
gets its own interfaces with private 10.200.x.y addresses that exist nowhere else, and nothing can leave
the machine (the namespaces have no link to the host's network).  Needs root and ``ip`` (iproute2).

Example::

    with Topology() as topo:
        a, b = topo.namespace("a"), topo.namespace("b")
        topo.link(a, "10.200.0.1/24", b, "10.200.0.2/24")
        with a.entered():          # sockets created here (this thread) live in namespace a
            ...
        proc = subprocess.Popen(b.command("python", "-m", "softphone.cli", ...))

or simply ``with two_hosts() as (topo, a, b):``.

Everything is deleted on exit, also when the test fails; deleting a namespace deletes its veth ends.
Namespaces are named ``sptest-<pid>-<n>``; ones left by a killed test process are reaped the next time a
:class:`Topology` is created.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ["Netns", "NetnsError", "Topology", "netns_unavailable_reason", "two_hosts"]

PREFIX = "sptest"
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_counter = itertools.count()


class NetnsError(RuntimeError):
    """An ``ip`` command failed."""


def _ip(*args: str) -> str:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15)
    if proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


_unavailable: str | None | bool = False  # False: not probed yet


def netns_unavailable_reason() -> str | None:
    """None when namespaces can be created here, else why not (for pytest.skip)."""
    global _unavailable
    if _unavailable is not False:
        return _unavailable if isinstance(_unavailable, str) else None
    reason: str | None = None
    if shutil.which("ip") is None:
        reason = "iproute2 'ip' command not found"
    elif os.geteuid() != 0:
        reason = "network namespaces need root"
    else:
        try:
            with Topology() as topo:
                a, b = topo.namespace("probe-a"), topo.namespace("probe-b")
                topo.link(a, "10.200.255.1/24", b, "10.200.255.2/24")
        except (NetnsError, OSError, subprocess.SubprocessError) as exc:
            reason = f"cannot create network namespaces: {exc}"
    _unavailable = reason if reason is not None else None
    return reason


def _libc_setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


@dataclass
class Netns:
    """One network namespace (``ip netns`` name)."""

    name: str
    addresses: list[str] = field(default_factory=list)
    """IPv4 addresses given by :meth:`Topology.link`, without prefix length, in order."""

    @property
    def address(self) -> str:
        """The first address."""
        return self.addresses[0]

    def command(self, *cmd: str) -> list[str]:
        """``cmd`` run inside the namespace (``ip netns exec``: the process execs, same pid)."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*cmd), capture_output=True, text=True, check=check, timeout=timeout
        )

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Move this thread into the namespace for the block: sockets created meanwhile stay in it (also
        after the block) and interface listings show its interfaces.  Other threads are not affected."""
        with open("/proc/thread-self/ns/net", "rb") as home, open(NETNS_DIR / self.name, "rb") as target:
            _libc_setns(target.fileno())
            try:
                yield
            finally:
                _libc_setns(home.fileno())

    def set_sysctl(self, key: str, value: str) -> None:
        path = "/proc/sys/" + key.replace(".", "/")
        self.run("sh", "-c", f"echo {value} > {path}")


class Topology:
    """Namespaces and veth links, all removed by :meth:`close` (or the ``with`` block)."""

    def __init__(self) -> None:
        self.namespaces: list[Netns] = []
        self._id = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        self._links = 0
        _reap_stale()

    def namespace(self, label: str) -> Netns:
        """A new namespace with loopback up, IPv4 forwarding off, and no other interface yet."""
        if not re.fullmatch(r"[a-z0-9-]{1,20}", label):
            raise ValueError(f"bad namespace label {label!r}")
        ns = Netns(f"{self._id}-{label}")
        _ip("netns", "add", ns.name)
        self.namespaces.append(ns)
        _ip("-n", ns.name, "link", "set", "lo", "up")
        ns.set_sysctl("net.ipv4.ip_forward", "0")
        # no IPv6 on the veths: DAD delays and link-local noise are not wanted
        ns.set_sysctl("net.ipv6.conf.default.disable_ipv6", "1")
        return ns

    def link(self, a: Netns, a_address: str, b: Netns, b_address: str) -> tuple[str, str]:
        """A veth pair between ``a`` and ``b`` with these ``address/prefix`` values; returns the interface
        names (created directly inside the namespaces, nothing appears in the host's namespace)."""
        index = self._links
        self._links += 1
        a_if, b_if = f"veth{index}a", f"veth{index}b"
        _ip("link", "add", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if, "netns", b.name)
        for ns, ifname, address in ((a, a_if, a_address), (b, b_if, b_address)):
            _ip("-n", ns.name, "addr", "add", address, "dev", ifname)
            _ip("-n", ns.name, "link", "set", ifname, "up")
            ns.addresses.append(address.partition("/")[0])
        return a_if, b_if

    def route(self, ns: Netns, destination: str, via: str) -> None:
        """``ip route add destination via via`` inside ``ns`` (``destination`` may be ``default``)."""
        _ip("-n", ns.name, "route", "add", destination, "via", via)

    def close(self) -> None:
        errors = []
        for ns in reversed(self.namespaces):
            try:
                _ip("netns", "del", ns.name)
            except NetnsError as exc:
                errors.append(str(exc))
        self.namespaces.clear()
        if errors:
            raise NetnsError("; ".join(errors))

    def __enter__(self) -> Topology:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _reap_stale() -> None:
    """Delete namespaces left by test processes that no longer run."""
    if not NETNS_DIR.is_dir():
        return
    for path in NETNS_DIR.iterdir():
        match = re.fullmatch(rf"{PREFIX}-(\d+)-\d+-.+", path.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        if not Path(f"/proc/{match.group(1)}").exists():
            with contextlib.suppress(NetnsError):
                _ip("netns", "del", path.name)


@contextlib.contextmanager
def two_hosts(subnet: str = "10.200.0") -> Iterator[tuple[Topology, Netns, Netns]]:
    """Namespaces ``a`` (``<subnet>.1``) and ``b`` (``<subnet>.2``) on one /24 veth link."""
    with Topology() as topo:
        a, b = topo.namespace("a"), topo.namespace("b")
        topo.link(a, f"{subnet}.1/24", b, f"{subnet}.2/24")
        yield topo, a, b
