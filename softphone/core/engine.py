"""The UI-agnostic engine: accounts, registrations and the requests nobody else serves."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..sip.address import Address
from ..sip.dialog import dialog_id_of_request, dialog_id_of_response
from ..sip.errors import ParseError
from ..sip.headers import Headers
from ..sip.inspect import UasPolicy, inspect_request
from ..sip.message import Request, Response, make_response
from ..sip.transaction import Timers
from ..sip.uri import SipUri, parse_uri
from ..transport.base import Destination, Source
from ..transport.manager import TlsSettings, _route_source
from ..transport.resolver import SipResolver
from .account import AccountConfig
from .call import Call, CallHooks, CallMedia, MediaNegotiationError, parse_replaces
from .dialplan import clean_number
from .events import EngineEvent, EventSink
from .registration import Registration
from .stack import IncomingRequest, SipStack
from .trace import TraceSink

if TYPE_CHECKING:
    from ..media.session import MediaOptions

log = logging.getLogger(__name__)

NETWORK_POLL = 3.0


def __getattr__(name: str) -> Any:
    """``MediaOptions`` for the CLI. The media stack (numpy, PyAV, aiortc: half a second) is not
    imported with this module but with the first call's media, so that the GUI starts sooner."""
    if name == "MediaOptions":
        from ..media.session import MediaOptions

        return MediaOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Engine:
    """Runs the SIP stack and every account; the GUI and the CLI talk only to this.

    Events go to every subscriber (``subscribe``); methods are coroutines.
    """

    @classmethod
    def configured(
        cls,
        *,
        listen: tuple[str, int],
        dns_server: tuple[str, int] | None = None,
        t1: float = 0.5,
        tls_verify: bool = True,
        ca_file: str | None = None,
        trace: TraceSink | None = None,
        media: MediaOptions | None = None,
    ) -> Engine:
        """An engine from plain settings (what the CLI's options give): a DNS server of its own, the
        RFC 3261 T1 (T2 and T4 follow it), TLS verification and an extra CA."""
        return cls(
            listen=listen,
            resolver=SipResolver([dns_server]) if dns_server else None,
            timers=Timers(t1=t1, t2=max(4.0, t1 * 8), t4=5.0),
            trace=trace,
            tls=TlsSettings(verify=tls_verify, ca_file=ca_file),
            media=media,
        )

    def __init__(
        self,
        *,
        listen: tuple[str, int] = ("0.0.0.0", 0),
        resolver: SipResolver | None = None,
        timers: Timers | None = None,
        trace: TraceSink | None = None,
        tls: TlsSettings | None = None,
        media: MediaOptions | None = None,
        media_factory: Callable[[], CallMedia] | None = None,
    ) -> None:
        self.listen = listen
        self.resolver = resolver or SipResolver()
        self.stack = SipStack(timers=timers, tls=tls, trace=trace)
        self.stack.on_request = self._on_request
        self.stack.on_cancel = self._on_cancel
        self.stack.on_ack = self._on_ack
        self.stack.on_late_response = self._on_late_response
        self.stack.lost_handlers.append(self._on_flow_lost)
        self.registrations: dict[str, Registration] = {}
        if media_factory is None and media is not None:
            options = media

            def media_factory() -> CallMedia:
                from ..media.session import AudioCallMedia

                return AudioCallMedia(options, error_type=MediaNegotiationError)

        self.media_factory = media_factory
        methods = {"OPTIONS"}
        if media_factory is not None:
            methods |= {"INVITE", "BYE", "INFO", "UPDATE", "REFER", "NOTIFY"}
        self.policy = UasPolicy(methods=frozenset(methods), extensions=frozenset({"replaces"}))
        self.calls: dict[str, Call] = {}
        self.incoming_calls: asyncio.Queue[Call] = asyncio.Queue()
        self._dialogs: dict[tuple[str, str, str], Call] = {}
        self.auto_answer = False
        self.do_not_disturb = False
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
        await asyncio.gather(*(call.hangup() for call in list(self.calls.values())), return_exceptions=True)
        await asyncio.gather(
            *(reg.stop(unregister=True) for reg in self.registrations.values()),
            return_exceptions=True,
        )
        # Let a final response to an INVITE get its ACK (or be retransmitted once) before the
        # socket goes away; a lost 486 would otherwise leave the caller retrying into nothing.
        for _ in range(20):
            if self.stack.layer.transactions == 0:
                break
            await asyncio.sleep(0.05)
        await self.stack.close()
        self.emit(EngineEvent("stopped"))

    # -- accounts --
    def add_account(self, config: AccountConfig) -> Registration:
        if config.id in self.registrations:
            raise ValueError(f"account {config.id} exists already")
        if config.transport in ("tls", "wss") and (config.ca_file or not config.tls_verify):
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

    # -- calls --
    def _hooks(self) -> CallHooks:
        return CallHooks(
            self.stack,
            self.resolver,
            self.emit,
            self._register_dialog,
            self._call_ended,
            self._place_call,
            self._public_address,
        )

    def _public_address(self, account: AccountConfig | None, transport: str) -> tuple[str, int] | None:
        """Where the account's registrar sees us over UDP, when that differs from our own address."""
        registration = self.registrations.get(account.id) if account is not None else None
        if registration is None or transport != "udp" or registration.config.transport != "udp":
            return None
        return registration.public

    async def call(self, uri: str, account_id: str | None = None) -> Call:
        """Place a call; returns at once, the call reports its progress as events."""
        if self.media_factory is None:
            raise RuntimeError("this engine has no media")
        account = self.registrations[account_id].config if account_id else None
        if account is None and self.registrations and account_id is None:
            account = next(iter(self.registrations.values())).config
        return await self._place_call(_target_uri(uri, account), account, Headers())

    def _media_for(self, account: AccountConfig | None) -> CallMedia:
        """A call's media, with the account's NAT traversal (STUN, TURN, relay-only) and profile."""
        assert self.media_factory is not None
        media = self.media_factory()
        configure = getattr(media, "configure", None)
        if account is not None and configure is not None:
            settings = account.media_settings()
            if settings:
                configure(**settings)
        return media

    async def _place_call(self, target: SipUri, account: AccountConfig | None, extra: Headers) -> Call:
        assert self.media_factory is not None
        call = Call(self._hooks(), self._media_for(account), "outgoing", Address(target), account)
        call.extra_headers = extra
        self.calls[call.id] = call
        asyncio.ensure_future(call.dial(target))
        return call

    async def conference(self, call_ids: list[str]) -> bool:
        """Join calls into a local conference: everyone hears everyone (a three-way call)."""
        calls = [self.calls[i] for i in call_ids if i in self.calls]
        if len(calls) < 2 or any(c.state != "connected" for c in calls):
            return False
        for call in calls:
            if call.local_hold:
                await call.hold(False)
        microphone, speaker = calls[0].media.audio()
        if microphone is None or speaker is None:
            return False
        from ..media.conference import ConferenceBridge

        bridge = ConferenceBridge(microphone, speaker)
        for index, call in enumerate(calls):
            source, sink = bridge.add()
            call.media.set_audio(source, sink, close_old=index > 0)
        self.emit(EngineEvent("conference", None, {"calls": [c.id for c in calls]}))
        return True

    def set_volume(self, call_id: str, volume: float) -> bool:
        """Speaker volume of one call, a linear factor (1.0 = as received, 0 = silent, up to 4)."""
        call = self.calls.get(call_id)
        return call is not None and call.set_volume(volume)

    def set_gain(self, call_id: str, gain: float) -> bool:
        """Microphone gain of one call, a linear factor (1.0 = as captured, 0 = silent, up to 4)."""
        call = self.calls.get(call_id)
        return call is not None and call.set_gain(gain)

    def start_recording(self, call_id: str, path: str) -> str | None:
        """Record one call (both sides, mixed) to a WAV file; the path, or None (no such call, or media that
        cannot record). Raises OSError when the file cannot be made."""
        call = self.calls.get(call_id)
        return call.start_recording(path) if call is not None else None

    def stop_recording(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return call.stop_recording() if call is not None else None

    async def transfer(self, call_id: str, target: str) -> bool:
        """Blind transfer: the peer of ``call_id`` is asked to call ``target`` (RFC 3515)."""
        call = self.calls[call_id]
        account = call.account
        return await call.transfer(str(_target_uri(target, account)))

    async def transfer_attended(self, call_id: str, other_id: str) -> bool:
        """Attended transfer: the peer of ``call_id`` replaces our call ``other_id`` (RFC 3891)."""
        call, other = self.calls[call_id], self.calls[other_id]
        if other.dialog is None:
            return False
        return await call.transfer("", replaces=other)

    def _register_dialog(self, call: Call) -> None:
        if call.dialog is not None:
            self._dialogs[call.dialog.id] = call

    def _call_ended(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        if call.dialog is not None:
            self._dialogs.pop(call.dialog.id, None)

    def _find_call(self, request: Request) -> Call | None:
        try:
            call_id, to_tag, from_tag = dialog_id_of_request(request)
        except ParseError:
            return None
        return self._dialogs.get((call_id, to_tag, from_tag))

    def _on_cancel(self, incoming: IncomingRequest) -> None:
        for call in list(self.calls.values()):
            if call._server_invite is not None and call._server_invite.transaction is incoming.transaction:
                call.on_cancel()

    def _on_ack(self, request: Request, source: Source) -> None:
        call = self._find_call(request)
        if call is not None:
            call.on_ack(request)

    def _on_flow_lost(self, dest: Destination) -> None:
        for call in list(self.calls.values()):
            call.flow_lost(dest)

    def _on_late_response(self, response: Response) -> None:
        try:
            key = dialog_id_of_response(response)
        except ParseError:
            return
        call = self._dialogs.get(key)
        if call is not None:
            call.on_late_2xx(response)

    def _account_for(self, source: Source) -> tuple[bool, AccountConfig | None]:
        """Did this request come through an account's proxy? (direct calls are opt-in)."""
        for reg in self.registrations.values():
            if reg.dest is not None and reg.dest.address == source.address and reg.dest.port == source.port:
                return True, reg.config
        for reg in self.registrations.values():
            if reg.config.allow_direct_calls:
                return True, reg.config
        return not self.registrations, None

    def _on_invite(self, incoming: IncomingRequest, tag: str) -> None:
        request = incoming.request
        allowed, account = self._account_for(incoming.source)
        if not allowed:
            log.info("refused a direct INVITE from %s", incoming.source)
            self.stack.respond(
                incoming.transaction, make_response(request, 403, "Direct calls not allowed", to_tag=tag)
            )
            self.emit(EngineEvent("refused", None, {"from": str(incoming.source), "reason": "direct call"}))
            return
        replaces = request.headers.get("Replaces")
        if replaces is not None:
            self._on_replaces(incoming, replaces, tag)
            return
        busy = self.do_not_disturb or any(not c.ended for c in self.calls.values())
        forward = self._forwarding(account, busy)
        if forward is not None:
            self._forward_at_once(incoming, tag, forward[0], forward[1])
            return
        if self.do_not_disturb:
            self.stack.respond(
                incoming.transaction, make_response(request, 486, "Do Not Disturb", to_tag=tag)
            )
            return
        assert self.media_factory is not None
        try:
            remote = request.from_
        except ParseError:
            self.stack.respond(incoming.transaction, make_response(request, 400, to_tag=tag))
            return
        call = Call(self._hooks(), self._media_for(account), "incoming", remote, account)
        self.calls[call.id] = call
        self.incoming_calls.put_nowait(call)
        answer_now = self.auto_answer or (
            account is not None and account.auto_answer and account.auto_answer_delay <= 0
        )
        asyncio.ensure_future(call.receive(incoming, auto_answer=answer_now))
        if account is not None and account.auto_answer and not answer_now:
            self._while_ringing(call, account.auto_answer_delay, call.answer)
        if account is not None and account.forward == "no_answer" and account.forward_to:
            target = _forward_target(account)
            if target is not None:
                self._while_ringing(call, account.forward_after, lambda: call.redirect(target, "no answer"))

    @staticmethod
    def _while_ringing(call: Call, delay: float, action: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """``action`` after ``delay`` seconds if the call still rings (auto-answer, forward on no answer)."""

        def fire() -> None:
            if call.state == "ringing" and not call.ended:
                call._spawn(action())

        asyncio.get_running_loop().call_later(delay, fire)

    def _forwarding(self, account: AccountConfig | None, busy: bool) -> tuple[str, str] | None:
        """(target, why) when an incoming call is to be forwarded before it rings: always, or busy."""
        if account is None or not account.forward_to or account.forward not in ("always", "busy"):
            return None
        if account.forward == "busy" and not busy:
            return None
        target = _forward_target(account)
        return (target, account.forward) if target is not None else None

    def _forward_at_once(self, incoming: IncomingRequest, tag: str, target: str, why: str) -> None:
        request = incoming.request
        headers = Headers([("Contact", f"<{target}>")])
        self.stack.respond(
            incoming.transaction,
            make_response(request, 302, "Moved Temporarily", to_tag=tag, headers=headers),
        )
        account = self._account_for(incoming.source)[1]
        try:
            caller = str(request.from_.uri)
        except ParseError:
            caller = "?"
        self.emit(
            EngineEvent(
                "forwarded", account.id if account else None, {"from": caller, "to": target, "why": why}
            )
        )

    def _on_replaces(self, incoming: IncomingRequest, value: str, tag: str) -> None:
        """An INVITE that takes the place of one of our calls (RFC 3891 §3): no ringing."""
        request = incoming.request
        key = parse_replaces(value)
        # Replaces names the dialog from the sender's view: its to-tag is our local tag.
        old = self._dialogs.get((key[0], key[1], key[2])) if key else None
        if old is None or old.ended:
            self.stack.respond(incoming.transaction, make_response(request, 481, to_tag=tag))
            return
        assert self.media_factory is not None
        call = Call(self._hooks(), self._media_for(old.account), "incoming", request.from_, old.account)
        self.calls[call.id] = call
        self.emit(
            EngineEvent(
                "replacing", old.account.id if old.account else None, {"call": call.id, "replaces": old.id}
            )
        )

        async def take_over() -> None:
            await call.receive(incoming, auto_answer=True)
            await old.hangup()

        asyncio.ensure_future(take_over())

    # -- requests nobody else serves --
    def _on_request(self, incoming: IncomingRequest) -> None:
        try:
            self._serve(incoming)
        except ParseError as exc:
            # A header that only turned out malformed when read: answer it, so the
            # transaction ends (an unanswered one would live for ever).
            response = make_response(incoming.request, 400, exc.reason, to_tag=secrets.token_hex(6))
            self.stack.respond(incoming.transaction, response)

    def _serve(self, incoming: IncomingRequest) -> None:
        request = incoming.request
        tag = secrets.token_hex(6)
        try:
            has_tag = request.to.tag is not None
        except ParseError:
            has_tag = False
        if has_tag and request.method != "ACK":
            call = self._find_call(request)
            if call is not None:
                call.on_request(incoming)
            else:
                self.stack.respond(incoming.transaction, make_response(request, 481))
            return
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
        if request.method == "INVITE" and self.media_factory is not None:
            self._on_invite(incoming, tag)
            return
        self.stack.respond(incoming.transaction, make_response(request, 501, to_tag=tag))

    # -- network changes --
    async def _watch_network(self) -> None:
        """Register again as soon as the local address towards a server changes (RFC 5626 §4.4), and move
        the account's calls there."""
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
                    for call in list(self.calls.values()):
                        if call.account is reg.config:
                            call.network_changed()  # re-INVITE from the new address
                    if dest.reliable:
                        # a TCP/TLS/WebSocket flow stays bound to the old address: open a new one
                        self.stack.transport.abandon(dest)
                    reg.network_changed()


def _forward_target(account: AccountConfig) -> str | None:
    """The account's forwarding target as a URI (a number as typed, "+49 30 1234", at the account's domain);
    None, and a warning in the log, when it is not one."""
    text = (account.forward_to or "").strip()
    number = clean_number(text)
    if number is not None and "@" not in text and not text.lower().startswith(("sip:", "sips:")):
        text = number
    try:
        return str(_target_uri(text, account))
    except (ValueError, ParseError) as exc:
        log.warning("%s: cannot forward calls to %r: %s", account.id, account.forward_to, exc)
        return None


def _target_uri(text: str, account: AccountConfig | None) -> SipUri:
    """A dialled string as a URI: a full SIP URI, user@host, or a number at the account's domain."""
    text = text.strip()
    if not text.lower().startswith(("sip:", "sips:", "tel:")):
        if "@" in text or account is None:
            text = "sip:" + text
        else:
            text = f"sip:{text}@{account.uri.hostport}"
    uri = parse_uri(text)
    if not isinstance(uri, SipUri):
        if account is None:
            raise ValueError(f"cannot call {text} without an account")
        number = str(uri).split(":", 1)[1].split(";")[0]
        return SipUri(host=account.uri.host, port=account.uri.port, user=number, params={"user": "phone"})
    return uri
