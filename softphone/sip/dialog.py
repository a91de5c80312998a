"""Dialog state (RFC 3261 §12): identity, route set, remote target and CSeq spaces.

Sans-IO like the transaction layer: a `Dialog` builds requests and checks incoming ones, it
sends nothing. Which dialog a message belongs to is found with `dialog_id_of_request` (on the
UAS side of a request) and `dialog_id_of_response` (on the UAC side), which give the same tuple
as `Dialog.id`.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field

from .address import Address, parse_address
from .errors import ParseError
from .headers import Headers, Via
from .message import Request, Response
from .uri import SipUri, Uri

EARLY = "early"
CONFIRMED = "confirmed"
TERMINATED = "terminated"

# Requests whose Contact replaces the remote target: RFC 3261 §12.2, RFC 3311 (UPDATE),
# RFC 6665 §4.1.2.1 and §4.1.3 (SUBSCRIBE, NOTIFY).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})

# Header fields the dialog writes itself; a caller may not pass them to create_request().
_DIALOG_HEADERS = frozenset({"from", "to", "call-id", "cseq", "route"})


def new_tag() -> str:
    """A From/To tag with 64 random bits (§19.3 asks for at least 32)."""
    return secrets.token_hex(8)


def dialog_id_of_request(request: Request) -> tuple[str, str, str]:
    """The dialog ID a request belongs to, seen from the UAS: (Call-ID, To tag, From tag) (§12.1.1).

    A missing tag (RFC 2543 peers) is the empty string.
    """
    return (request.call_id, request.to.tag or "", request.from_.tag or "")


def dialog_id_of_response(response: Response) -> tuple[str, str, str]:
    """The dialog ID a response belongs to, seen from the UAC: (Call-ID, From tag, To tag) (§12.1.2)."""
    return (response.call_id, response.from_.tag or "", response.to.tag or "")


def _without_tag(address: Address) -> Address:
    return dataclasses.replace(address, params={k: v for k, v in address.params.items() if k != "tag"})


def _record_route(message: Request | Response) -> list[Address]:
    return [parse_address(value) for value in message.headers.get_all("Record-Route")]


def _contact_uri(message: Request | Response) -> SipUri | None:
    contacts = message.contacts
    return contacts[0].sip_uri if contacts else None


def _request_uri(uri: Uri) -> Uri:
    """``uri`` without what a Request-URI may not hold: the method parameter and headers (§19.1.1)."""
    if isinstance(uri, SipUri) and ("method" in uri.params or uri.headers):
        return dataclasses.replace(uri.without_params("method"), headers={})
    return uri


def _secure(request: Request, secure: bool | None) -> bool:
    if secure is not None:
        return secure
    return isinstance(request.uri, SipUri) and request.uri.secure


@dataclass
class Dialog:
    """One dialog, from the point of view of this endpoint (§12).

    ``local_uri`` and ``remote_uri`` are the From/To addresses without their tags. A
    ``remote_tag`` of "" means the peer sent no tag (RFC 2543). A ``local_cseq`` of 0 means no
    request has been sent in the dialog yet (the UAS side, §12.1.1); ``remote_cseq`` is None
    until a request has been received (the UAC side, §12.1.2).
    """

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: Address
    remote_uri: Address
    remote_target: SipUri
    route_set: list[Address] = field(default_factory=list)
    local_cseq: int = 0
    remote_cseq: int | None = None
    secure: bool = False
    state: str = CONFIRMED

    @property
    def id(self) -> tuple[str, str, str]:
        """(Call-ID, local tag, remote tag) (§12)."""
        return (self.call_id, self.local_tag, self.remote_tag)

    # -- creation ----------------------------------------------------------------------------

    @classmethod
    def from_uac(cls, request: Request, response: Response, *, secure: bool | None = None) -> Dialog:
        """The dialog a 1xx (with a To tag) or 2xx to ``request`` creates at the UAC (§12.1.2).

        The route set is the response's Record-Route in reverse order; the remote target is the
        response's Contact. ``secure`` defaults to whether the Request-URI is a SIPS URI; pass
        False when the request did not go over TLS.
        """
        if not 101 <= response.status <= 299:
            raise ValueError(f"a {response.status} response does not create a dialog")
        local_tag = request.from_.tag
        if not local_tag:
            raise ParseError("the request has no From tag")
        target = _contact_uri(response)
        if target is None:
            raise ParseError("the response has no Contact to use as the remote target")
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=response.to.tag or "",
            local_uri=_without_tag(request.from_),
            remote_uri=_without_tag(request.to),
            remote_target=target,
            route_set=list(reversed(_record_route(response))),
            local_cseq=request.cseq.number,
            remote_cseq=None,
            secure=_secure(request, secure),
            state=EARLY if response.status < 200 else CONFIRMED,
        )

    @classmethod
    def from_uas(cls, request: Request, response: Response, *, secure: bool | None = None) -> Dialog:
        """The dialog the UAS creates when it sends ``response`` (1xx or 2xx, with a To tag) (§12.1.1).

        The route set is the request's Record-Route in order; the remote target the request's
        Contact; the local tag the response's To tag. An RFC 2543 request has no Contact (RFC 4475
        §3.4.1 asks us to accept it): its From URI is where RFC 2543 sent later requests, and stands in.
        """
        if not 101 <= response.status <= 299:
            raise ValueError(f"a {response.status} response does not create a dialog")
        local_tag = response.to.tag
        if not local_tag:
            raise ValueError("the response needs a To tag to create a dialog")
        target = _contact_uri(request)
        if target is None:
            sender = request.from_.uri
            if not isinstance(sender, SipUri):
                raise ParseError("the request has no Contact, and its From is no SIP URI to use instead")
            target = sender
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=request.from_.tag or "",
            local_uri=_without_tag(request.to),
            remote_uri=_without_tag(request.from_),
            remote_target=target,
            route_set=_record_route(request),
            local_cseq=0,
            remote_cseq=request.cseq.number,
            secure=_secure(request, secure),
            state=EARLY if response.status < 200 else CONFIRMED,
        )

    # -- requests we send --------------------------------------------------------------------

    def create_request(
        self,
        method: str,
        *,
        headers: Headers | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        via: Via | None = None,
    ) -> Request:
        """A new request within the dialog, with the next local CSeq number (§12.2.1.1).

        The Request-URI and Route headers follow the route set: with a loose router first (lr),
        the remote target is the Request-URI and the route set the Route headers; with a strict
        router first, its URI is the Request-URI and the remote target is appended as the last
        Route. The caller adds the Via (or passes ``via``) and, for target refresh requests, the
        Contact. ACK and CANCEL reuse the INVITE's CSeq number: use `create_ack`, and
        ``TransactionLayer.cancel_request`` for CANCEL.
        """
        if method == "ACK":
            raise ValueError("use create_ack() for the ACK to a 2xx: it reuses the INVITE's CSeq")
        if method == "CANCEL":
            raise ValueError("CANCEL is built from the INVITE by TransactionLayer.cancel_request()")
        if self.state == TERMINATED:
            raise ValueError("the dialog is terminated")
        self.local_cseq += 1
        return self._request(method, self.local_cseq, headers, body, content_type, via)

    def create_ack(
        self,
        cseq: int,
        *,
        headers: Headers | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        via: Via | None = None,
    ) -> Request:
        """The ACK for a 2xx to the INVITE whose CSeq number was ``cseq`` (§13.2.2.4).

        Built like any request in the dialog, but with the INVITE's CSeq number and method ACK;
        the local CSeq does not change. The ACK needs a Via with a new branch.
        """
        return self._request("ACK", cseq, headers, body, content_type, via)

    def _request(
        self,
        method: str,
        cseq: int,
        headers: Headers | None,
        body: bytes,
        content_type: str | None,
        via: Via | None,
    ) -> Request:
        uri, routes = self._uri_and_routes()
        out = Headers()
        if via is not None:
            out.add("Via", str(via))
        for route in routes:
            out.add("Route", str(route))
        out.add("Max-Forwards", "70")
        out.add("From", str(self.local_uri.with_params(tag=self.local_tag)))
        remote = self.remote_uri.with_params(tag=self.remote_tag) if self.remote_tag else self.remote_uri
        out.add("To", str(remote))
        out.add("Call-ID", self.call_id)
        out.add("CSeq", f"{cseq} {method}")
        for name, value in headers or ():
            lowered = name.lower()
            if lowered in _DIALOG_HEADERS:
                raise ValueError(f"the dialog sets {name} itself")
            if lowered in ("max-forwards", "content-type"):
                out.set(name, value)
            else:
                out.add(name, value)
        if content_type is not None:
            out.set("Content-Type", content_type)
        return Request(method, uri, out, body)

    def _uri_and_routes(self) -> tuple[Uri, list[Address]]:
        if not self.route_set:
            return _request_uri(self.remote_target), []
        first = self.route_set[0]
        if isinstance(first.uri, SipUri) and "lr" in first.uri.params:
            return _request_uri(self.remote_target), list(self.route_set)
        # A strict router (RFC 2543): it expects to find itself in the Request-URI.
        return _request_uri(first.uri), [*self.route_set[1:], Address(uri=self.remote_target)]

    # -- messages we receive -----------------------------------------------------------------

    def receive_request(self, request: Request) -> int | None:
        """Check a request received within the dialog (§12.2.2).

        Returns None when it is acceptable, else the status to reject it with: 500 for a CSeq
        lower than the last one (out of order), 481 when the dialog is terminated. Updates the
        remote CSeq, and the remote target from the Contact of a target refresh request. ACK and
        CANCEL carry the INVITE's CSeq number and are never rejected.
        """
        method = request.method
        if method in ("ACK", "CANCEL"):
            return None
        if dialog_id_of_request(request) != self.id:
            raise ValueError("the request does not belong to this dialog")
        if self.state == TERMINATED:
            return 481
        number = request.cseq.number
        if self.remote_cseq is not None and number < self.remote_cseq:
            return 500
        self.remote_cseq = number
        if method in TARGET_REFRESH_METHODS:
            target = _contact_uri(request)
            if target is not None:
                self.remote_target = target
        return None

    def update_from_response(self, response: Response) -> None:
        """Update the dialog from a response to a request it sent (§12.1.2, §12.2.1.2, §13.2.2.4).

        In the early state, a 2xx to the INVITE confirms the dialog and recomputes the route set
        from its Record-Route; a 3xx-6xx terminates it; 1xx and 2xx update the remote target. In
        the confirmed state, a 2xx to a target refresh request replaces the remote target with
        its Contact. A 481 or 408 to any request terminates the dialog.
        """
        if dialog_id_of_response(response) != self.id:
            raise ValueError("the response does not belong to this dialog")
        status = response.status
        method = response.cseq.method
        if status in (408, 481):
            self.state = TERMINATED
            return
        if self.state == EARLY and method == "INVITE":
            if status >= 300:
                self.state = TERMINATED
                return
            if status >= 200:
                self.state = CONFIRMED
                self.route_set = list(reversed(_record_route(response)))
            target = _contact_uri(response)
            if target is not None:
                self.remote_target = target
            return
        if 200 <= status < 300 and method in TARGET_REFRESH_METHODS:
            target = _contact_uri(response)
            if target is not None:
                self.remote_target = target

    def confirm(self) -> None:
        """The UAS sent a 2xx for the request that created the early dialog (§12.1.1)."""
        if self.state == EARLY:
            self.state = CONFIRMED

    def terminate(self) -> None:
        """End the dialog (BYE sent or received, §15)."""
        self.state = TERMINATED
