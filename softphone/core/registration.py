"""Registration of one account (RFC 3261 §10), kept alive and repaired (RFC 5626 §4.4, §4.5)."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from dataclasses import dataclass

from ..sip.address import Address
from ..sip.auth import DigestClient
from ..sip.errors import ParseError
from ..sip.headers import Headers
from ..sip.message import Request, Response
from ..sip.uri import SipUri
from ..transport.base import DEFAULT_PORTS, Destination, TransportError
from ..transport.resolver import ResolutionError, SipResolver
from .account import AccountConfig
from .events import EngineEvent, EventSink
from .routing import websocket_destinations
from .stack import SipStack

log = logging.getLogger(__name__)

UNREGISTER_TIMEOUT = 4.0
PONG_TIMEOUT = 10.0
MAX_AUTH_ROUNDS = 3
# Failures worth retrying: the server or the path is in trouble, not the account.
TRANSIENT = frozenset({408, 480, 500, 502, 503, 504, 580})
# Failures after which the next server of the resolved list is tried at once (RFC 3263 §4.3):
# a timeout or transport error (both reported as a local 408/503) or a 503 from the server.
FAILOVER = frozenset({408, 503})


@dataclass(frozen=True)
class _Outcome:
    kind: str  # "registered", "retry" or "fatal"
    delay: float = 0.0


class Registration:
    """Keeps one account registered and reports every state change as an event.

    States: ``idle``, ``registering``, ``registered``, ``failed`` (retrying later),
    ``rejected`` (needs the user: wrong password, forbidden), ``unregistered``.
    """

    def __init__(
        self,
        config: AccountConfig,
        stack: SipStack,
        resolver: SipResolver,
        emit: EventSink,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.stack = stack
        self.resolver = resolver
        self.emit = emit
        self.rng = rng or random.Random()
        self.state = "idle"
        self.call_id = f"{secrets.token_hex(12)}@softphone"
        self.from_tag = secrets.token_hex(6)
        self.cseq = 0
        self.digest = DigestClient(config.username, config.password or "")
        self.dest: Destination | None = None
        self._fallbacks: list[Destination] = []  # the rest of the last resolution, in order
        self.contact: SipUri | None = None
        self.public: tuple[str, int] | None = None  # what the registrar saw (RFC 3581)
        # The Contact registered before the public address was learned: removed (expires=0) by the next
        # REGISTER, else calls fork to it too and arrive twice through the same NAT mapping.
        self._stale_contact: SipUri | None = None
        self.expires = 0
        self.failures = 0
        self.last_error: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self.stack.lost_handlers.append(self._on_connection_lost)

    @property
    def account(self) -> str:
        return self.config.id

    # -- control --
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def refresh_now(self) -> None:
        """Register again at once (the network came back, the connection dropped ...)."""
        self._wake.set()

    def network_changed(self) -> None:
        self.dest = None
        self._fallbacks = []
        self.public = None
        self.refresh_now()

    async def stop(self, *, unregister: bool = True) -> None:
        for task in (self._task, self._keepalive_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._task = self._keepalive_task = None
        if self._on_connection_lost in self.stack.lost_handlers:
            self.stack.lost_handlers.remove(self._on_connection_lost)
        if unregister and self.state == "registered":
            await self._unregister()
        elif self.state != "unregistered":
            self.state = "idle"

    # -- the loop --
    async def _run(self) -> None:
        while True:
            self._wake.clear()
            outcome = await self._attempt()
            if outcome.kind == "fatal":
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=outcome.delay)
            except TimeoutError:
                pass

    async def _attempt(self) -> _Outcome:
        self._set_state("registering", registrar=str(self.config.registrar_uri))
        # Credentials of an earlier attempt may refer to a nonce the server forgot (a restart):
        # start each attempt unauthenticated so only this attempt's challenges count.
        self.digest.reset()
        expires = self.config.expires
        response: Response | None = None
        rounds = 0
        while rounds < MAX_AUTH_ROUNDS + 2:
            rounds += 1
            try:
                dest = await self._destination()
            except ResolutionError as exc:
                return self._transient(0, f"cannot resolve: {exc}")
            try:
                request = await self._build(dest, expires)
            except TransportError as exc:
                self.dest = None
                if exc.certificate:
                    return self._fatal(0, str(exc))  # needs the user: trust it or fix the server
                if self._fail_over(dest, str(exc)):
                    rounds -= 1  # a new server: its challenges count afresh
                    continue
                return self._transient(503, str(exc))
            response = await self.stack.request(request, dest, prepared=True)
            status = response.status
            if status in FAILOVER and self._fail_over(dest, f"{status} {response.reason}"):
                rounds -= 1
                continue
            if status in (401, 407):
                values = response.headers.lines("WWW-Authenticate" if status == 401 else "Proxy-Authenticate")
                if not self.digest.on_challenge(status, values):
                    return self._fatal(status, _auth_failure(status, self.digest.failed_realm))
                continue
            if status == 423:
                minimum = response.headers.get("Min-Expires")
                if (
                    minimum is None
                    or not (minimum.strip().isascii() and minimum.strip().isdigit())
                    or int(minimum) <= expires
                ):
                    return self._fatal(423, "registrar asks for an interval it does not name")
                expires = int(minimum)
                continue
            if 200 <= status < 300:
                outcome = self._registered(response, expires)
                if outcome is not None:
                    return outcome
                continue  # the public address changed: register the new Contact now
            if status in TRANSIENT:
                self.dest = None  # after the back-off, start again from a fresh resolution
                self._fallbacks = []
                return self._transient(status, response.reason, _retry_after(response))
            return self._fatal(status, response.reason or "rejected")
        return self._fatal(response.status if response else 0, "too many authentication rounds")

    def _registered(self, response: Response, asked: int) -> _Outcome | None:
        assert self.contact is not None
        granted = _granted_expires(response, self.contact, asked)
        public = _public_address(response)
        if public is not None and self.config.transport == "udp":
            current = (self.contact.host, self.contact.port or DEFAULT_PORTS["udp"])
            if public != current and public != self.public:
                log.info("%s: registrar sees us at %s:%s", self.account, *public)
                self.public = public
                self._stale_contact = self.contact
                return None
        self._stale_contact = None
        self.failures = 0
        self.expires = granted
        self.last_error = None
        self._set_state("registered", expires=granted, contact=str(self.contact))
        self._ensure_keepalive()
        return _Outcome("registered", _refresh_delay(granted))

    def _transient(self, status: int, reason: str, retry_after: float | None = None) -> _Outcome:
        self.failures += 1
        if retry_after is not None:
            delay = retry_after
        else:
            # RFC 5626 §4.5: exponential back-off with a random part, so that many
            # clients do not all come back at the same second.
            ceiling = min(self.config.retry_max, self.config.retry_base * 2 ** (self.failures - 1))
            delay = self.rng.uniform(0.5, 1.0) * ceiling
        self.last_error = (status, reason)
        self.state = "failed"
        self.emit(
            EngineEvent(
                "registration_failed",
                self.account,
                {"status": status, "reason": reason, "retry_in": round(delay, 2), "permanent": False},
            )
        )
        return _Outcome("retry", delay)

    def _fatal(self, status: int, reason: str) -> _Outcome:
        self.last_error = (status, reason)
        self.state = "rejected"
        self.emit(
            EngineEvent(
                "registration_failed",
                self.account,
                {"status": status, "reason": reason, "retry_in": None, "permanent": True},
            )
        )
        return _Outcome("fatal")

    def _fail_over(self, failed: Destination, why: str) -> bool:
        """Move on to the next target of the last resolution, if there is one (RFC 3263 §4.3)."""
        if not self._fallbacks:
            return False
        self.dest = self._fallbacks.pop(0)
        log.info("%s: %s failed (%s); trying %s", self.account, failed, why, self.dest)
        self.digest.reset()  # the next server challenges afresh
        return True

    # -- building requests --
    async def _destination(self) -> Destination:
        if self.dest is not None:
            return self.dest
        if self.config.websocket_url is not None:
            destinations = await websocket_destinations(self.resolver, self.config)
            self.dest, self._fallbacks = destinations[0], destinations[1:]
            return self.dest
        hop = self.config.proxy_uri or self.config.registrar_uri
        transport = hop.transport or self.config.transport
        targets = await self.resolver.resolve(
            hop.host, port=hop.port, transport=transport, secure=hop.secure or transport == "tls"
        )
        # Prefer the account's transport when the resolver offers several.
        targets.sort(key=lambda t: t.transport != self.config.transport)
        destinations = [Destination(t.transport, t.address, t.port, t.host) for t in targets]
        self.dest, self._fallbacks = destinations[0], destinations[1:]
        return self.dest

    async def _build(self, dest: Destination, expires: int) -> Request:
        # Over a WebSocket: sip:user@<x>.invalid;transport=ws (RFC 7118 §5.4).
        host, port = await self.stack.transport.sent_by(dest)
        if self.public is not None and dest.transport == "udp":
            host, port = self.public
        aor = self.config.uri
        params: dict[str, str | None] = {}
        if dest.transport != "udp":
            params["transport"] = dest.transport
        self.contact = SipUri(host=host, port=port, user=aor.user, scheme="sip", params=params)
        registrar = self.config.registrar_uri
        self.cseq += 1
        headers = Headers()
        if self.config.proxy_uri is not None:
            headers.add("Route", f"<{self.config.proxy_uri.with_params(lr=None)}>")
        identity = Address(aor, self.config.display_name)
        headers.add("From", f"{identity};tag={self.from_tag}")
        headers.add("To", str(Address(aor, self.config.display_name)))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{self.cseq} REGISTER")
        headers.add("Contact", f"<{self.contact}>")
        stale = self._stale_contact
        if stale is not None and expires > 0 and not _same_binding(stale, self.contact):
            headers.add("Contact", f"<{stale}>;expires=0")  # RFC 3261 §10.2.2
        headers.add("Expires", str(expires))
        headers.add("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, REFER, UPDATE")
        request = Request("REGISTER", registrar, headers)
        await self.stack.prepare(request, dest)
        for name, value in self.digest.authorization_headers("REGISTER", str(registrar)):
            request.headers.add(name, value)
        return request

    async def _unregister(self) -> None:
        self._set_state("unregistering")
        try:
            await asyncio.wait_for(self._unregister_rounds(), UNREGISTER_TIMEOUT)
        except TimeoutError:
            log.info("%s: no answer to un-REGISTER", self.account)
        self.state = "unregistered"
        self.emit(EngineEvent("unregistered", self.account, {}))

    async def _unregister_rounds(self) -> None:
        if self.dest is None:
            return
        for _ in range(MAX_AUTH_ROUNDS):
            try:
                request = await self._build(self.dest, 0)
            except TransportError:
                return
            response = await self.stack.request(request, self.dest, prepared=True)
            if response.status in (401, 407):
                name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
                if self.digest.on_challenge(response.status, response.headers.lines(name)):
                    continue
            return

    # -- keeping the flow alive --
    def _ensure_keepalive(self) -> None:
        if self._keepalive_task is None or self._keepalive_task.done():
            self._keepalive_task = asyncio.ensure_future(self._keepalive())

    async def _keepalive(self) -> None:
        interval = self.config.keepalive()
        while True:
            await asyncio.sleep(interval)
            dest = self.dest
            if dest is None or self.state != "registered":
                continue
            if dest.reliable:
                conn_pong = self._last_pong(dest)
                self.stack.transport.keepalive(dest)
                await asyncio.sleep(min(PONG_TIMEOUT, interval / 2))
                if self._last_pong(dest) == conn_pong and self.stack.transport.is_connected(dest):
                    # No pong: the flow is dead even if the socket does not know (RFC 5626 §4.4.1).
                    log.info("%s: no keep-alive answer from %s", self.account, dest)
                    self.stack.transport.disconnect(dest)
            else:
                self.stack.transport.keepalive(dest)

    def _last_pong(self, dest: Destination) -> float:
        return self.stack.transport.last_pong(dest)

    def _on_connection_lost(self, dest: Destination) -> None:
        if self.dest is not None and dest.key == self.dest.key and self.state == "registered":
            log.info("%s: connection to %s lost; registering again", self.account, dest)
            self.refresh_now()

    def _set_state(self, state: str, **fields: object) -> None:
        self.state = state
        self.emit(EngineEvent(state, self.account, dict(fields)))


def _granted_expires(response: Response, contact: SipUri, asked: int) -> int:
    """The interval the registrar granted our Contact (RFC 3261 §10.2.4)."""
    try:
        for addr in response.contacts:
            if isinstance(addr.uri, SipUri) and _same_binding(addr.uri, contact):
                value = addr.params.get("expires")
                if value is not None and value.isascii() and value.isdigit():
                    return int(value)
    except ParseError:
        pass
    header = response.headers.get("Expires")
    if header is not None and header.strip().isascii() and header.strip().isdigit():
        return int(header.strip())
    return asked


def _same_binding(a: SipUri, b: SipUri) -> bool:
    return (a.user, a.host, a.port or 5060) == (b.user, b.host, b.port or 5060)


def _public_address(response: Response) -> tuple[str, int] | None:
    try:
        via = response.top_via
    except ParseError:
        return None
    if via.received is None and via.rport is None:
        return None
    return (via.received or via.host, via.rport or via.port or 5060)


def _refresh_delay(expires: int) -> float:
    # Refresh well before expiry: leaves room for a retransmission or two and a challenge.
    if expires <= 0:
        return 3600.0
    return max(1.0, min(expires * 0.85, expires - 10.0) if expires > 20 else expires * 0.5)


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    number = value.split("(")[0].split(";")[0].strip()
    return float(number) if number.isascii() and number.isdigit() else None


def _auth_failure(status: int, realm: str | None) -> str:
    where = f" for realm {realm}" if realm else ""
    if status == 407:
        return f"proxy authentication failed{where}: wrong user name or password"
    return f"authentication failed{where}: wrong user name or password"
