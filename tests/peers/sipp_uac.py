"""A SIPp client-side (UAC) scenario as a scripted SIP peer for tests.

:class:`SippUac` is :class:`~tests.peers.sipp_uas.SippUas` with a remote
target: it runs ``sipp REMOTE -sf SCENARIO -i 127.0.0.1 -p PORT -m 1 -s
SERVICE`` in a private working directory, with the same traces, parsing and
process handling (``wait``, ``messages``, ``received``, ``requests``,
``sent``, ``explain``).  It has no pytest dependency.

Example::

    with SippUac("uac_call_reject.xml", remote=f"127.0.0.1:{port}") as uac:
        ...  # the softphone at 127.0.0.1:<port> rejects the INVITE
        assert uac.wait(timeout=10) == 0, uac.explain()

SIPp facts this relies on (3.6.x):

* A UAC scenario starts with ``<send>``; SIPp places ``-m`` calls (one here)
  as soon as it starts, so the peer must already be listening.
* A UAC-mode SIPp drops incoming INVITEs with a Call-ID it did not create:
  a call *towards* the softphone's peer needs a :class:`SippUas`.
* ``[service]`` in the scenario is ``-s`` (the Request-URI user part);
  ``[call_id]`` is a fresh Call-ID per call; ``[media_ip]``/``[media_port]``
  are SIPp's own RTP socket (which echoes nothing unless ``-rtp_echo``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from .sipp_uas import SippUas

__all__ = ["SippUac"]


class SippUac(SippUas):
    """Run a SIPp UAC scenario from 127.0.0.1:<free UDP port> towards ``remote`` (``host:port``).

    ``service``: ``-s`` (``[service]`` in the scenario).  Everything else as
    for :class:`SippUas`.
    """

    def __init__(
        self,
        scenario: str | os.PathLike[str],
        *,
        remote: str,
        service: str = "softphone",
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
        super().__init__(
            scenario,
            calls=calls,
            timeout=timeout,
            keys=keys,
            extra_args=extra_args,
            workdir=workdir,
            address=address,
            port=port,
            name=name,
            executable=executable,
        )
        self.remote = remote
        self.service = service

    def command(self) -> list[str]:
        return [*super().command(), "-s", self.service, self.remote]

    def __repr__(self) -> str:
        state = f"{self.address}:{self.port}" if self.running else f"stopped rc={self.returncode}"
        return f"<SippUac {self.name} {state} -> {self.remote}>"
