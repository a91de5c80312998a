"""The asyncio driver of the sans-IO SIP core: feeds it bytes and time, carries out its sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..sip.headers import Via
from ..sip.incoming import Drop, Reject, classify
from ..sip.message import Request, Response, make_response
from ..sip.transaction import (
    AckReceived,
    CancelReceived,
    ClientTransaction,
    Event,
    RequestReceived,
    ResponseReceived,
    Send,
    ServerTransaction,
    StrayResponse,
    Timers,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    new_branch,
)
from ..transport.base import Destination, Source, TransportError
from ..transport.manager import TlsSettings, TransportManager
from .limits import SourceLimiter
from .trace import TraceSink, make_entry

log = logging.getLogger(__name__)

USER_AGENT = "Softphone/0.1"


@dataclass(frozen=True)
class IncomingRequest:
    """A request for the application, with the transaction to answer it on."""

    request: Request
    source: Source
    transaction: ServerTransaction


RequestHandler = Callable[[IncomingRequest], None]
CancelHandler = Callable[[IncomingRequest], None]
AckHandler = Callable[[Request, Source], None]
LostHandler = Callable[[Destination], None]


class SipStack:
    """One SIP endpoint: sockets, the transaction layer, its timers and the trace.

    Everything protocol-shaped happens in ``softphone.sip``; this class only moves
    bytes between the network and that core, and runs its timers on the event loop.
    """

    def __init__(
        self,
        *,
        timers: Timers | None = None,
        tls: TlsSettings | None = None,
        trace: TraceSink | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timers = timers or Timers()
        self.layer = TransactionLayer(self.timers)
        self.transport = TransportManager(
            self._on_data,
            on_connection_lost=self._on_connection_lost,
            trace=self._trace_hook if trace else None,
            tls=tls,
        )
        self.user_agent = user_agent
        self.transport.user_agent = user_agent
        self._trace = trace
        self._waiters: dict[int, asyncio.Queue[Response | Exception]] = {}
        self._request_waiters: dict[int, asyncio.Queue[Response | Exception]] = {}
        self._transactions: dict[int, ClientTransaction] = {}
        self._request_dests: dict[int, Destination] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_request: RequestHandler | None = None
        self.on_cancel: CancelHandler | None = None
        self.on_ack: AckHandler | None = None
        self.on_late_response: Callable[[Response], None] | None = None
        self.lost_handlers: list[LostHandler] = []
        self.rejected = 0
        self.dropped = 0
        self.limiter: SourceLimiter | None = SourceLimiter()

    # -- lifecycle --
    async def start(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        return await self.transport.start_udp(host, port)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self.transport.close()

    @property
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    # -- client side --
    async def prepare(self, request: Request, dest: Destination) -> None:
        """Add the top Via (with rport, RFC 3581) and the headers every request carries.

        Over a WebSocket the Via says ``SIP/2.0/WS`` (or WSS) and a ``.invalid`` host (RFC 7118 §5.2).
        """
        host, port = await self.transport.sent_by(dest)
        via = Via(dest.transport.upper(), host, port, {"branch": new_branch(), "rport": None})
        if request.method != "CANCEL" or "Via" not in request.headers:
            request.headers.prepend("Via", str(via))
        if "Max-Forwards" not in request.headers:
            request.headers.add("Max-Forwards", "70")
        if "User-Agent" not in request.headers:
            request.headers.add("User-Agent", self.user_agent)

    async def request(
        self,
        request: Request,
        dest: Destination,
        *,
        on_provisional: Callable[[Response], None] | None = None,
        prepared: bool = False,
    ) -> Response:
        """Send a request in a client transaction and return its final response.

        A transaction timeout becomes a 408 and a transport failure a 503, as RFC 3261
        §8.1.3.1 asks, with the reason phrase saying what happened.
        """
        if not prepared:
            try:
                await self.prepare(request, dest)
            except TransportError as exc:
                return _local_response(request, 503, str(exc))
        transaction, events = self.layer.send_request(request, dest, reliable=dest.reliable, now=self.now)
        queue: asyncio.Queue[Response | Exception] = asyncio.Queue()
        self._waiters[id(transaction)] = queue
        self._request_waiters[id(request)] = queue
        self._transactions[id(request)] = transaction
        self._request_dests[id(request)] = dest
        try:
            self._process(events)
            while True:
                item = await queue.get()
                if isinstance(item, TransportError):
                    return _local_response(request, 503, str(item))
                if isinstance(item, Exception):
                    return _local_response(request, 408, "Request Timeout (no response)")
                if item.status < 200:
                    if on_provisional is not None:
                        on_provisional(item)
                    continue
                return item
        finally:
            self._waiters.pop(id(transaction), None)
            self._request_waiters.pop(id(request), None)
            self._transactions.pop(id(request), None)
            self._request_dests.pop(id(request), None)
            self._arm_timer()

    async def send_ack(self, ack: Request, dest: Destination) -> None:
        """Send an ACK for a 2xx: no transaction (RFC 3261 §13.2.2.4)."""
        await self.prepare(ack, dest)
        self._process(self.layer.send_ack(ack, dest))

    # -- server side --
    def respond(self, transaction: ServerTransaction, response: Response) -> None:
        if "User-Agent" not in response.headers and "Server" not in response.headers:
            response.headers.add("Server", self.user_agent)
        self._process(self.layer.send_response(transaction, response, now=self.now))

    # -- internals --
    def _on_data(self, data: bytes, source: Source) -> None:
        limiter = self.limiter
        is_response = data.startswith(b"SIP/")
        if limiter is not None and not is_response and not limiter.allow(source.address, self.now):
            self.dropped += 1
            return
        # A WebSocket message is one whole SIP message, like a datagram: Content-Length
        # may be missing (RFC 7118 §5.1). Only TCP and TLS frames come from a StreamFramer.
        result = classify(data, stream=source.transport in ("tcp", "tls"))
        if isinstance(result, Drop):
            self.dropped += 1
            log.info("dropped message from %s: %s", source, result.reason)
            return
        if isinstance(result, Reject):
            self.rejected += 1
            log.info("rejected request from %s: %s", source, result.reason)
            self._send_reply(result.response, source)
            return
        if isinstance(result, Request):
            _stamp_via(result, source)
        self._process(self.layer.receive(result, source, reliable=source.transport != "udp", now=self.now))

    def _process(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Send):
                self._send(event)
            elif isinstance(event, RequestReceived):
                assert isinstance(event.peer, Source)
                if self.on_request is not None:
                    try:
                        self.on_request(IncomingRequest(event.request, event.peer, event.transaction))
                    except Exception:
                        # A bug in the application must still end the transaction.
                        log.exception("error handling %s", event.request.method)
                        failure = make_response(event.request, 500, "Server Internal Error")
                        self._process(self.layer.send_response(event.transaction, failure, now=self.now))
            elif isinstance(event, ResponseReceived):
                self._deliver(event.transaction, event.response)
            elif isinstance(event, TransactionTimeout):
                if isinstance(event.transaction, ClientTransaction):
                    self._deliver(event.transaction, TimeoutError("transaction timed out"))
            elif isinstance(event, CancelReceived):
                assert isinstance(event.peer, Source)
                if self.on_cancel is not None:
                    self.on_cancel(IncomingRequest(event.request, event.peer, event.transaction))
            elif isinstance(event, AckReceived):
                assert isinstance(event.peer, Source)
                if self.on_ack is not None:
                    self.on_ack(event.request, event.peer)
            elif isinstance(event, StrayResponse):
                log.debug("stray response %s", event.response.status)
            elif isinstance(event, TransactionTerminated):
                pass
        self._arm_timer()

    def _deliver(self, transaction: ClientTransaction, item: Response | Exception) -> None:
        queue = self._waiters.get(id(transaction))
        if queue is not None:
            queue.put_nowait(item)
        elif isinstance(item, Response) and self.on_late_response is not None:
            # A 2xx retransmitted after the transaction returned (RFC 6026 Accepted state):
            # the dialog layer must send its ACK again.
            self.on_late_response(item)

    def cancel(self, request: Request) -> None:
        """CANCEL a pending INVITE (RFC 3261 §9.1); sent once a provisional has arrived."""
        transaction = self._transactions.get(id(request))
        if transaction is None:
            return
        _, events = self.layer.cancel_request(transaction, now=self.now)
        self._process(events)

    def _send(self, event: Send) -> None:
        message = event.message
        if isinstance(message, Response):
            assert isinstance(event.peer, Source)
            self._send_reply(message, event.peer)
            return
        assert isinstance(event.peer, Destination)
        dest = event.peer
        data = message.serialize()
        task = asyncio.ensure_future(self._send_request(data, dest, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_request(self, data: bytes, dest: Destination, message: Request) -> None:
        if self.limiter is not None:
            self.limiter.trust(dest.address)
        try:
            await self.transport.send(data, dest)
        except TransportError as exc:
            log.info("sending %s to %s failed: %s", message.method, dest, exc)
            queue = self._request_waiters.get(id(message))
            if queue is not None:
                queue.put_nowait(exc)
            transaction = self._transactions.get(id(message))
            if transaction is not None:
                self._process(self.layer.transport_error(transaction, now=self.now))
        except OSError as exc:
            log.info("sending %s to %s failed: %s", message.method, dest, exc)

    def _send_reply(self, response: Response, source: Source) -> None:
        try:
            self.transport.send_reply(response.serialize(), source)
        except (OSError, TransportError) as exc:
            log.info("sending response to %s failed: %s", source, exc)

    def _arm_timer(self) -> None:
        deadline = self.layer.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = None
        self._process(self.layer.on_timer(self.now))

    def _on_connection_lost(self, dest: Destination) -> None:
        # Requests in flight on a dead stream will never get an answer: fail them now
        # instead of waiting for Timer B/F (RFC 3261 §8.1.3.1, a transport error).
        for key, where in list(self._request_dests.items()):
            if where.key == dest.key:
                queue = self._request_waiters.get(key)
                if queue is not None:
                    queue.put_nowait(TransportError(f"connection to {dest} lost"))
                transaction = self._transactions.get(key)
                if transaction is not None:
                    self._process(self.layer.transport_error(transaction, now=self.now))
        for handler in list(self.lost_handlers):
            handler(dest)

    def _trace_hook(self, direction: str, data: bytes, peer: str) -> None:
        if self._trace is None:
            return
        entry = make_entry(direction, data, peer)
        if entry is not None:
            self._trace(entry)


def _stamp_via(request: Request, source: Source) -> None:
    """Add received and rport to the top Via (RFC 3261 §18.2.1, RFC 3581 §4)."""
    try:
        via = request.top_via
    except Exception:
        return
    params = dict(via.params)
    changed = False
    if via.host != source.address:
        params["received"] = source.address
        changed = True
    if "rport" in params and params["rport"] is None:
        params["rport"] = str(source.port)
        changed = True
    if changed:
        request.headers.remove_first("Via")
        request.headers.prepend("Via", str(Via(via.transport, via.host, via.port, params, via.protocol)))


def _local_response(request: Request, status: int, reason: str) -> Response:
    """A response made up locally for a request that got none (RFC 3261 §8.1.3.1)."""
    return make_response(request, status, reason)
