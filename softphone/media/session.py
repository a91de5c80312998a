"""The media of one call: SDP offer/answer, the RTP session (plain or SDES-SRTP) and the audio stream."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .aec import make_echo_canceller
from .codecs import AudioCodec, UnsupportedCodec, make_codec
from .devices import (
    AudioDeviceError,
    AudioSink,
    AudioSource,
    NullSink,
    NullSource,
    WavFileSink,
    WavFileSource,
)
from .ice import IceError, IceTransport, is_ice_restart, offered_ice
from .rtp import RtpSession
from .sdp import (
    DTLS_PROFILE,
    IceParameters,
    LocalMedia,
    Negotiated,
    NegotiationError,
    SdpError,
    SdpSession,
    SessionDescription,
    create_answer,
    create_offer,
    negotiate_answer,
    parse_sdp,
)
from .srtp import SrtpContext, SrtpKey
from .stream import AudioStream, Level, StreamSettings, TonePlayer
from .webrtc import DtlsCertificate, DtlsError, DtlsSrtpTransport

log = logging.getLogger(__name__)

RECORDING_RATE = 16000  # call recordings: wideband speech


class MediaError(Exception):
    """An offer or answer that cannot be used; ``warning`` is a SIP Warning value (RFC 3261 §20.43)."""

    def __init__(self, warning: str, status: int = 488) -> None:
        super().__init__(warning)
        self.warning = warning
        self.status = status


@dataclass
class MediaOptions:
    """How calls sound: codecs, SRTP policy, and where audio comes from and goes to."""

    codecs: list[str] = field(default_factory=lambda: ["opus", "G722", "PCMU", "PCMA"])
    srtp: str = "optional"  # off | optional | required
    play: str | None = None  # WAV file as microphone (looped)
    record: str | None = None  # WAV file for what we hear
    media_timeout: float = 30.0  # seconds without RTP before the call is dropped
    port_range: tuple[int, int] | None = None
    source_factory: Callable[[], AudioSource] | None = None
    sink_factory: Callable[[], AudioSink] | None = None
    jitter_min_ms: float = 20
    jitter_max_ms: float = 200
    ice: bool = False
    """ICE (RFC 8445/8839): gather candidates at open(), offer them, answer ICE offers with ours and run the
    connectivity checks.  Off: no ICE attributes at all (an ICE offer is answered the classic way)."""
    stun_server: str | None = None  # host:port (or stun: URI) for server-reflexive candidates
    turn_server: str | None = None  # host:port (or turn:/turns: URI) for a relayed candidate
    turn_username: str | None = None
    turn_password: str | None = None
    ice_relay_only: bool = False  # offer the relayed candidate only (hides our addresses)
    ice_timeout: float = 20.0  # seconds for the connectivity checks
    profile: str = "auto"
    """What our offers use: classic (RTP/AVP or RTP/SAVP with SDES, ICE only with ``ice``) or webrtc
    (UDP/TLS/RTP/SAVPF: DTLS-SRTP, ICE, rtcp-mux, BUNDLE; what browsers and WebRTC gateways want); auto is
    resolved by softphone.core per call (webrtc over WebSocket accounts).  Offers are answered in whatever
    profile they use.  ``srtp="off"`` rules webrtc out (it is encrypted by definition)."""
    aec: str = "none"  # echo canceller (docs/AEC.md): auto | webrtc | speex | none; "auto" for sound devices
    noise_suppression: bool = True  # with the echo canceller


class AudioCallMedia:
    """Implements softphone.core.call.CallMedia for one audio stream."""

    def __init__(self, options: MediaOptions, *, error_type: type[Exception] = MediaError) -> None:
        self.options = options
        self.error_type = error_type
        self.rtp = RtpSession()
        self.sdp_session = SdpSession()
        self.local: LocalMedia | None = None
        self.negotiated: Negotiated | None = None
        self.stream: AudioStream | None = None
        self.remote_held = False
        self.local_hold = False
        self.on_dtmf: Callable[[str], None] | None = None
        self.on_timeout: Callable[[], None] | None = None
        self._last_offer: SessionDescription | None = None
        self._codec: AudioCodec | None = None
        self._source: AudioSource | None = None
        self._sink: AudioSink | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._started = False
        self.ice: IceTransport | None = None
        self._ice_remote: tuple[str, str] | None = None  # the peer's ufrag/pwd we run the checks with
        self._ice_plain = False  # ICE on our side, the peer has none: plain media from our default candidate
        self._ice_pending: Coroutine[Any, Any, None] | None = None  # checks to run once start() was called
        self._ice_next: IceTransport | None = None  # gathered for an ICE restart, checks not run yet
        self._local_before_restart: LocalMedia | None = None  # what we offered before _ice_next
        self._ice_tasks: set[asyncio.Task[None]] = set()
        self._ice_connecting: set[IceTransport] = set()  # restarted agents running their checks
        self.ice_restarts = 0  # restarts whose new pair carries the media now
        self.profile = "classic"  # of this call: classic or webrtc, decided by open()
        self.dtls: DtlsSrtpTransport | None = None
        self._dtls_peer: tuple[str, list[tuple[str, str]]] | None = None  # our role, the peer's fingerprints
        self._local_host: str | None = None
        self.on_levels: Callable[[Level, Level], None] | None = None
        self._volume = 1.0
        self._recorder: WavFileSink | None = None
        self._gain = 1.0
        self._tone_player: TonePlayer | None = None

    def configure(self, **changes: Any) -> None:
        """Per-call changes to the options (an account's STUN/TURN servers, ICE, profile), before open()."""
        self.options = dataclasses.replace(self.options, **changes)

    # -- offer/answer --
    async def open(
        self, local_host: str, *, offer: bytes | None = None, auto_profile: str | None = None
    ) -> None:
        """Get the sockets (and ICE candidates) ready.  ``offer``: the offer we are going to answer, whose
        profile decides ours; otherwise ``options.profile``, where ``auto`` means ``auto_profile``."""
        self._preload_source()
        self._local_host = local_host
        self.profile = self._choose_profile(offer, auto_profile)
        if self.profile == "webrtc":
            try:
                await self._open_webrtc(local_host)
            except IceError as exc:
                if offer is None:
                    raise
                # 488 rather than a 500: a caller that can fall back to classic RTP will
                raise self.error_type(f'301 softphone "No ICE candidate for WebRTC media: {exc}"') from None
            return
        if self.options.ice and await self._open_ice(local_host):
            return
        host, port = await self.rtp.open(local_host, port_range=self.options.port_range)
        self.local = LocalMedia(
            address=host,
            port=port,
            codecs=list(self.options.codecs),
            srtp=self.options.srtp,
            rtcp_mux=True,
        )

    async def _gather(self, ice: IceTransport) -> None:
        """Gather candidates with this call's STUN/TURN servers and relay-only setting."""
        options = self.options
        await ice.gather(
            stun_server=options.stun_server,
            turn_server=options.turn_server,
            turn_username=options.turn_username,
            turn_password=options.turn_password,
            relay_only=options.ice_relay_only,
        )

    async def _open_ice(self, local_host: str) -> bool:
        """Gather ICE candidates; RTP goes through the ICE transport, the default candidate in c=/m=.

        False when there is no candidate at all (no interface but loopback): the call goes on without ICE.
        With ``ice_relay_only`` that is an error instead (IceError, an OSError): no relay, no media.
        """
        options = self.options
        ice = IceTransport(on_datagram=self.rtp.receive_datagram)
        try:
            await self._gather(ice)
            default = ice.default_candidate(6 if ":" in local_host else 4)
            # the session's own socket is only a placeholder: attach_transport() closes it
            await self.rtp.open(local_host, rtcp_mux=True)
        except IceError as exc:
            await ice.close()
            if options.ice_relay_only:
                raise
            log.warning("%s: media without ICE", exc)
            return False
        except BaseException:
            await ice.close()
            raise
        self.ice = ice
        self.rtp.attach_transport(self._send_over_ice)
        self.local = LocalMedia(
            address=default.address,
            port=default.port,
            codecs=list(self.options.codecs),
            srtp=self.options.srtp,
            rtcp_mux=True,
            ice=ice.local_parameters(),
        )
        return True

    def _choose_profile(self, offer: bytes | None, auto_profile: str | None) -> str:
        if self.options.srtp == "off":
            return "classic"
        if offer is not None:
            try:
                description = parse_sdp(offer)
            except SdpError:
                return "classic"  # answer() says what is wrong with it
            audio = next((m for m in description.media if m.kind == "audio" and m.port != 0), None)
            return "webrtc" if audio is not None and audio.proto.upper() == DTLS_PROFILE else "classic"
        profile = self.options.profile
        if profile == "auto":
            profile = auto_profile or "classic"
        if profile not in ("classic", "webrtc"):
            raise ValueError(f"media profile must be classic, webrtc or auto, not {profile!r}")
        return profile

    async def _open_webrtc(self, local_host: str) -> None:
        """ICE (mandatory here: RFC 8827 §6.3) and a DTLS endpoint on it; RTP goes rtp -> DTLS -> ICE.

        Without any ICE candidate (no interface but loopback, or no relay with relay-only) there is no
        WebRTC call: IceError (an OSError), the call fails as with any socket error.
        """
        options = self.options
        ice = IceTransport()
        try:
            await self._gather(ice)
            default = ice.default_candidate(6 if ":" in local_host else 4)
            await self.rtp.open(local_host, rtcp_mux=True)  # a placeholder: attach_transport() closes it
        except BaseException:
            await ice.close()
            raise
        dtls = DtlsSrtpTransport(
            DtlsCertificate.generate(),
            send=self._send_over_ice,
            on_rtp=self.rtp.receive_datagram,
            on_keys=self.rtp.set_srtp,
        )
        ice.on_datagram = dtls.receive_datagram
        self.rtp.attach_transport(dtls.send_rtp)
        self.ice, self.dtls = ice, dtls
        stream_id = secrets.token_hex(8)
        self.local = LocalMedia(
            address=default.address,
            port=default.port,
            codecs=list(options.codecs),
            srtp=options.srtp,
            rtcp_mux=True,
            ice=ice.local_parameters(),
            accept_dtls=True,
            dtls_fingerprints=[dtls.fingerprint],
            profile="webrtc",
            ssrc=self.rtp.ssrc,
            cname=self.rtp.cname,
            msid=(stream_id, f"{stream_id}-audio"),
        )

    async def fallback_to_classic(self) -> bool:
        """Our WebRTC offer was refused (488/415/606): close ICE and DTLS and get ready for a classic offer.

        False when there is nothing to fall back from (the offer was classic already, or media started).
        """
        if self.profile != "webrtc" or self._started or self._local_host is None:
            return False
        log.info("WebRTC offer refused: offering classic RTP instead")
        if self.dtls is not None:
            await self.dtls.close()
        if self.ice is not None:
            await self.ice.close()
        await self.rtp.close()
        self.rtp = RtpSession()
        self.ice = self.dtls = None
        self._last_offer = None
        self.sdp_session = SdpSession()
        self.profile = "classic"
        host = self._local_host
        if self.options.ice and await self._open_ice(host):
            return True
        host, port = await self.rtp.open(host, port_range=self.options.port_range)
        self.local = LocalMedia(
            address=host, port=port, codecs=list(self.options.codecs), srtp=self.options.srtp, rtcp_mux=True
        )
        return True

    def _send_over_ice(self, data: bytes) -> None:
        """RTP (classic) or DTLS records (webrtc) go over whichever ICE transport is current: an ICE restart
        swaps it under the RtpSession and the DTLS association, which never notice."""
        ice = self.ice
        if ice is not None:
            ice.send(data)

    def ice_restart_offered(self, offer: bytes) -> bool:
        """The peer's re-offer restarts ICE (RFC 8839 §4.4.3.1.1: new a=ice-ufrag or a=ice-pwd): its answer
        needs new credentials and candidates of ours, :meth:`restart_ice` before :meth:`answer`."""
        if self.ice is None or self._ice_remote is None:
            return False
        try:
            return is_ice_restart(self._ice_remote, offered_ice(parse_sdp(offer)))
        except SdpError:
            return False  # answer() says what is wrong with it

    async def restart_ice(self, local_host: str | None = None) -> bool:
        """Restart ICE (RFC 8445 §9): gather again, on the addresses there are now, with new credentials;
        the next offer or answer carries them.  When the peer's ICE parameters come back the checks run
        on the new agent; once it has a pair the media moves there and the old agent is closed.  Until
        then the media stays on the old pair (§9: it may still work).  The DTLS association, the SRTP
        keys, the SSRC and the RTP sequence carry on (RFC 8842 §4: a restart is not a new association).

        ``local_host``: our new address, for the default candidate's IP family.  False when this call has
        no ICE (plain RTP moves with ``RtpSession.rebind``) or nothing could be gathered (IceError with
        relay-only, as at open()).
        """
        current = self.ice
        if current is None or self.local is None:
            return False
        if local_host is not None:
            self._local_host = local_host
        host = self._local_host or self.local.address
        options = self.options
        fresh = IceTransport(on_datagram=current.on_datagram)
        try:
            await self._gather(fresh)
            default = fresh.default_candidate(6 if ":" in host else 4)
        except IceError as exc:
            await fresh.close()
            if options.ice_relay_only:
                raise
            log.warning("ICE restart: %s; keeping the current pair", exc)
            return False
        except BaseException:
            await fresh.close()
            raise
        if self._ice_next is not None:  # an earlier restart never got its answer
            await self._ice_next.close()
        else:
            self._local_before_restart = self.local
        self._ice_next = fresh
        parameters = fresh.local_parameters()
        self.local = dataclasses.replace(
            self.local, address=default.address, port=default.port, ice=parameters
        )
        log.info("ICE restart: new credentials, %d candidate(s)", len(parameters.candidates))
        return True

    async def abandon_ice_restart(self) -> None:
        """Our restarting offer got no answer: forget the new agent; our SDP has the current one's
        credentials and candidates again (offering the new ones later would restart without an agent)."""
        fresh, self._ice_next = self._ice_next, None
        if fresh is not None:
            await fresh.close()
            if self._local_before_restart is not None:
                self.local = self._local_before_restart
        self._local_before_restart = None

    def _local(self) -> LocalMedia:
        assert self.local is not None, "open() first"
        direction = "sendonly" if self.local_hold else "sendrecv"
        return dataclasses.replace(self.local, direction=direction)

    def offer(self) -> bytes:
        self._last_offer = create_offer(self._local(), session=self.sdp_session)
        return self._last_offer.serialize()

    def answer(self, offer: bytes) -> bytes:
        try:
            parsed = parse_sdp(offer)
            if self.profile == "webrtc" and self._choose_profile(offer, None) != "webrtc":
                raise NegotiationError(301, "Cannot change from WebRTC to classic RTP in this call")
            description, negotiated = create_answer(parsed, self._local(), session=self.sdp_session)
        except NegotiationError as exc:
            raise self.error_type(exc.warning, exc.status) from None
        except SdpError as exc:
            # an offer we cannot use: 488 with the reason in a Warning (400 is for broken SIP, §21.4.26)
            raise self.error_type(f'399 softphone "Bad SDP: {exc}"', 488) from None
        self._apply_checked(negotiated)
        self._apply_ice(negotiated, controlling=False)
        return description.serialize()

    def accept(self, answer: bytes) -> None:
        if self._last_offer is None:
            raise self.error_type('399 softphone "Answer without offer"')
        try:
            negotiated = negotiate_answer(self._last_offer, parse_sdp(answer), self._local())
        except NegotiationError as exc:
            raise self.error_type(exc.warning, exc.status) from None
        except SdpError as exc:
            raise self.error_type(f'399 softphone "Bad SDP: {exc}"', 400) from None
        self._apply_checked(negotiated)
        self._apply_ice(negotiated, controlling=True)

    def _apply_checked(self, negotiated: Negotiated) -> None:
        """Apply a negotiation; a key or parameter our media cannot use is a 488, not a crash."""
        try:
            self._apply(negotiated)
        except ValueError as exc:
            raise self.error_type(f'306 softphone "Unusable media parameter: {exc}"') from None

    def _apply(self, negotiated: Negotiated) -> None:
        previous = self.negotiated
        self.negotiated = negotiated
        self.remote_held = negotiated.held
        codec_changed = previous is None or (
            previous.codec.name.lower(),
            previous.send_pt,
            previous.recv_pt,
        ) != (negotiated.codec.name.lower(), negotiated.send_pt, negotiated.recv_pt)
        if codec_changed:
            try:
                self._codec = make_codec(
                    negotiated.codec.name,
                    negotiated.send_pt,
                    negotiated.codec.clock_rate,
                    negotiated.codec.channels,
                    negotiated.codec.fmtp,
                )
            except UnsupportedCodec as exc:
                raise self.error_type(f'305 softphone "Unsupported codec {exc}"') from None
        self.rtp.set_remote(
            negotiated.remote_address,
            negotiated.remote_port,
            negotiated.remote_rtcp,
            rtcp_mux=negotiated.rtcp_mux,
            clock_rate=negotiated.codec.clock_rate,
        )
        if self.dtls is not None:
            self._apply_dtls(negotiated)  # the keys come from the handshake, in the SrtpContext it gives
        elif negotiated.srtp and negotiated.local_crypto and negotiated.remote_crypto:
            tx = SrtpKey.from_inline(negotiated.local_crypto.suite, negotiated.local_crypto.key_params)
            rx = SrtpKey.from_inline(negotiated.remote_crypto.suite, negotiated.remote_crypto.key_params)
            self.rtp.set_srtp(SrtpContext(tx, rx))
        else:
            self.rtp.set_srtp(None)
        settings = self._settings()
        if self.stream is not None:
            if codec_changed and self._codec is not None:
                self.stream.codec = self._codec
            self.stream.update(settings)

    def _apply_dtls(self, negotiated: Negotiated) -> None:
        if negotiated.dtls is None or negotiated.dtls_role is None:
            raise ValueError("DTLS parameters missing")
        peer = (negotiated.dtls_role, list(negotiated.dtls.fingerprints))
        if self._dtls_peer is None:
            self._dtls_peer = peer
        elif peer != self._dtls_peer:
            # a new fingerprint or role means a new association (RFC 8842 §5.5); we keep the running one
            log.warning("DTLS renegotiation asked by the peer is not supported; keeping the association")

    def _apply_ice(self, negotiated: Negotiated, *, controlling: bool) -> None:
        """The first time the peer's ICE parameters are known, get the connectivity checks ready (the offerer
        is controlling, RFC 8445 §6.1.1); plain media to its c=/m= address when it has no ICE.  They run from
        start() on: an answerer's answer only reaches the peer with the 2xx, when the call is answered."""
        ice = self.ice
        if ice is None:
            return
        remote = negotiated.ice
        fresh = self._ice_next
        if fresh is not None:
            # RFC 8445 §9: the restart's offerer is controlling, as at the start of the call; aioice
            # repairs a role conflict with the tie-breaker should the peer see it otherwise.
            self._ice_next = self._local_before_restart = None
            if remote is not None:
                self._ice_remote = (remote.ufrag, remote.pwd)
                self._ice_plain = False
                self._ice_pending = self._ice_switch(fresh, remote, controlling)
            else:  # a peer without ICE: it sends to our new default candidate, we to its c=/m=
                self._ice_plain = True
                address, port = negotiated.remote_address, negotiated.remote_port
                self._ice_pending = self._ice_switch(fresh, (address, port), controlling)
        elif remote is not None and not self._ice_plain:
            key = (remote.ufrag, remote.pwd)
            if self._ice_remote is None:
                self._ice_remote = key
                self._ice_pending = self._ice_connect(ice, remote, controlling)
            elif key != self._ice_remote:
                log.warning("the peer restarted ICE but we did not gather again; keeping the current pair")
        elif remote is None and self._ice_remote is None and not self._ice_plain:
            self._ice_plain = True
            address, port = negotiated.remote_address, negotiated.remote_port
            self._ice_pending = self._ice_connect_plain(ice, address, port)
        if self._started:
            self._launch_ice()

    def _launch_ice(self) -> None:
        pending, self._ice_pending = self._ice_pending, None
        if pending is not None:
            task = asyncio.ensure_future(pending)
            self._ice_tasks.add(task)
            task.add_done_callback(self._ice_tasks.discard)

    async def _ice_switch(
        self, fresh: IceTransport, remote: IceParameters | tuple[str, int], controlling: bool
    ) -> None:
        """The checks of a restart (or plain media from the new default candidate, for a peer without ICE);
        once they succeed the media goes over the new pair and the old agent (its sockets, its TURN
        allocation, its consent checks) is closed."""
        self._ice_connecting.add(fresh)
        try:
            if isinstance(remote, IceParameters):
                await fresh.connect(remote, controlling=controlling, timeout=self.options.ice_timeout)
            else:
                await fresh.connect_plain(*remote)
        except (IceError, RuntimeError) as exc:
            self._ice_connecting.discard(fresh)
            log.log(logging.INFO if fresh.state == "closed" else logging.ERROR, "ICE restart: %s", exc)
            await fresh.close()
            return
        self._ice_connecting.discard(fresh)
        old, self.ice = self.ice, fresh
        self.ice_restarts += 1
        log.info("ICE restart %d done: the media moved to the new pair", self.ice_restarts)
        if old is not None and old is not fresh:
            await old.close()
        if self.dtls is not None and self.dtls.state == "new":
            await self._start_dtls()  # the first pair never worked: the association starts here

    async def _ice_connect(self, ice: IceTransport, remote: IceParameters, controlling: bool) -> None:
        try:
            await ice.connect(remote, controlling=controlling, timeout=self.options.ice_timeout)
        except (IceError, RuntimeError) as exc:
            # no media: the media timeout ends the call
            log.log(logging.INFO if ice.state == "closed" else logging.ERROR, "%s", exc)
            return
        await self._start_dtls()

    async def _ice_connect_plain(self, ice: IceTransport, host: str, port: int) -> None:
        log.info("the peer does not do ICE: media to %s:%d from our default candidate", host, port)
        try:
            await ice.connect_plain(host, port)
        except (IceError, RuntimeError) as exc:
            log.log(logging.INFO if ice.state == "closed" else logging.ERROR, "%s", exc)
            return
        await self._start_dtls()

    async def _start_dtls(self) -> None:
        """The DTLS handshake, once ICE carries datagrams; a failure leaves the call without media (the
        media timeout ends it), as a failed ICE check does."""
        if self.dtls is None or self._dtls_peer is None:
            return
        role, fingerprints = self._dtls_peer
        try:
            await self.dtls.start(role, fingerprints)
        except (DtlsError, RuntimeError) as exc:
            log.debug("no DTLS: %s", exc)

    def _settings(self) -> StreamSettings:
        n = self.negotiated
        assert n is not None
        return StreamSettings(
            send_pt=n.send_pt,
            recv_pt=n.recv_pt,
            dtmf_send_pt=n.telephone_event_send_pt,
            dtmf_recv_pt=n.telephone_event_recv_pt,
            dtmf_rate=n.telephone_event_rate or 8000,
            sending=n.direction in ("sendrecv", "sendonly"),
            receiving=n.direction in ("sendrecv", "recvonly"),
        )

    def _preload_source(self) -> None:
        """Load a --play WAV file now, before our SDP is out.

        Reading and resampling it takes ~60-100 ms (60 s at 8 kHz); done in start(), that stall
        came right after the answer, while the peer was already sending: the RTP queued in the
        socket reached the jitter buffer as one burst, the first packet ~100 ms late, which
        anchored the playout ~100 ms late and made the buffer drop frames to catch up over the
        next 2-3 s (one of them in speech). Sound devices are still opened in start().
        """
        if self.options.play and self.options.source_factory is None and self._source is None:
            try:
                self._source = WavFileSource(self.options.play)
            except AudioDeviceError as exc:
                log.error("audio device: %s", exc)

    # -- running --
    async def start(self) -> None:
        if self._started or self.negotiated is None or self._codec is None:
            return
        self._started = True
        self._launch_ice()
        if self._tone_player is not None:  # the ringback ends where the call's audio begins
            self._tone_player.stop()
            self._tone_player = None
        try:
            self._source = self._source or (
                self.options.source_factory()
                if self.options.source_factory
                else WavFileSource(self.options.play)
                if self.options.play
                else NullSource()
            )
            self._sink = self._sink or (
                self.options.sink_factory()
                if self.options.sink_factory
                else WavFileSink(self.options.record)
                if self.options.record
                else NullSink()
            )
        except AudioDeviceError as exc:
            log.error("audio device: %s", exc)
            self._source, self._sink = NullSource(), NullSink()
        self.stream = AudioStream(
            self.rtp,
            self._codec,
            self._settings(),
            self._source,
            self._sink,
            on_dtmf=self._dtmf,
            min_delay_ms=self.options.jitter_min_ms,
            max_delay_ms=self.options.jitter_max_ms,
            aec=(
                make_echo_canceller(self.options.aec, noise_suppression=self.options.noise_suppression)
                if self.options.aec != "none"
                else None
            ),
            on_levels=self._levels,
        )
        self.stream.volume, self.stream.gain = self._volume, self._gain
        self.stream.recorder = self._recorder
        self.stream.start()
        self._watchdog = asyncio.ensure_future(self._watch_media())

    def _dtmf(self, digit: str) -> None:
        if self.on_dtmf is not None:
            self.on_dtmf(digit)

    async def _watch_media(self) -> None:
        """Report a peer that stopped sending RTP (not while it holds the call)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        timeout = self.options.media_timeout
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            n = self.negotiated
            if n is None or self.remote_held or n.direction in ("sendonly", "inactive"):
                started = loop.time()
                continue
            last = self.rtp.last_received or started
            if loop.time() - last > timeout:
                log.info("no RTP for %.0f s", timeout)
                if self.on_timeout is not None:
                    self.on_timeout()
                return

    async def stop(self) -> None:
        self.stop_recording()
        if self._tone_player is not None:
            self._tone_player.stop()
            self._tone_player = None
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.stream is not None:
            await self.stream.stop()
        await self.rtp.close()  # its RTCP BYE still goes over ICE
        if self.dtls is not None:
            await self.dtls.close()  # close_notify, before ICE goes
        for task in list(self._ice_tasks):
            task.cancel()
        if self._ice_pending is not None:
            self._ice_pending.close()  # never started
        for spare in (self._ice_next, *self._ice_connecting):
            if spare is not None:
                await spare.close()
        if self.ice is not None:
            await self.ice.close()
        for device in (self._source, self._sink):
            if device is not None:
                device.close()

    def set_hold(self, on: bool) -> None:
        self.local_hold = on

    def audio(self) -> tuple[Any, Any]:
        """The (source, sink) this call's audio uses now."""
        return self._source, self._sink

    def set_audio(self, source: Any, sink: Any, *, close_old: bool = False) -> None:
        """Switch the microphone and speaker mid-call (a device change, or joining a conference)."""
        old = (self._source, self._sink)
        self._source, self._sink = source, sink
        if self.stream is not None:
            self.stream.source, self.stream.sink = source, sink
            if self.stream.aec is not None and (source, sink) != old:
                self.stream.aec.reset()  # another room, another echo path
        if close_old:
            for device in old:
                if device is not None and device is not source and device is not sink:
                    device.close()

    # -- local tones, volume, levels (softphone.core drives them) --
    def play_tone(self, tone: AudioSource | None) -> bool:
        """Play a local tone into this call's speaker (ringback, call waiting), or stop it (None).

        Before the call's audio starts, the speaker is opened early and the tone runs on its own
        clock; once it runs, the tone is mixed into what the speaker plays (and into the echo
        canceller's reference). False when there is no speaker to play it on.
        """
        if self.stream is not None:
            self.stream.tone = tone
            return True
        if self._tone_player is not None:
            self._tone_player.stop()
            self._tone_player = None
        if tone is None or self._started:
            return tone is None
        if self._sink is None:
            try:
                self._sink = (
                    self.options.sink_factory()
                    if self.options.sink_factory
                    else WavFileSink(self.options.record)
                    if self.options.record
                    else NullSink()
                )
            except AudioDeviceError as exc:
                log.error("audio device: %s", exc)
                return False
        self._tone_player = TonePlayer(self._sink, tone)
        self._tone_player.start()
        return True

    # -- call recording --
    @property
    def recording(self) -> Path | None:
        """The file this call is being recorded to, or None."""
        return self._recorder.path if self._recorder is not None else None

    def start_recording(self, path: str | Path) -> Path:
        """Record both sides of the call, mixed, to a WAV file (16 kHz mono: speech at wideband quality,
        under 2 MB a minute). Raises OSError when the file cannot be made."""
        if self._recorder is not None:
            return self._recorder.path
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._recorder = WavFileSink(target, rate=RECORDING_RATE)
        if self.stream is not None:
            self.stream.recorder = self._recorder
        return target

    def stop_recording(self) -> Path | None:
        """End the recording (its file is complete and playable); the path, or None if none ran."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return None
        if self.stream is not None:
            self.stream.recorder = None
        recorder.close()
        return recorder.path

    def set_volume(self, volume: float) -> None:
        """Speaker volume of this call, a linear factor (1.0 as received, 0 silent, up to 4)."""
        self._volume = min(max(float(volume), 0.0), 4.0)
        if self.stream is not None:
            self.stream.volume = self._volume

    def set_gain(self, gain: float) -> None:
        """Microphone gain of this call, a linear factor (1.0 as captured, 0 silent, up to 4)."""
        self._gain = min(max(float(gain), 0.0), 4.0)
        if self.stream is not None:
            self.stream.gain = self._gain

    def _levels(self, mic: Level, speaker: Level) -> None:
        if self.on_levels is not None:
            self.on_levels(mic, speaker)

    def send_dtmf(self, digits: str) -> bool:
        return self.stream is not None and self.stream.send_dtmf(digits)

    def set_mute(self, on: bool) -> None:
        if self.stream is not None:
            self.stream.muted = on

    def info(self) -> dict[str, Any]:
        n = self.negotiated
        if n is None:
            return {}
        webrtc = self.dtls is not None
        return {
            "codec": n.codec.name,
            "clock_rate": n.codec.clock_rate,
            # classic calls keep their RTP profile and a bool here, as before WebRTC existed
            "srtp": "dtls" if webrtc else bool(n.srtp),
            "profile": "webrtc" if webrtc else n.profile,
            "media_profile": self.profile,
            "transport_profile": n.profile,
            "dtmf": n.telephone_event_send_pt is not None,
        } | ({"ice": n.ice is not None} if self.ice is not None else {})

    def stats(self) -> dict[str, Any]:
        if self.negotiated is None:
            return {}
        s = self.rtp.stats()
        out: dict[str, Any] = {
            "packets_sent": s.packets_sent,
            "packets_received": s.packets_received,
            "packets_lost": s.packets_lost,
            "fraction_lost": round(s.fraction_lost, 4),
            "jitter_ms": round(s.jitter_ms, 2),
            "rtt_ms": None if s.rtt_ms is None else round(s.rtt_ms, 2),
            "remote": f"{s.remote[0]}:{s.remote[1]}" if s.remote else None,
            "latched": s.latched,
            "srtp_failures": s.srtp_failures,
        }
        if self.stream is not None:
            out.update(self.stream.stats())
        if self.ice is not None:
            out.update(self.ice.stats())
            out["ice_restarts"] = self.ice_restarts
        if self.dtls is not None:
            out.update(self.dtls.stats())
        return out
