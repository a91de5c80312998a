"""One call: INVITE sessions from either side (RFC 3261 §13-15), hold (RFC 3264 §8.4), DTMF."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..sip.address import Address, parse_address, parse_address_list
from ..sip.auth import DigestClient
from ..sip.dialog import Dialog, new_tag
from ..sip.errors import ParseError
from ..sip.headers import Headers
from ..sip.message import Request, Response, make_response
from ..sip.uri import SipUri
from ..transport.base import Destination, TransportError
from ..transport.resolver import ResolutionError, SipResolver
from .account import AccountConfig
from .events import EngineEvent, EventSink
from .routing import next_hop, resolve_uri, websocket_destinations
from .stack import IncomingRequest, SipStack

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, REFER, UPDATE"
SUPPORTED = "replaces"


class MediaNegotiationError(Exception):
    """The offer or answer cannot be used: 488 with a Warning (RFC 3261 §21.4.26)."""

    def __init__(self, warning: str, status: int = 488) -> None:
        super().__init__(warning)
        self.warning = warning
        self.status = status


class CallMedia(Protocol):
    """What a call needs from its media (softphone.media.session implements it)."""

    remote_held: bool
    on_dtmf: Callable[[str], None] | None
    on_timeout: Callable[[], None] | None

    async def open(
        self, local_host: str, *, offer: bytes | None = None, auto_profile: str | None = None
    ) -> None: ...
    async def fallback_to_classic(self) -> bool: ...
    def offer(self) -> bytes: ...
    def answer(self, offer: bytes) -> bytes: ...
    def accept(self, answer: bytes) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def set_hold(self, on: bool) -> None: ...
    def audio(self) -> tuple[Any, Any]: ...
    def set_audio(self, source: Any, sink: Any, *, close_old: bool = False) -> None: ...
    def send_dtmf(self, digits: str) -> bool: ...
    def info(self) -> dict[str, Any]: ...
    def stats(self) -> dict[str, Any]: ...


@dataclass
class CallHooks:
    """What a call needs from the engine."""

    stack: SipStack
    resolver: SipResolver
    emit: EventSink
    on_dialog: Callable[[Call], None]
    on_end: Callable[[Call], None]
    # places a new call for a transfer: (target, account, extra headers) -> Call
    place_call: Callable[[SipUri, AccountConfig | None, Headers], Awaitable[Call]] | None = None
    # the address the account's registrar sees us at, behind a NAT (RFC 3581): (account, transport) ->
    # (host, port) or None.  Our Contact in INVITEs and 200s uses it, so that in-dialog requests from
    # the far side reach us even through a proxy that does no NAT fixing of its own.
    public_address: Callable[[AccountConfig | None, str], tuple[str, int] | None] | None = None


@dataclass
class Call:
    """A call, incoming or outgoing; state changes go out as engine events."""

    hooks: CallHooks
    media: CallMedia
    direction: str  # "outgoing" | "incoming"
    remote: Address
    account: AccountConfig | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    state: str = "new"
    dialog: Dialog | None = None
    end_reason: str | None = None
    end_status: int | None = None
    recording: str | None = None  # the recording of this call (its last one), a WAV file
    answered_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)
    local_hold: bool = False
    # outgoing
    _invite: Request | None = None
    _cancelled: bool = False
    _dest: Destination | None = None
    # incoming
    _server_invite: IncomingRequest | None = None
    _to_tag: str = field(default_factory=new_tag)
    _ok: Response | None = None
    _answer_sdp: bytes = b""
    _acked: asyncio.Event = field(default_factory=asyncio.Event)
    _answer_in_ack: bool = False  # our offer went in a 2xx: the answer comes in the ACK
    _reinvite_pending: bool = False
    _answering_reinvite: bool = False  # gathering ICE candidates for the answer to the peer's restart
    _moved_contact: SipUri | None = None  # our Contact since the local address changed
    _moving: bool = False  # a move to a new local address is under way (its re-INVITE covers a lost flow)
    _ended: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    extra_headers: Headers = field(default_factory=Headers)
    _ready: asyncio.Event = field(
        default_factory=asyncio.Event
    )  # incoming: our answer SDP is ready  # Replaces, Referred-By ... on our INVITE

    def __post_init__(self) -> None:
        self.media.on_dtmf = lambda digit: self._emit("dtmf", digit=digit, via="rtp")
        if hasattr(self.media, "on_levels"):  # optional: media that measures its audio levels
            setattr(self.media, "on_levels", self._levels)  # noqa: B010 - not in the CallMedia protocol

    # -- audio controls (optional in CallMedia: media without them ignores the call) --
    def _levels(self, mic: Any, speaker: Any) -> None:
        self._emit("levels", mic=mic.to_dict(), speaker=speaker.to_dict())

    def set_volume(self, volume: float) -> bool:
        """Speaker volume of this call (linear factor, 1.0 = as received)."""
        setter = getattr(self.media, "set_volume", None)
        if setter is None:
            return False
        setter(volume)
        return True

    def set_gain(self, gain: float) -> bool:
        """Microphone gain of this call (linear factor, 1.0 = as captured)."""
        setter = getattr(self.media, "set_gain", None)
        if setter is None:
            return False
        setter(gain)
        return True

    def start_recording(self, path: str) -> str | None:
        """Record both sides of the call to a WAV file at ``path``; the path, or None where the media cannot
        record. Raises OSError when the file cannot be made. Emits ``recording`` (on, path)."""
        start = getattr(self.media, "start_recording", None)
        if start is None or self.ended:
            return None
        path = str(start(path))
        self.recording = path
        self._emit("recording", on=True, path=path)
        return path

    def stop_recording(self) -> str | None:
        """End the recording; its path (the file is complete), or None when none ran."""
        stop = getattr(self.media, "stop_recording", None)
        done = stop() if stop is not None else None
        if done is None:
            return None
        self._emit("recording", on=False, path=str(done))
        return str(done)

    def play_tone(self, tone: Any) -> bool:
        """A local tone on this call's speaker (an AudioSource), or None to stop it."""
        player = getattr(self.media, "play_tone", None)
        return bool(player(tone)) if player is not None else False

    # -- events --
    def _emit(self, name: str, **fields: Any) -> None:
        account = self.account.id if self.account else None
        self.hooks.emit(EngineEvent(name, account, {"call": self.id, **fields}))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    async def wait_ended(self) -> None:
        await self._ended.wait()

    @property
    def duration(self) -> float:
        return 0.0 if self.answered_at is None else time.monotonic() - self.answered_at

    # -- outgoing --
    async def dial(self, target: SipUri) -> None:
        stack = self.hooks.stack
        self.state = "calling"
        try:
            proxy = self.account.proxy_uri if self.account else None
            transport = self.account.transport if self.account else (target.transport or "udp")
            if self.account is not None and self.account.websocket_url is not None:
                self._dest = (await websocket_destinations(self.hooks.resolver, self.account))[0]
            else:
                self._dest = await resolve_uri(self.hooks.resolver, next_hop([], target, proxy), transport)
            host, _ = await stack.transport.local_address(self._dest)
            # what a media profile of "auto" means: browsers' WebRTC media for WebSocket accounts
            await self.media.open(host, auto_profile=_auto_profile(self._dest.transport))
            offer = self.media.offer()
        except (ResolutionError, TransportError, OSError) as exc:
            await self._end(f"cannot reach {target}: {exc}", 503)
            return
        request = await self._build_invite(target, offer)
        digest = DigestClient(self.account.username, self.account.password or "") if self.account else None
        self._emit("calling", to=str(target))
        fell_back = False
        redirects = 0
        for _ in range(4 + MAX_REDIRECTS):
            self._invite = request
            response = await stack.request(
                request, self._dest, on_provisional=self._on_provisional, prepared=True
            )
            if response.status in (401, 407) and digest is not None and not self._cancelled:
                name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
                if digest.on_challenge(response.status, response.headers.lines(name)):
                    request = await self._build_invite(
                        target, offer, cseq=request.cseq.number + 1, request=request
                    )
                    for header, value in digest.authorization_headers("INVITE", str(request.uri)):
                        request.headers.add(header, value)
                    continue
            moved = _redirect_target(response) if 300 <= response.status < 400 else None
            if moved is not None and redirects < MAX_REDIRECTS and not self._cancelled:
                # RFC 3261 §8.1.3.4: the callee's phone forwards the call; follow it (same Call-ID and tags)
                redirects += 1
                self._emit("redirected", to=str(moved), status=response.status)
                try:
                    if self.account is None or self.account.proxy_uri is None:
                        next_ = next_hop([], moved, None)
                        self._dest = await resolve_uri(self.hooks.resolver, next_, moved.transport or "udp")
                except (ResolutionError, TransportError, OSError) as exc:
                    await self._end(f"cannot reach {moved}: {exc}", 503)
                    return
                target = moved
                request = await self._build_invite(
                    target, offer, cseq=request.cseq.number + 1, request=request
                )
                if digest is not None:
                    for header, value in digest.authorization_headers("INVITE", str(request.uri)):
                        request.headers.add(header, value)
                continue
            if response.status in (415, 488, 606) and not fell_back and not self._cancelled:
                # A peer without DTLS-SRTP refuses a WebRTC offer: once, offer classic RTP instead.
                fell_back = True
                if await self.media.fallback_to_classic():
                    offer = self.media.offer()
                    request = await self._build_invite(
                        target, offer, cseq=request.cseq.number + 1, request=request
                    )
                    if digest is not None:  # the credentials the proxy took for the first one
                        for header, value in digest.authorization_headers("INVITE", str(request.uri)):
                            request.headers.add(header, value)
                    continue
            break
        if 200 <= response.status < 300:
            await self._on_answered(request, response)
        elif self._cancelled:
            await self._end("cancelled", response.status)
        else:
            await self._end(f"{response.status} {response.reason}".strip(), response.status)

    async def _build_invite(
        self, target: SipUri, offer: bytes, *, cseq: int = 1, request: Request | None = None
    ) -> Request:
        assert self._dest is not None
        stack = self.hooks.stack
        host, port = await stack.transport.sent_by(self._dest)
        public = self._public_address(self._dest.transport)
        contact_host, contact_port = public if public is not None else (host, port)
        headers = Headers()
        if request is not None:
            for name in ("From", "To", "Call-ID"):
                headers.add(name, request.headers.get(name) or "")
        else:
            me = self.account.uri if self.account else SipUri(host=host, user="softphone")
            display = self.account.display_name if self.account else None
            headers.add("From", f"{Address(me, display)};tag={new_tag()}")
            headers.add("To", str(Address(target)))
            headers.add("Call-ID", f"{secrets.token_hex(12)}@softphone")
        if self.account and self.account.proxy_uri is not None:
            headers.add("Route", f"<{self.account.proxy_uri.with_params(lr=None)}>")
        headers.add("CSeq", f"{cseq} INVITE")
        headers.add("Contact", f"<{self._contact(contact_host, contact_port)}>")
        headers.add("Allow", ALLOW)
        headers.add("Supported", SUPPORTED)
        headers.add("Content-Type", "application/sdp")
        for name, value in self.extra_headers:
            headers.add(name, value)
        invite = Request("INVITE", target, headers, offer)
        await stack.prepare(invite, self._dest)
        return invite

    def _public_address(self, transport: str) -> tuple[str, int] | None:
        hook = self.hooks.public_address
        return hook(self.account, transport) if hook is not None else None

    def _contact(self, host: str, port: int | None) -> SipUri:
        user = self.account.uri.user if self.account else "softphone"
        params: dict[str, str | None] = {}
        if self._dest is not None and self._dest.transport != "udp":
            params["transport"] = self._dest.transport
        return SipUri(host=host, port=port, user=user, params=params)

    def _on_provisional(self, response: Response) -> None:
        if response.status == 100:
            return
        if self._cancelled and self._invite is not None:
            self.hooks.stack.cancel(self._invite)
        if response.body and response.content_type == "application/sdp" and self.state != "early":
            try:
                self.media.accept(response.body)
            except MediaNegotiationError as exc:
                log.info("unusable early media answer: %s", exc)
            else:
                self.state = "early"
                self._spawn(self.media.start())
                self._emit("early_media", status=response.status)
                return
        if self.state == "calling":
            self.state = "ringing"
            self._emit("ringing", status=response.status)

    async def _on_answered(self, invite: Request, response: Response) -> None:
        try:
            self.dialog = Dialog.from_uac(invite, response)
        except Exception as exc:  # no Contact, bad tags: cannot run a dialog
            log.warning("cannot create dialog: %s", exc)
            await self._end("bad answer from peer", 502)
            return
        self.hooks.on_dialog(self)
        await self._send_ack()
        if self._cancelled:
            # The 2xx crossed our CANCEL (RFC 3261 §9.1): ACK it, then end the call with BYE (§15).
            await self._end("cancelled", response.status, send_bye=True)
            return
        try:
            self.media.accept(response.body)
        except MediaNegotiationError as exc:
            await self._end(f"unusable answer: {exc.warning}", 488, send_bye=True)
            return
        self._connected()
        await self.media.start()

    async def _send_ack(self) -> None:
        assert self.dialog is not None and self._invite is not None
        ack = self.dialog.create_ack(self._invite.cseq.number)
        await self.hooks.stack.send_ack(ack, await self._dialog_dest())

    def on_late_2xx(self, response: Response) -> None:
        """A retransmitted 2xx: our ACK got lost (RFC 3261 §13.2.2.4)."""
        if self.dialog is not None and response.cseq.method == "INVITE":
            self._spawn(self._send_ack())

    async def _dialog_dest(self) -> Destination:
        assert self.dialog is not None
        flow = self._websocket_flow()
        if flow is not None:
            return flow  # a WebSocket client reaches no one but its server (RFC 7118 §5)
        hop = next_hop(self.dialog.route_set, self.dialog.remote_target)
        default = self._dest.transport if self._dest else "udp"
        return await resolve_uri(self.hooks.resolver, hop, default)

    # -- incoming --
    async def receive(self, incoming: IncomingRequest, *, auto_answer: bool) -> None:
        """Ring (180), then answer if ``auto_answer``. Whatever goes wrong on the way ends in a final
        response and an ``ended`` event: a caller never hears 180 and then nothing."""
        try:
            await self._receive(incoming, auto_answer=auto_answer)
        except Exception as exc:
            log.exception("incoming call failed")
            if not self.ended:
                if self.state == "ringing":
                    self._respond(
                        make_response(incoming.request, 500, "Server Internal Error", to_tag=self._to_tag)
                    )
                await self._end(f"internal error: {exc}", 500)

    async def _receive(self, incoming: IncomingRequest, *, auto_answer: bool) -> None:
        self._server_invite = incoming
        request = incoming.request
        self.state = "ringing"
        # Who calls is told first, even when the offer turns out unusable (a 488 follows).
        frm = request.from_
        self._emit(
            "incoming", **{"from": str(frm.uri), "display_name": frm.display_name, "to": str(request.to.uri)}
        )
        try:
            await self.media.open(self._local_host(incoming), offer=request.body or None)
            if request.body:
                self._answer_sdp = self.media.answer(request.body)
            else:
                self._answer_sdp = self.media.offer()  # offer in 200, answer in ACK (RFC 3261 §13.2.1)
        except MediaNegotiationError as exc:
            headers = Headers([("Warning", exc.warning)])
            self._respond(make_response(request, exc.status, to_tag=self._to_tag, headers=headers))
            await self._end(f"media not acceptable: {exc.warning}", exc.status)
            return
        except OSError as exc:
            self._respond(make_response(request, 500, "Media Unavailable", to_tag=self._to_tag))
            await self._end(f"cannot open media: {exc}", 500)
            return
        if self.ended:  # rejected or cancelled while the media was being prepared
            await self.media.stop()
            return
        ringing = make_response(request, 180, to_tag=self._to_tag, headers=self._contact_headers(incoming))
        self._respond(ringing)
        self._ready.set()
        if auto_answer:
            await self.answer()

    def _local_host(self, incoming: IncomingRequest) -> str:
        host = incoming.source.local_address
        if host in ("0.0.0.0", "::"):
            host = str(self.hooks.stack.transport.local_for_udp(incoming.source.destination)[0])
        return host

    def _websocket_flow(self) -> Destination | None:
        if self._dest is not None and self._dest.transport in ("ws", "wss"):
            return self._dest
        if self._server_invite is not None and self._server_invite.source.transport in ("ws", "wss"):
            return self._server_invite.source.destination
        return None

    def _contact_headers(self, incoming: IncomingRequest) -> Headers:
        local_host, local_port = self.hooks.stack.transport.advertised(incoming.source)
        public = self._public_address(incoming.source.transport)
        if public is not None:
            local_host, local_port = public
        user = self.account.uri.user if self.account else "softphone"
        params: dict[str, str | None] = {}
        if incoming.source.transport != "udp":
            params["transport"] = incoming.source.transport
        contact = SipUri(host=local_host, port=local_port, user=user, params=params)
        return Headers([("Contact", f"<{contact}>"), ("Allow", ALLOW), ("Supported", SUPPORTED)])

    def _respond(self, response: Response) -> None:
        assert self._server_invite is not None
        self.hooks.stack.respond(self._server_invite.transaction, response)

    async def answer(self) -> None:
        # The user may click Answer before the media is ready (the "incoming" event comes first).
        if not self._ready.is_set() and not self.ended:
            ended = asyncio.ensure_future(self._ended.wait())
            ready = asyncio.ensure_future(self._ready.wait())
            await asyncio.wait({ended, ready}, return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()
            ready.cancel()
        incoming = self._server_invite
        if incoming is None or self.state not in ("ringing",):
            return
        request = incoming.request
        headers = self._contact_headers(incoming)
        headers.add("Content-Type", "application/sdp")
        ok = make_response(request, 200, to_tag=self._to_tag, headers=headers, body=self._answer_sdp)
        try:
            self.dialog = Dialog.from_uas(request, ok)
        except (ParseError, ValueError) as exc:
            # an INVITE we cannot hold a dialog with: say so to the caller and end, never stay ringing
            log.info("cannot answer: %s", exc)
            self._respond(make_response(request, 400, f"Bad Request ({exc})"[:100], to_tag=self._to_tag))
            await self._end(f"cannot answer: {exc}", 400)
            return
        self.hooks.on_dialog(self)
        self._ok = ok
        self._respond(ok)
        self._spawn(self._retransmit_2xx(incoming, ok))
        if not request.body:
            # Our offer is in the 200: connected when the ACK brings the answer (RFC 3261 §13.2.1).
            self._answer_in_ack = True
            self.state = "answering"
            self.answered_at = time.monotonic()
            return
        self._connected()
        await self.media.start()

    async def _retransmit_2xx(self, incoming: IncomingRequest, ok: Response) -> None:
        """The UAS core re-sends the 2xx until the ACK comes (RFC 3261 §13.3.1.4)."""
        timers = self.hooks.stack.timers
        interval = timers.t1
        deadline = time.monotonic() + 64 * timers.t1
        while not self._acked.is_set() and not self.ended:
            try:
                await asyncio.wait_for(self._acked.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            if time.monotonic() > deadline:
                log.info("call %s: no ACK for 2xx; hanging up", self.id)
                await self._end("no ACK from peer", 408, send_bye=True)
                return
            self.hooks.stack.respond(incoming.transaction, ok)
            interval = min(interval * 2, timers.t2)

    async def reject(self, status: int = 486, reason: str | None = None) -> None:
        if self._server_invite is None or self.state != "ringing":
            return
        self._respond(make_response(self._server_invite.request, status, reason, to_tag=self._to_tag))
        await self._end("rejected", status)

    async def redirect(self, target: str, why: str) -> bool:
        """Forward a ringing incoming call: 302 Moved Temporarily with ``target`` as the Contact (RFC 3261
        §8.3.3, §21.3.3); the caller's phone calls the target. False when the call no longer rings."""
        if self._server_invite is None or self.state != "ringing":
            return False
        headers = Headers([("Contact", f"<{target}>")])
        response = make_response(
            self._server_invite.request, 302, "Moved Temporarily", to_tag=self._to_tag, headers=headers
        )
        self._respond(response)
        self._emit("forwarded", to=target, why=why)
        await self._end(f"forwarded to {target}", 302)
        return True

    def on_cancel(self) -> None:
        """CANCEL for our ringing INVITE: answer it 487 (RFC 3261 §9.2)."""
        if self._server_invite is not None and self.state == "ringing":
            self._respond(make_response(self._server_invite.request, 487, to_tag=self._to_tag))
            self._spawn(self._end("cancelled by caller", 487))

    def on_ack(self, request: Request) -> None:
        self._acked.set()
        if not self._answer_in_ack:
            return
        self._answer_in_ack = False
        was_held = self.media.remote_held
        try:
            if not request.body:
                raise MediaNegotiationError('399 softphone "No answer in the ACK"')
            self.media.accept(request.body)
        except MediaNegotiationError as exc:
            if self.state == "answering":
                self._spawn(self._end(f"unusable answer in ACK: {exc.warning}", 488, send_bye=True))
            else:
                log.info("call %s: unusable answer in ACK to re-INVITE: %s", self.id, exc.warning)
            return
        if self.state == "answering":
            self._connected()
            self._spawn(self.media.start())
        elif self.media.remote_held != was_held:
            self._emit("held" if self.media.remote_held else "resumed", by="remote")

    # -- in the dialog --
    def on_request(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        assert self.dialog is not None
        status = self.dialog.receive_request(request)
        if status is not None:
            self.hooks.stack.respond(incoming.transaction, make_response(request, status))
            return
        method = request.method
        if method == "BYE":
            self.hooks.stack.respond(incoming.transaction, make_response(request, 200))
            self._spawn(self._end("remote hangup", None))
        elif method == "INVITE":
            self._on_reinvite(incoming)
        elif method == "INFO":
            self._on_info(incoming)
        elif method == "REFER":
            self._on_refer(incoming)
        elif method == "NOTIFY":
            self._on_notify(incoming)
        elif method in ("OPTIONS", "UPDATE"):
            self.hooks.stack.respond(incoming.transaction, make_response(request, 200))
        else:
            self.hooks.stack.respond(incoming.transaction, make_response(request, 501))

    def _on_reinvite(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        if self._reinvite_pending:
            # Glare: both sides sent a re-INVITE (RFC 3261 §14.2).
            self.hooks.stack.respond(incoming.transaction, make_response(request, 491))
            return
        if self._answering_reinvite:
            # RFC 3261 §14.2: an INVITE while we have not answered the previous one
            headers = Headers([("Retry-After", str(random.randint(0, 10)))])
            self.hooks.stack.respond(incoming.transaction, make_response(request, 500, headers=headers))
            return
        restarted = getattr(self.media, "ice_restart_offered", None)
        if request.body and restarted is not None and restarted(request.body):
            # RFC 8839 §4.4.3.1.1: the answer to an ICE restart has new credentials and candidates of ours
            self._answering_reinvite = True
            self._spawn(self._answer_ice_restart(incoming))
            return
        self._answer_reinvite(incoming)

    async def _answer_ice_restart(self, incoming: IncomingRequest) -> None:
        try:
            restart = getattr(self.media, "restart_ice")  # noqa: B009 - optional in CallMedia
            await restart(None)
        except OSError as exc:
            log.info("call %s: cannot restart ICE: %s", self.id, exc)
        finally:
            self._answering_reinvite = False
        if not self.ended:
            self._answer_reinvite(incoming)

    def _answer_reinvite(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        was_held = self.media.remote_held
        try:
            body = self.media.answer(request.body) if request.body else self.media.offer()
        except MediaNegotiationError as exc:
            headers = Headers([("Warning", exc.warning)])
            self.hooks.stack.respond(incoming.transaction, make_response(request, 488, headers=headers))
            return
        headers = self._contact_headers(incoming)
        headers.add("Content-Type", "application/sdp")
        ok = make_response(request, 200, headers=headers, body=body)
        self._acked = asyncio.Event()
        self._answer_in_ack = not request.body
        self.hooks.stack.respond(incoming.transaction, ok)
        self._spawn(self._retransmit_2xx(incoming, ok))
        if self.media.remote_held != was_held:
            self._emit("held" if self.media.remote_held else "resumed", by="remote")

    # -- transfer (RFC 3515 REFER, RFC 3891 Replaces, RFC 5589 call control) --
    async def transfer(self, target: str, *, replaces: Call | None = None) -> bool:
        """Ask the peer to call ``target`` (blind), or to replace our call with ``replaces`` (attended).

        Returns True once the peer accepted the REFER (202); progress arrives as
        ``transfer_progress`` events from its NOTIFYs, and a 2xx ends this call.
        """
        if self.dialog is None or self.state != "connected":
            return False
        refer_to = target if target.startswith("<") else f"<{target}>"
        if replaces is not None and replaces.dialog is not None:
            d = replaces.dialog
            value = quote_replaces(d.call_id, d.remote_tag, d.local_tag)
            # The transfer target is the peer of the other call: its AOR when it has one
            # through our account's proxy, else its contact.
            peer = d.remote_uri.uri if replaces.account is not None else d.remote_target.without_params()
            uri = str(peer) if not target else target.strip("<>")
            refer_to = f"<{uri}?Replaces={value}>"
        assert self.dialog is not None
        request = self.dialog.create_request("REFER")
        request.headers.add("Refer-To", refer_to)
        request.headers.add("Referred-By", f"<{self.dialog.local_uri.uri}>")
        request.headers.add("Contact", f"<{self._local_contact()}>")
        response = await self.hooks.stack.request(request, await self._dialog_dest())
        self._emit("transfer_progress", status=response.status, stage="refer")
        return 200 <= response.status < 300

    def _on_notify(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        self.hooks.stack.respond(incoming.transaction, make_response(request, 200))
        event = (request.headers.get("Event") or "").split(";")[0].strip().lower()
        if event != "refer":
            return
        status = _sipfrag_status(request.body)
        if status is None:
            return
        self._emit("transfer_progress", status=status, stage="notify")
        if status >= 200:
            if status < 300:
                # RFC 5589 §6: the transfer worked, the transferor leaves.
                self._spawn(self._end("transferred", None, send_bye=True))
            else:
                self._emit("transfer_failed", status=status)

    def _on_refer(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        refer_to = request.headers.get("Refer-To") or request.headers.get("r")
        if not refer_to:
            self.hooks.stack.respond(incoming.transaction, make_response(request, 400, "Missing Refer-To"))
            return
        try:
            target = parse_address(refer_to)
        except ParseError:
            self.hooks.stack.respond(incoming.transaction, make_response(request, 400, "Bad Refer-To"))
            return
        self.hooks.stack.respond(incoming.transaction, make_response(request, 202))
        self._emit("transfer_requested", to=str(target.uri))
        self._spawn(self._follow_refer(target))

    async def _follow_refer(self, target: Address) -> None:
        """Call the Refer-To target and report how it goes in NOTIFYs (RFC 3515 §2.4.4)."""
        await self._notify_refer(100, "Trying", terminated=False)
        if self.hooks.place_call is None or not isinstance(target.uri, SipUri):
            await self._notify_refer(503, "Service Unavailable", terminated=True)
            return
        uri = target.uri
        extra = Headers()
        for name, value in uri.headers.items():
            if name.lower() == "replaces":
                extra.add("Replaces", value)
        clean = SipUri(host=uri.host, user=uri.user, port=uri.port, scheme=uri.scheme, params=uri.params)
        try:
            new_call = await self.hooks.place_call(clean, self.account, extra)
        except Exception as exc:
            log.info("transfer to %s failed: %s", clean, exc)
            await self._notify_refer(503, "Service Unavailable", terminated=True)
            return
        while not new_call.ended and new_call.state != "connected":
            await asyncio.sleep(0.05)
        if new_call.state == "connected":
            await self._notify_refer(200, "OK", terminated=True)
            await self._end("transferred", None, send_bye=True)
        else:
            status = new_call.end_status or 487
            await self._notify_refer(status, "Failed", terminated=True)

    async def _notify_refer(self, status: int, reason: str, *, terminated: bool) -> None:
        if self.dialog is None or self.ended:
            return
        body = f"SIP/2.0 {status} {reason}\r\n".encode()
        request = self.dialog.create_request("NOTIFY", body=body, content_type="message/sipfrag;version=2.0")
        request.headers.add("Event", "refer")
        state = "terminated;reason=noresource" if terminated else "active;expires=60"
        request.headers.add("Subscription-State", state)
        request.headers.add("Contact", f"<{self._local_contact()}>")
        try:
            await self.hooks.stack.request(request, await self._dialog_dest())
        except (TransportError, ResolutionError) as exc:
            log.info("NOTIFY failed: %s", exc)

    def _on_info(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        if request.content_type == "application/dtmf-relay":
            for line in request.body.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition("=")
                if name.strip().lower() == "signal" and value.strip():
                    self._emit("dtmf", digit=value.strip()[0], via="info")
        self.hooks.stack.respond(incoming.transaction, make_response(request, 200))

    async def hold(self, on: bool = True) -> bool:
        """Put the call on hold (a=sendonly) or take it off (RFC 3264 §8.4); 491 is retried."""
        if self.dialog is None or self.state != "connected" or self.local_hold == on:
            return False
        self.media.set_hold(on)
        for attempt in range(3):
            self._reinvite_pending = True
            try:
                response = await self._in_dialog("INVITE", self.media.offer(), "application/sdp")
            finally:
                self._reinvite_pending = False
            if response.status == 491 and attempt < 2:
                # RFC 3261 §14.1: the Call-ID owner waits 2.1-4 s, the other 0-2 s.
                wait = random.uniform(2.1, 4.0) if self.direction == "outgoing" else random.uniform(0, 2.0)
                await asyncio.sleep(wait)
                continue
            break
        if 200 <= response.status < 300:
            assert self.dialog is not None
            self.dialog.update_from_response(response)
            ack = self.dialog.create_ack(self.dialog.local_cseq)
            await self.hooks.stack.send_ack(ack, await self._dialog_dest())
            try:
                self.media.accept(response.body)
            except MediaNegotiationError as exc:
                log.info("unusable answer to re-INVITE: %s", exc)
            self.local_hold = on
            self._emit("held" if on else "resumed", by="local")
            return True
        self.media.set_hold(not on)
        return False

    def network_changed(self) -> None:
        """The local address changed: move the media and tell the peer (a target refresh re-INVITE with the
        new Contact and c= address, RFC 3261 §12.2, §14.1)."""
        if self.state == "connected" and self.dialog is not None:
            self._moving = True
            self._spawn(self._refresh("address changed", move=True))

    def flow_lost(self, dest: Destination) -> None:
        """The connection our INVITE went or came over is gone, and with it the proxy's way back to us (no
        RFC 5626 flow token): a re-INVITE over a new connection refreshes the target the proxy uses."""
        used = [self._dest, self._server_invite.source.destination if self._server_invite else None]
        mine = any(d is not None and d.reliable and d.key == dest.key for d in used)
        if mine and self.state == "connected" and not self._moving:
            self._spawn(self._refresh("connection lost", move=False))

    async def _refresh(self, reason: str, *, move: bool) -> None:
        try:
            await self._refresh_now(reason, move=move)
        finally:
            if move:
                self._moving = False

    async def _refresh_now(self, reason: str, *, move: bool) -> None:
        address = None
        if move:
            try:
                dest = await self._dialog_dest()
                host, port = await self.hooks.stack.transport.sent_by(dest)
                address, _ = await self.hooks.stack.transport.local_address(dest)
                if not await self._move_media(address):
                    log.info("call %s: the media cannot change its address", self.id)
                    return
            except (TransportError, ResolutionError, OSError) as exc:
                log.info("call %s: cannot move to the new address: %s", self.id, exc)
                return
            self._moved_contact = self._contact(host, port)
        for attempt in range(3):
            if self._reinvite_pending or self._answering_reinvite:  # a hold in progress: let it finish first
                await asyncio.sleep(0.5)
                continue
            self._reinvite_pending = True
            try:
                response = await self._in_dialog("INVITE", self.media.offer(), "application/sdp")
            except (TransportError, ResolutionError) as exc:
                log.info("call %s: re-INVITE failed: %s", self.id, exc)
                await self._abandon_ice_restart()
                return
            finally:
                self._reinvite_pending = False
            if response.status == 491 and attempt < 2:
                await asyncio.sleep(random.uniform(2.1, 4.0) if self.direction == "outgoing" else 1.0)
                continue
            break
        else:
            await self._abandon_ice_restart()
            return
        if 200 <= response.status < 300 and self.dialog is not None:
            self.dialog.update_from_response(response)
            await self.hooks.stack.send_ack(
                self.dialog.create_ack(self.dialog.local_cseq), await self._dialog_dest()
            )
            try:
                self.media.accept(response.body)
            except MediaNegotiationError as exc:
                log.info("unusable answer to the refreshing re-INVITE: %s", exc)
        else:
            await self._abandon_ice_restart()
        self._emit(
            "call_refreshed",
            reason=reason,
            status=response.status,
            address=address,
            contact=str(self._local_contact()),
        )

    async def _abandon_ice_restart(self) -> None:
        """Our offer with new ICE credentials got no answer: the media keeps its current ICE agent."""
        abandon = getattr(self.media, "abandon_ice_restart", None)
        if abandon is not None:
            await abandon()

    async def _move_media(self, host: str) -> bool:
        restart = getattr(self.media, "restart_ice", None)
        if restart is not None and getattr(self.media, "ice", None) is not None:
            # ICE (classic with ICE, and WebRTC) moves by restarting (RFC 8445 §9): new candidates on the new
            # address in the re-INVITE, the peer restarts too; DTLS and RTP carry on over the new pair.
            return bool(await restart(host))
        rebind = getattr(self.media, "rebind", None)
        if rebind is not None:
            await rebind(host)
            return True
        # AudioCallMedia has no rebind() yet: move its RTP session and the address it offers.
        # TODO(lead): an AudioCallMedia.rebind(host) in softphone/media/session.py should replace this.
        rtp, local = getattr(self.media, "rtp", None), getattr(self.media, "local", None)
        if rtp is None or local is None or getattr(self.media, "ice", None) is not None:
            return False
        new_host, new_port = await rtp.rebind(host)
        self.media.local = dataclasses.replace(local, address=new_host, port=new_port)  # type: ignore[attr-defined]
        return True

    async def _in_dialog(self, method: str, body: bytes = b"", content_type: str | None = None) -> Response:
        assert self.dialog is not None
        request = self.dialog.create_request(method, body=body, content_type=content_type)
        request.headers.add("Contact", f"<{self._local_contact()}>")
        return await self.hooks.stack.request(request, await self._dialog_dest())

    def _local_contact(self) -> SipUri:
        assert self.dialog is not None
        if self._moved_contact is not None:
            return self._moved_contact
        if self._invite is not None:
            return self._invite.contacts[0].sip_uri
        assert self._ok is not None
        return self._ok.contacts[0].sip_uri

    async def send_dtmf(self, digits: str) -> None:
        """RFC 4733 events when negotiated, SIP INFO otherwise."""
        if self.media.send_dtmf(digits):
            return
        for digit in digits:
            await self._in_dialog(
                "INFO", f"Signal={digit}\r\nDuration=160\r\n".encode(), "application/dtmf-relay"
            )

    async def hangup(self) -> None:
        if self.ended:
            return
        if self.direction == "outgoing" and self.dialog is None:
            self._cancelled = True
            if self._invite is not None:
                self.hooks.stack.cancel(self._invite)
            try:
                await asyncio.wait_for(self._ended.wait(), 10)
            except TimeoutError:
                await self._end("cancelled", 487)
            return
        if self.direction == "incoming" and self.dialog is None:
            await self.reject(603, "Decline")
            return
        await self._end("local hangup", None, send_bye=True)

    # -- endings --
    def _connected(self) -> None:
        self.state = "connected"
        if self.answered_at is None:
            self.answered_at = time.monotonic()
        info = self.media.info()
        self._emit("answered", **info)
        self.media.on_timeout = self._media_timeout

    def _media_timeout(self) -> None:
        self._spawn(self._end("media timeout: no RTP from peer", 408, send_bye=True))

    async def _end(self, reason: str, status: int | None, *, send_bye: bool = False) -> None:
        if self.ended:
            return
        duration = self.duration
        self.state = "ended"
        self.end_reason = reason
        self.end_status = status
        stats = self.media.stats()
        if stats:
            self._emit("stats", **stats)
        self.stop_recording()  # the file is complete before the call is reported ended
        if send_bye and self.dialog is not None:
            try:
                await asyncio.wait_for(self._in_dialog("BYE"), 8)
            except (TimeoutError, TransportError, ResolutionError) as exc:
                log.info("BYE failed: %s", exc)
        await self.media.stop()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._emit("ended", reason=reason, status=status, duration=round(duration, 2))
        self._ended.set()
        self.hooks.on_end(self)


MAX_REDIRECTS = 3  # 3xx answers followed for one call, so that a forwarding loop ends


def _redirect_target(response: Response) -> SipUri | None:
    """The first SIP Contact of a 3xx answer (a tel: or other Contact is not followed)."""
    for value in response.headers.lines("Contact"):
        try:
            addresses = parse_address_list(value)
        except ParseError:
            continue
        for address in addresses:
            if isinstance(address.uri, SipUri):
                return address.uri
    return None


def _auto_profile(transport: str) -> str:
    return "webrtc" if transport in ("ws", "wss") else "classic"


def quote_replaces(call_id: str, to_tag: str, from_tag: str) -> str:
    """The Replaces value for a Refer-To URI header, escaped (RFC 3891 §3, RFC 3261 §19.1.1)."""
    from urllib.parse import quote

    return quote(f"{call_id};to-tag={to_tag};from-tag={from_tag}", safe="")


def parse_replaces(value: str) -> tuple[str, str, str] | None:
    """(call-id, to-tag, from-tag) of a Replaces header (RFC 3891 §6.1)."""
    call_id, *params = [p.strip() for p in value.split(";")]
    tags = {}
    for param in params:
        name, _, val = param.partition("=")
        tags[name.strip().lower()] = val.strip()
    if not call_id or "to-tag" not in tags or "from-tag" not in tags:
        return None
    return call_id, tags["to-tag"], tags["from-tag"]


def _sipfrag_status(body: bytes) -> int | None:
    first = body.decode("utf-8", "replace").split("\n", 1)[0].strip()
    parts = first.split(" ", 2)
    if len(parts) >= 2 and parts[0].upper().startswith("SIP/") and parts[1].isascii() and parts[1].isdigit():
        return int(parts[1])
    return None
