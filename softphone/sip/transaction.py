"""Sans-IO SIP transactions: RFC 3261 §17, with RFC 6026's changes for 2xx responses to INVITE.

In the style of h11 this module does no I/O and reads no clock. The caller feeds it messages
(``receive``), requests and responses from its transaction user (``send_request``,
``send_response``, ``cancel_request``) and the time (``on_timer``); every call returns the list
of `Event`s that resulted, in order. A `Send` event asks the caller to put a message on the wire;
the other events are for the transaction user (TU).

Time is always a float number of seconds passed in as ``now``; any monotonic clock will do.
``next_deadline()`` tells the caller when to call ``on_timer()`` next.

Design choices, in addition to the RFC:

* ACK is not a transaction (§17.1.1.3, §13.2.2.4). ``send_request`` refuses an ACK with
  `TransactionError`; the ACK for a 2xx is sent with ``send_ack`` (a plain `Send`), and the ACK
  for a 3xx-6xx is built and sent by the INVITE client transaction itself.
* Timers that are zero on reliable transports (D, I, J, K) end the transaction within the call
  that entered the Completed/Confirmed state, so the `TransactionTerminated` event is in the
  same list; no zero-length timer is scheduled.
* A server INVITE transaction sends 100 (Trying) when its TU has not sent a provisional or final
  response within ``Timers.trying`` (200 ms, §17.2.1). The RFC makes this a MUST whatever the
  transport (on TCP the 100 still stops the client's Timer B), so it is done on every transport.
* Messages should have passed ``validate_request``/``validate_response`` first. A response whose
  Via, CSeq or other headers cannot be read is reported as a `StrayResponse`; a request that
  cannot be read raises `ParseError`.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Hashable
from dataclasses import dataclass

from .errors import ParseError, SipError
from .headers import Headers, Via
from .message import Request, Response, make_response

MAGIC_COOKIE = "z9hG4bK"

# Transaction states (RFC 3261 figures 5-8; RFC 6026 figures 5 and 7 add "accepted").
CALLING = "calling"
TRYING = "trying"
PROCEEDING = "proceeding"
ACCEPTED = "accepted"
COMPLETED = "completed"
CONFIRMED = "confirmed"
TERMINATED = "terminated"

_TRYING_TIMER = "Trying"  # the 200 ms timer after which a server INVITE transaction sends 100


class TransactionError(SipError, ValueError):
    """The TU asked for something the transaction state machine does not allow."""


def new_branch() -> str:
    """A fresh RFC 3261 branch parameter: the magic cookie and 128 random bits (§8.1.1.7)."""
    return MAGIC_COOKIE + secrets.token_hex(16)


def _new_tag() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Timers:
    """The timer values of RFC 3261 §17 and Table 4, in seconds.

    Every other timer derives from these: B, F, H, J (unreliable), L and M are 64*T1; A, E and G
    start at T1; E and G are capped at T2; I and K are T4 on unreliable transports; D is ``d``
    (at least 32 s) on unreliable transports; D, I, J and K are zero on reliable ones.
    """

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0
    trying: float = 0.2

    def __post_init__(self) -> None:
        if self.t1 <= 0 or self.t2 < self.t1 or self.t4 < 0 or self.d < 0 or self.trying <= 0:
            raise ValueError(f"inconsistent SIP timers: {self}")

    @property
    def timer_b(self) -> float:
        """INVITE transaction timeout (§17.1.1.2)."""
        return 64 * self.t1

    @property
    def timer_f(self) -> float:
        """Non-INVITE transaction timeout (§17.1.2.2)."""
        return 64 * self.t1

    @property
    def timer_h(self) -> float:
        """Wait time for the ACK to a 3xx-6xx (§17.2.1)."""
        return 64 * self.t1

    @property
    def timer_l(self) -> float:
        """Wait time in the server's Accepted state (RFC 6026 §7.1)."""
        return 64 * self.t1

    @property
    def timer_m(self) -> float:
        """Wait time in the client's Accepted state (RFC 6026 §7.2)."""
        return 64 * self.t1

    def timer_d(self, reliable: bool) -> float:
        """Wait time for response retransmissions in the INVITE client's Completed state."""
        return 0.0 if reliable else self.d

    def timer_i(self, reliable: bool) -> float:
        """Wait time for ACK retransmissions in the INVITE server's Confirmed state."""
        return 0.0 if reliable else self.t4

    def timer_j(self, reliable: bool) -> float:
        """Wait time for request retransmissions in the non-INVITE server's Completed state."""
        return 0.0 if reliable else 64 * self.t1

    def timer_k(self, reliable: bool) -> float:
        """Wait time for response retransmissions in the non-INVITE client's Completed state."""
        return 0.0 if reliable else self.t4


# ---------------------------------------------------------------------------------------------
# Transactions


class _Transaction:
    __slots__ = ("request", "peer", "reliable", "key", "state", "last_response", "_timers", "_interval")

    def __init__(
        self, request: Request, peer: object, reliable: bool, key: tuple[Hashable, ...], state: str
    ) -> None:
        self.request = request
        self.peer = peer
        self.reliable = reliable
        self.key = key
        self.state = state
        self.last_response: Response | None = None
        self._timers: dict[str, tuple[float, int]] = {}  # name -> (deadline, heap entry id)
        self._interval = 0.0  # current interval of Timer A, E or G

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"

    @property
    def pending_timers(self) -> dict[str, float]:
        """Timer name ("A", "B", ..., "Trying") -> deadline, for every timer that is running."""
        return {name: deadline for name, (deadline, _) in self._timers.items()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request.method} {self.state} key={self.key!r}>"


class ClientTransaction(_Transaction):
    """An INVITE (§17.1.1 and RFC 6026) or non-INVITE (§17.1.2) client transaction.

    States: "calling", "proceeding", "accepted", "completed", "terminated" for INVITE;
    "trying", "proceeding", "completed", "terminated" otherwise. ``peer`` is where the request
    goes. ``ack`` is the ACK the transaction built for a 3xx-6xx; ``cancel`` the client
    transaction of the CANCEL sent for it by ``TransactionLayer.cancel_request``.
    """

    __slots__ = ("ack", "cancel", "_cancel_pending")

    def __init__(
        self, request: Request, peer: object, reliable: bool, key: tuple[Hashable, ...], state: str
    ) -> None:
        super().__init__(request, peer, reliable, key, state)
        self.ack: Request | None = None
        self.cancel: ClientTransaction | None = None
        self._cancel_pending = False

    @property
    def cancel_pending(self) -> bool:
        """A CANCEL was asked for before any provisional response; it goes out with the first one."""
        return self._cancel_pending


class ServerTransaction(_Transaction):
    """An INVITE (§17.2.1 and RFC 6026) or non-INVITE (§17.2.2) server transaction.

    States: "proceeding", "accepted", "completed", "confirmed", "terminated" for INVITE;
    "trying", "proceeding", "completed", "terminated" otherwise. ``peer`` is where the request
    came from; responses are sent to it.
    """

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class Send:
    """Put ``message`` on the wire towards ``peer``."""

    message: Request | Response
    peer: object


@dataclass(frozen=True)
class RequestReceived:
    """A new request (not ACK, not CANCEL) for the TU, which answers through ``transaction``."""

    request: Request
    peer: object
    transaction: ServerTransaction


@dataclass(frozen=True)
class AckReceived:
    """An ACK for a 2xx: it matched no transaction, or matched one in the Accepted state (RFC 6026)."""

    request: Request
    peer: object


@dataclass(frozen=True)
class ResponseReceived:
    """A response for the TU: provisional, final, and (RFC 6026) 2xx retransmissions to INVITE."""

    response: Response
    transaction: ClientTransaction


@dataclass(frozen=True)
class CancelReceived:
    """A CANCEL matched ``transaction``, an INVITE server transaction still in Proceeding.

    The layer has already answered the CANCEL with 200; the TU should now send 487 to the INVITE
    (§9.2).
    """

    request: Request
    peer: object
    transaction: ServerTransaction


@dataclass(frozen=True)
class TransactionTimeout:
    """Timer B or F fired (the TU should act as on a 408, §8.1.3.1), or Timer H fired (no ACK)."""

    transaction: ClientTransaction | ServerTransaction


@dataclass(frozen=True)
class TransportError:
    """The caller reported that the transport failed for this transaction (§17.1.4, §17.2.4)."""

    transaction: ClientTransaction | ServerTransaction


@dataclass(frozen=True)
class TransactionTerminated:
    """The transaction ended and the layer forgot it."""

    transaction: ClientTransaction | ServerTransaction


@dataclass(frozen=True)
class StrayResponse:
    """A response that matched no client transaction; it was dropped (§17.1.3, §18.1.2)."""

    response: Response


Event = (
    Send
    | RequestReceived
    | AckReceived
    | ResponseReceived
    | CancelReceived
    | TransactionTimeout
    | TransportError
    | TransactionTerminated
    | StrayResponse
)


# ---------------------------------------------------------------------------------------------
# Requests the transaction layer builds itself


def _top_via_line(request: Request) -> str:
    values = request.headers.get_all("Via")
    if not values:
        raise ParseError("missing Via header")
    return values[0]


def _required(request: Request | Response, name: str) -> str:
    value = request.headers.get(name)
    if value is None:
        raise ParseError(f"missing {name} header")
    return value


def make_ack_for_non2xx(invite: Request, response: Response) -> Request:
    """The ACK for a 3xx-6xx response to ``invite`` (§17.1.1.3).

    Same Request-URI, Call-ID, From, CSeq number and (single) top Via as the INVITE; To from the
    response, so that it carries the tag; Route headers from the INVITE; method ACK.
    """
    headers = Headers()
    headers.add("Via", _top_via_line(invite))
    for line in invite.headers.lines("Route"):
        headers.add("Route", line)
    headers.add("Max-Forwards", "70")
    headers.add("From", _required(invite, "From"))
    headers.add("To", _required(response, "To"))
    headers.add("Call-ID", _required(invite, "Call-ID"))
    headers.add("CSeq", f"{invite.cseq.number} ACK")
    return Request("ACK", invite.uri, headers)


def make_cancel(invite: Request) -> Request:
    """The CANCEL for ``invite`` (§9.1).

    Same Request-URI, Call-ID, To, From, CSeq number and (single) top Via as the request
    cancelled; Route headers copied; method CANCEL.
    """
    headers = Headers()
    headers.add("Via", _top_via_line(invite))
    for line in invite.headers.lines("Route"):
        headers.add("Route", line)
    headers.add("Max-Forwards", "70")
    headers.add("From", _required(invite, "From"))
    headers.add("To", _required(invite, "To"))
    headers.add("Call-ID", _required(invite, "Call-ID"))
    headers.add("CSeq", f"{invite.cseq.number} CANCEL")
    return Request("CANCEL", invite.uri, headers)


# ---------------------------------------------------------------------------------------------
# Matching keys


def _client_key(branch: str, method: str) -> tuple[Hashable, ...]:
    # §17.1.3: the top Via's branch and the CSeq method identify the client transaction.
    # (The sent-by is ours and is not compared: SIP ALGs are known to rewrite it.)
    return ("client", branch, method)


def _via_identity(via: Via) -> tuple[Hashable, ...]:
    # received and rport are added on the way in (§18.2.1), so they are not part of the identity.
    params = tuple(sorted((k, v) for k, v in via.params.items() if k not in ("received", "rport")))
    return (via.protocol, via.transport, via.host, via.port, params)


def _is_rfc3261(via: Via) -> bool:
    branch = via.branch
    return branch is not None and branch.startswith(MAGIC_COOKIE)


def _server_key(request: Request, method: str, to_tag: str | None = None) -> tuple[Hashable, ...]:
    """The key of the server transaction ``request`` belongs to, with ``method`` as its method.

    §17.2.3: branch, sent-by and method when the branch has the magic cookie; otherwise the
    RFC 2543 fields: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via (and method).
    The method is always the last element.
    """
    via = request.top_via
    if _is_rfc3261(via):
        return ("3261", via.branch, via.sent_by, method)
    return (
        "2543",
        str(request.uri),
        to_tag,
        request.from_.tag,
        request.call_id,
        request.cseq.number,
        _via_identity(via),
        method,
    )


def _to_tag(message: Request | Response) -> str | None:
    try:
        return message.to.tag
    except ParseError:
        return None


# ---------------------------------------------------------------------------------------------
# The layer


_Entry = tuple[float, int, str, _Transaction]


class TransactionLayer:
    """Every client and server transaction of one SIP endpoint, and their timers."""

    def __init__(self, timers: Timers | None = None) -> None:
        self.timers = timers if timers is not None else Timers()
        self._clients: dict[tuple[Hashable, ...], ClientTransaction] = {}
        self._servers: dict[tuple[Hashable, ...], ServerTransaction] = {}
        self._heap: list[_Entry] = []
        self._ids = itertools.count()

    # -- inspection --------------------------------------------------------------------------

    @property
    def transactions(self) -> int:
        """How many transactions are alive (client and server)."""
        return len(self._clients) + len(self._servers)

    def next_deadline(self) -> float | None:
        """When the earliest running timer of any transaction fires, or None if none runs."""
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    # -- the TU's side -----------------------------------------------------------------------

    def send_request(
        self, request: Request, peer: object, *, reliable: bool, now: float
    ) -> tuple[ClientTransaction, list[Event]]:
        """Start a client transaction for ``request`` towards ``peer`` (§17.1).

        The request must carry its top Via with a branch starting with z9hG4bK (`new_branch`).
        ACK is not a transaction: use `send_ack` for the ACK to a 2xx.
        """
        if request.method == "ACK":
            raise TransactionError("ACK is not a transaction; use send_ack() for the ACK to a 2xx")
        via = request.top_via
        branch = via.branch
        if branch is None or not branch.startswith(MAGIC_COOKIE):
            raise TransactionError("the top Via needs a branch starting with z9hG4bK (new_branch())")
        if request.cseq.method != request.method:
            raise TransactionError("CSeq method does not match the request method")
        key = _client_key(branch, request.method)
        if key in self._clients:
            raise TransactionError(f"branch {branch} is already used by a {request.method} transaction")
        invite = request.method == "INVITE"
        txn = ClientTransaction(request, peer, reliable, key, CALLING if invite else TRYING)
        self._clients[key] = txn
        if not reliable:
            txn._interval = self.timers.t1
            self._set_timer(txn, "A" if invite else "E", now + txn._interval)
        self._set_timer(
            txn, "B" if invite else "F", now + (self.timers.timer_b if invite else self.timers.timer_f)
        )
        return txn, [Send(request, peer)]

    def send_ack(self, ack: Request, peer: object) -> list[Event]:
        """Send the ACK for a 2xx, which is not a transaction (§13.2.2.4, §17.1.1.3)."""
        if ack.method != "ACK":
            raise TransactionError("send_ack() sends ACK requests only")
        return [Send(ack, peer)]

    def send_response(self, transaction: ServerTransaction, response: Response, *, now: float) -> list[Event]:
        """Send ``response`` through ``transaction`` (§17.2.1, §17.2.2, RFC 6026 §7.1).

        A 2xx to INVITE moves the transaction to Accepted; the TU retransmits the 2xx itself by
        calling this again (in Accepted, or once the transaction has ended: then it is a plain
        `Send`). Anything else after a final response raises `TransactionError`.
        """
        if not 100 <= response.status <= 699:
            raise TransactionError(f"bad status code {response.status}")
        return self._respond(transaction, response, now)

    def cancel_request(
        self, transaction: ClientTransaction, *, now: float
    ) -> tuple[ClientTransaction | None, list[Event]]:
        """Cancel a pending INVITE (§9.1): build the CANCEL and start its client transaction.

        Before any provisional response the CANCEL must not be sent: it is remembered (see
        ``transaction.cancel_pending``) and goes out with the first provisional response, in the
        events of that ``receive`` call; ``transaction.cancel`` then holds its transaction. If a
        final response comes first, nothing is sent. Returns (None, []) when nothing was sent now,
        and the existing CANCEL transaction when one was already sent.
        """
        if not transaction.is_invite:
            raise TransactionError("only INVITE transactions can be cancelled")
        if transaction.cancel is not None:
            return transaction.cancel, []
        if transaction.state == PROCEEDING:
            events: list[Event] = []
            cancel = self._start_cancel(transaction, now, events)
            return cancel, events
        if transaction.state == CALLING:
            transaction._cancel_pending = True
        return None, []

    def transport_error(
        self, transaction: ClientTransaction | ServerTransaction, *, now: float
    ) -> list[Event]:
        """The caller could not send for ``transaction``: inform the TU and end it (§17.1.4, §17.2.4)."""
        if transaction.state == TERMINATED:
            return []
        events: list[Event] = [TransportError(transaction)]
        self._terminate(transaction, events)
        return events

    # -- the network's side ------------------------------------------------------------------

    def receive(
        self, message: Request | Response, peer: object, *, reliable: bool, now: float
    ) -> list[Event]:
        """A message from the network; ``peer`` is where it came from (§17.1.3, §17.2.3)."""
        if isinstance(message, Response):
            return self._receive_response(message, now)
        return self._receive_request(message, peer, reliable, now)

    def on_timer(self, now: float) -> list[Event]:
        """Fire every timer due at or before ``now``, earliest first."""
        events: list[Event] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if not self._live(entry):
                continue
            _, _, name, txn = entry
            del txn._timers[name]
            if isinstance(txn, ClientTransaction):
                self._fire_client(txn, name, now, events)
            else:
                assert isinstance(txn, ServerTransaction)
                self._fire_server(txn, name, now, events)
        return events

    # -- timers ------------------------------------------------------------------------------

    def _set_timer(self, txn: _Transaction, name: str, deadline: float) -> None:
        entry_id = next(self._ids)
        txn._timers[name] = (deadline, entry_id)
        heapq.heappush(self._heap, (deadline, entry_id, name, txn))

    @staticmethod
    def _cancel_timers(txn: _Transaction, *names: str) -> None:
        for name in names:
            txn._timers.pop(name, None)

    @staticmethod
    def _live(entry: _Entry) -> bool:
        deadline, entry_id, name, txn = entry
        return txn._timers.get(name) == (deadline, entry_id)

    def _wait_or_end(
        self, txn: _Transaction, name: str, duration: float, now: float, events: list[Event]
    ) -> None:
        """Start a timer whose expiry ends the transaction; a zero duration ends it now."""
        if duration <= 0:
            self._terminate(txn, events)
        else:
            self._set_timer(txn, name, now + duration)

    def _terminate(self, txn: _Transaction, events: list[Event]) -> None:
        txn.state = TERMINATED
        txn._timers.clear()
        if isinstance(txn, ClientTransaction):
            txn._cancel_pending = False
            if self._clients.get(txn.key) is txn:
                del self._clients[txn.key]
        elif isinstance(txn, ServerTransaction) and self._servers.get(txn.key) is txn:
            del self._servers[txn.key]
        assert isinstance(txn, ClientTransaction | ServerTransaction)
        events.append(TransactionTerminated(txn))

    def _fire_client(self, txn: ClientTransaction, name: str, now: float, events: list[Event]) -> None:
        timers = self.timers
        if name == "A" and txn.state == CALLING:
            # §17.1.1.2: retransmit, and double the interval (no T2 cap for INVITE).
            events.append(Send(txn.request, txn.peer))
            txn._interval *= 2
            self._set_timer(txn, "A", now + txn._interval)
        elif name == "E" and txn.state in (TRYING, PROCEEDING):
            # §17.1.2.2: doubling up to T2 while Trying; T2 once Proceeding.
            events.append(Send(txn.request, txn.peer))
            txn._interval = min(2 * txn._interval, timers.t2) if txn.state == TRYING else timers.t2
            self._set_timer(txn, "E", now + txn._interval)
        elif (name == "B" and txn.state == CALLING) or (name == "F" and txn.state in (TRYING, PROCEEDING)):
            events.append(TransactionTimeout(txn))
            self._terminate(txn, events)
        elif name in ("D", "K", "M"):
            self._terminate(txn, events)

    def _fire_server(self, txn: ServerTransaction, name: str, now: float, events: list[Event]) -> None:
        if name == _TRYING_TIMER and txn.state == PROCEEDING and txn.last_response is None:
            trying = make_response(txn.request, 100)
            txn.last_response = trying
            events.append(Send(trying, txn.peer))
        elif name == "G" and txn.state == COMPLETED and txn.last_response is not None:
            # §17.2.1: retransmit the final response, doubling up to T2.
            events.append(Send(txn.last_response, txn.peer))
            txn._interval = min(2 * txn._interval, self.timers.t2)
            self._set_timer(txn, "G", now + txn._interval)
        elif name == "H" and txn.state == COMPLETED:
            events.append(TransactionTimeout(txn))
            self._terminate(txn, events)
        elif name in ("I", "J", "L"):
            self._terminate(txn, events)

    # -- client transactions -----------------------------------------------------------------

    def _receive_response(self, response: Response, now: float) -> list[Event]:
        try:
            branch = response.top_via.branch
            method = response.cseq.method
        except ParseError:
            return [StrayResponse(response)]
        txn = self._clients.get(_client_key(branch, method)) if branch else None
        if txn is None:
            return [StrayResponse(response)]
        events: list[Event] = []
        if txn.is_invite:
            self._invite_client_response(txn, response, now, events)
        else:
            self._non_invite_client_response(txn, response, now, events)
        return events

    def _invite_client_response(
        self, txn: ClientTransaction, response: Response, now: float, events: list[Event]
    ) -> None:
        status = response.status
        if txn.state in (CALLING, PROCEEDING):
            self._cancel_timers(txn, "A", "B")
            txn.last_response = response
            if status < 200:
                txn.state = PROCEEDING
                events.append(ResponseReceived(response, txn))
                if txn._cancel_pending:
                    self._start_cancel(txn, now, events)
            elif status < 300:
                # RFC 6026 §7.2: Accepted, so that 2xx retransmissions still reach the TU.
                txn.state = ACCEPTED
                txn._cancel_pending = False
                events.append(ResponseReceived(response, txn))
                self._set_timer(txn, "M", now + self.timers.timer_m)
            else:
                # §17.1.1.2: ACK the 3xx-6xx, pass it up, and wait Timer D for retransmissions.
                txn.state = COMPLETED
                txn._cancel_pending = False
                txn.ack = make_ack_for_non2xx(txn.request, response)
                events.append(Send(txn.ack, txn.peer))
                events.append(ResponseReceived(response, txn))
                self._wait_or_end(txn, "D", self.timers.timer_d(txn.reliable), now, events)
        elif txn.state == ACCEPTED:
            if 200 <= status < 300:
                events.append(ResponseReceived(response, txn))
        elif txn.state == COMPLETED and status >= 300 and txn.ack is not None:
            events.append(Send(txn.ack, txn.peer))

    def _non_invite_client_response(
        self, txn: ClientTransaction, response: Response, now: float, events: list[Event]
    ) -> None:
        if txn.state not in (TRYING, PROCEEDING):
            return  # Completed: retransmissions of the final response are absorbed.
        txn.last_response = response
        events.append(ResponseReceived(response, txn))
        if response.status < 200:
            txn.state = PROCEEDING  # Timer E keeps running; it is reset to T2 when it fires.
        else:
            txn.state = COMPLETED
            self._cancel_timers(txn, "E", "F")
            self._wait_or_end(txn, "K", self.timers.timer_k(txn.reliable), now, events)

    def _start_cancel(self, invite: ClientTransaction, now: float, events: list[Event]) -> ClientTransaction:
        invite._cancel_pending = False
        cancel, sent = self.send_request(
            make_cancel(invite.request), invite.peer, reliable=invite.reliable, now=now
        )
        invite.cancel = cancel
        events.extend(sent)
        return cancel

    # -- server transactions -----------------------------------------------------------------

    def _receive_request(self, request: Request, peer: object, reliable: bool, now: float) -> list[Event]:
        method = request.method
        if method == "ACK":
            return self._receive_ack(request, peer, now)
        key = _server_key(request, method, _to_tag(request))
        txn = self._servers.get(key)
        if txn is not None:
            return self._retransmitted_request(txn)
        if method == "CANCEL":
            return self._receive_cancel(request, peer, reliable, key, now)
        invite = method == "INVITE"
        txn = ServerTransaction(request, peer, reliable, key, PROCEEDING if invite else TRYING)
        self._servers[key] = txn
        if invite:
            self._set_timer(txn, _TRYING_TIMER, now + self.timers.trying)
        return [RequestReceived(request, peer, txn)]

    def _match_ack(self, ack: Request) -> ServerTransaction | None:
        """The INVITE server transaction an ACK belongs to (§17.2.3), if any."""
        ack_tag = _to_tag(ack)
        if _is_rfc3261(ack.top_via):
            return self._servers.get(_server_key(ack, "INVITE"))
        # RFC 2543: the INVITE's fields, and the To tag of the response the transaction sent.
        # The INVITE had no To tag (initial) or the same tag as the response (re-INVITE).
        for invite_tag in (None, ack_tag):
            txn = self._servers.get(_server_key(ack, "INVITE", invite_tag))
            if txn is not None and txn.last_response is not None and _to_tag(txn.last_response) == ack_tag:
                return txn
        return None

    def _receive_ack(self, ack: Request, peer: object, now: float) -> list[Event]:
        txn = self._match_ack(ack)
        if txn is None:
            return [AckReceived(ack, peer)]  # the ACK for a 2xx: the dialog layer's business
        events: list[Event] = []
        if txn.state == COMPLETED:
            # §17.2.1: stop retransmitting, absorb further ACKs for Timer I.
            txn.state = CONFIRMED
            self._cancel_timers(txn, "G", "H")
            self._wait_or_end(txn, "I", self.timers.timer_i(txn.reliable), now, events)
        elif txn.state == ACCEPTED:
            events.append(AckReceived(ack, peer))  # RFC 6026 §7.1
        return events  # Proceeding and Confirmed: absorbed

    def _retransmitted_request(self, txn: ServerTransaction) -> list[Event]:
        """§17.2.1, §17.2.2: a retransmission gets the last response again, never the TU."""
        response = txn.last_response
        if response is None:
            return []
        if txn.is_invite:
            # RFC 6026 §7.1: in Accepted the TU retransmits the 2xx, the INVITE is absorbed.
            resend = (txn.state == PROCEEDING and response.status < 200) or txn.state == COMPLETED
        else:
            resend = txn.state in (PROCEEDING, COMPLETED)
        return [Send(response, txn.peer)] if resend else []

    def _receive_cancel(
        self, cancel: Request, peer: object, reliable: bool, key: tuple[Hashable, ...], now: float
    ) -> list[Event]:
        """§9.2: answer a new CANCEL itself; tell the TU when it hits an INVITE in Proceeding."""
        txn = ServerTransaction(cancel, peer, reliable, key, TRYING)
        self._servers[key] = txn
        target = self._match_cancel_target(key)
        if target is None:
            return self._respond(txn, make_response(cancel, 481, to_tag=_new_tag()), now)
        target_tag = _to_tag(target.last_response) if target.last_response is not None else None
        events = self._respond(txn, make_response(cancel, 200, to_tag=target_tag or _new_tag()), now)
        if target.is_invite and target.state == PROCEEDING:
            events.insert(1, CancelReceived(cancel, peer, target))
        return events

    def _match_cancel_target(self, cancel_key: tuple[Hashable, ...]) -> ServerTransaction | None:
        # The CANCEL's key with another method: INVITE first, then any other method.
        base = cancel_key[:-1]
        txn = self._servers.get((*base, "INVITE"))
        if txn is not None:
            return txn
        for key, candidate in self._servers.items():
            if key[:-1] == base and key[-1] != "CANCEL":
                return candidate
        return None

    def _respond(self, txn: ServerTransaction, response: Response, now: float) -> list[Event]:
        events: list[Event] = []
        status = response.status
        if txn.is_invite:
            if txn.state == PROCEEDING:
                self._cancel_timers(txn, _TRYING_TIMER)
                txn.last_response = response
                events.append(Send(response, txn.peer))
                if 200 <= status < 300:
                    # RFC 6026 §7.1: Accepted; the TU retransmits the 2xx, Timer L bounds the wait.
                    txn.state = ACCEPTED
                    self._set_timer(txn, "L", now + self.timers.timer_l)
                elif status >= 300:
                    txn.state = COMPLETED
                    if not txn.reliable:
                        txn._interval = self.timers.t1
                        self._set_timer(txn, "G", now + txn._interval)
                    self._set_timer(txn, "H", now + self.timers.timer_h)
                return events
            if 200 <= status < 300 and txn.state in (ACCEPTED, TERMINATED):
                if txn.state == ACCEPTED:
                    txn.last_response = response
                return [Send(response, txn.peer)]  # the TU's own 2xx retransmission
        elif txn.state in (TRYING, PROCEEDING):
            txn.last_response = response
            events.append(Send(response, txn.peer))
            if status < 200:
                txn.state = PROCEEDING
            else:
                txn.state = COMPLETED
                self._wait_or_end(txn, "J", self.timers.timer_j(txn.reliable), now, events)
            return events
        raise TransactionError(f"cannot send {status} in state {txn.state} of {txn!r}")
