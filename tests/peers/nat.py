"""Two home networks behind NAT routers and a small "internet" between them, in network namespaces.

::

    home1 (10.200.1.2) -- nat1 (10.200.1.1 | 198.18.1.2) --+
                                                           +-- inet --+-- srv (198.18.0.1): Kamailio, coturn
    home2 (10.200.2.2) -- nat2 (10.200.2.1 | 198.18.2.2) --+          +-- pub (198.18.3.2): no NAT

* ``inet`` is the public core, a router between the public links; ``srv`` holds the servers (Kamailio,
  coturn) and ``pub`` a host with a public address (a peer without NAT).  ``inet`` has no route to the
  private 10.200.0.0/16 networks at all: its default route is a blackhole, so what is sent to a private
  address (a private c= line, a host ICE candidate) is dropped silently, as on the real internet, and
  never reaches a host interface.
* ``nat1`` and ``nat2`` are home routers: IPv4 forwarding, ``iptables -t nat ... -j MASQUERADE`` on the
  WAN interface (Linux conntrack NAT: it keeps the source port when it can, one mapping per 5-tuple,
  replies allowed only from the address and port a flow was sent to, so "port-restricted cone" seen
  from outside), and the usual home-router firewall: nothing new comes in from the WAN, neither to the
  router nor forwarded.  The drop on INPUT matters beyond realism: a packet from outside to the router
  that is not dropped leaves a conntrack entry behind, and that entry makes MASQUERADE pick another port
  for the inside host's later flow towards the same peer, which breaks hole punching (STUN/ICE).
* ``home1``/``home2`` hold the phones, with a default route through their router.

Addresses are only ever configured inside these namespaces: 10.200.0.0/16 for the homes, the benchmark
range 198.18.0.0/15 (RFC 2544) for the public side; none of the namespaces has a link to the host.
Needs root, iproute2 and iptables (nf_tables backend); :func:`nat_unavailable_reason` says what is
missing.

Example::

    with NatTopology() as net:
        with net.srv.entered():
            kamailio = KamailioServer(host=net.server_ip).start()
        subprocess.Popen(net.home1.command("softphone-cli", ...))
        net.conntrack(net.nat1)  # the router's NAT table, for a failing test's report
"""

from __future__ import annotations

import shutil
import subprocess
from types import TracebackType

from tests.peers.netns import Netns, NetnsError, Topology, netns_unavailable_reason

__all__ = ["NatTopology", "nat_unavailable_reason"]

SERVER_IP = "198.18.0.1"


def _check(ns: Netns, *cmd: str) -> str:
    proc = ns.run(*cmd, check=False)
    if proc.returncode != 0:
        raise NetnsError(f"{ns.name}: {' '.join(cmd)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


_unavailable: str | None | bool = False


def nat_unavailable_reason() -> str | None:
    """None when NAT topologies can be built here, else why not (for pytest.skip)."""
    global _unavailable
    if _unavailable is not False:
        return _unavailable if isinstance(_unavailable, str) else None
    reason = netns_unavailable_reason()
    if reason is None and shutil.which("iptables") is None:
        reason = "iptables not found (apt-get install iptables)"
    if reason is None:
        try:
            with Topology() as topo:
                router = topo.namespace("probe-nat")
                _check(router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "lo", "-j", "MASQUERADE")
        except (NetnsError, OSError, subprocess.SubprocessError) as exc:
            reason = f"cannot set up NAT with iptables in a namespace: {exc}"
    _unavailable = reason if reason is not None else None
    return reason


class NatTopology:
    """The namespaces above, built at construction and deleted by :meth:`close` (or the ``with``)."""

    server_ip = SERVER_IP

    def __init__(self) -> None:
        self.topo = Topology()
        try:
            self._build()
        except BaseException:
            self.topo.close()
            raise

    def _build(self) -> None:
        topo = self.topo
        self.inet = topo.namespace("inet")
        self.srv = topo.namespace("srv")
        self.nat1, self.nat2 = topo.namespace("nat1"), topo.namespace("nat2")
        self.home1, self.home2 = topo.namespace("home1"), topo.namespace("home2")
        self.pub = topo.namespace("pub")

        self.inet.set_sysctl("net.ipv4.ip_forward", "1")
        topo.link(self.inet, "198.18.0.254/24", self.srv, f"{SERVER_IP}/24")
        topo.route(self.srv, "default", "198.18.0.254")
        for index, router, home in ((1, self.nat1, self.home1), (2, self.nat2, self.home2)):
            _, wan = topo.link(self.inet, f"198.18.{index}.1/24", router, f"198.18.{index}.2/24")
            lan, _ = topo.link(router, f"10.200.{index}.1/24", home, f"10.200.{index}.2/24")
            self._router(router, wan=wan, lan=lan, upstream=f"198.18.{index}.1")
            topo.route(home, "default", f"10.200.{index}.1")
        topo.link(self.inet, "198.18.3.1/24", self.pub, "198.18.3.2/24")
        topo.route(self.pub, "default", "198.18.3.1")
        # The internet does not route private addresses: what is sent to one is dropped on the way, no
        # error comes back.  (Only forwarded packets: a blackhole route makes a local sendto() fail with
        # EINVAL, and coturn closes a whole allocation on such an error, hence no servers in inet.)
        _check(self.inet, "ip", "route", "add", "blackhole", "default")

    def _router(self, router: Netns, *, wan: str, lan: str, upstream: str) -> None:
        self.topo.route(router, "default", upstream)
        router.set_sysctl("net.ipv4.ip_forward", "1")
        rules = [
            ("-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"),
            ("-A", "INPUT", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
            ("-A", "INPUT", "-i", wan, "-j", "DROP"),
            ("-A", "FORWARD", "-i", lan, "-o", wan, "-j", "ACCEPT"),
            (
                "-A",
                "FORWARD",
                "-i",
                wan,
                "-m",
                "conntrack",
                "--ctstate",
                "ESTABLISHED,RELATED",
                "-j",
                "ACCEPT",
            ),
            ("-A", "FORWARD", "-i", wan, "-j", "DROP"),
        ]
        for rule in rules:
            _check(router, "iptables", *rule)

    @property
    def public_ip1(self) -> str:
        """The address home1 is seen from outside (nat1's WAN address)."""
        return self.nat1.addresses[0]

    @property
    def public_ip2(self) -> str:
        return self.nat2.addresses[0]

    def conntrack(self, router: Netns) -> str:
        """The router's connection tracking table (NAT mappings), for reports."""
        proc = router.run("cat", "/proc/net/nf_conntrack", check=False)
        if proc.returncode == 0:
            return proc.stdout
        proc = router.run("conntrack", "-L", check=False) if shutil.which("conntrack") else proc
        return proc.stdout or proc.stderr

    def close(self) -> None:
        self.topo.close()

    def __enter__(self) -> NatTopology:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
