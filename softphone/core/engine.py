"""The UI-agnostic engine: accounts, registrations and the requests nobody else serves."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

from ..sip.headers import Headers
from ..sip.inspect import UasPolicy, inspect_request
from ..sip.message import make_response
from ..sip.transaction import Timers
from ..transport.base import Destination
from ..transport.manager import TlsSettings, _route_source
from ..transport.resolver import SipResolver
from .account import AccountConfig
from .events import EngineEvent, EventSink
from .registration import Registration
from .stack import IncomingRequest, SipStack
from .trace import TraceSink

log = logging.getLogger(__name__)

NETWORK_POLL = 3.0


class Engine:
    """Runs the SIP stack and every account; the GUI and the CLI talk only to this.

    Events go to every subscriber (``subscribe``); methods are coroutines.
    """

    def __init__(
        self,
        *,
        listen: tuple[str, int] = ("0.0.0.0", 0),
        resolver: SipResolver | None = None,
        timers: Timers | None = None,
        trace: TraceSink | None = None,
        tls: TlsSettings | None = None,
    ) -> None:
        self.listen = listen
        self.resolver = resolver or SipResolver()
        self.stack = SipStack(timers=timers, tls=tls, trace=trace)
        self.stack.on_request = self._on_request
        self.registrations: dict[str, Registration] = {}
        self.policy = UasPolicy(methods=frozenset({"OPTIONS"}))
        self._subscribers: list[EventSink] = []
        self._monitor: asyncio.Task[None] | None = None
        self.local: tuple[str, int] | None = None

    # -- events --
    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        self._subscribers.append(sink)
        return lambda: self._subscribers.remove(sink)

    def emit(self, event: EngineEvent) -> None:
        for sink in list(self._subscribers):
            try:
                sink(event)
            except Exception:
                log.exception("event subscriber failed")

    # -- lifecycle --
    async def start(self) -> None:
        self.local = await self.stack.start(*self.listen)
        self._monitor = asyncio.ensure_future(self._watch_network())
        self.emit(EngineEvent("started", None, {"listen": f"{self.local[0]}:{self.local[1]}"}))

    async def stop(self) -> None:
        """Un-REGISTER every account, then close the sockets."""
        if self._monitor is not None:
            self._monitor.cancel()
        await asyncio.gather(
            *(reg.stop(unregister=True) for reg in self.registrations.values()),
            return_exceptions=True,
        )
        await self.stack.close()
        self.emit(EngineEvent("stopped"))

    # -- accounts --
    def add_account(self, config: AccountConfig) -> Registration:
        if config.id in self.registrations:
            raise ValueError(f"account {config.id} exists already")
        if config.transport == "tls" and (config.ca_file or not config.tls_verify):
            self.stack.transport.tls = TlsSettings(verify=config.tls_verify, ca_file=config.ca_file)
            if not config.tls_verify:
                log.warning(
                    "%s: TLS certificate checks are OFF; anyone on the path can read the calls", config.id
                )
                self.emit(EngineEvent("warning", config.id, {"message": "TLS certificate checks are off"}))
        registration = Registration(config, self.stack, self.resolver, self.emit)
        self.registrations[config.id] = registration
        return registration

    async def register(self, account_id: str) -> None:
        self.registrations[account_id].start()

    async def remove_account(self, account_id: str) -> None:
        registration = self.registrations.pop(account_id)
        await registration.stop(unregister=True)

    # -- requests nobody else serves --
    def _on_request(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        tag = secrets.token_hex(6)
        rejection = inspect_request(request, self.policy, to_tag=tag)
        if rejection is not None:
            self.stack.respond(incoming.transaction, rejection)
            return
        if request.method == "OPTIONS":
            headers = Headers(
                [
                    ("Allow", self.policy.allow),
                    ("Accept", "application/sdp"),
                    ("Supported", ", ".join(sorted(self.policy.extensions)) or "path"),
                ]
            )
            self.stack.respond(incoming.transaction, make_response(request, 200, to_tag=tag, headers=headers))
            return
        self.stack.respond(incoming.transaction, make_response(request, 501, to_tag=tag))

    # -- network changes --
    async def _watch_network(self) -> None:
        """Register again as soon as the local address towards a server changes (RFC 5626 §4.4)."""
        seen: dict[str, str] = {}
        while True:
            await asyncio.sleep(NETWORK_POLL)
            for reg in self.registrations.values():
                dest: Destination | None = reg.dest
                if dest is None:
                    continue
                source = await asyncio.get_running_loop().run_in_executor(None, _route_source, dest.address)
                previous = seen.get(reg.account)
                seen[reg.account] = source
                if previous is not None and previous != source:
                    log.info("%s: local address changed %s -> %s", reg.account, previous, source)
                    reg.network_changed()
                elif reg.state == "failed" and previous is None:
                    pass
