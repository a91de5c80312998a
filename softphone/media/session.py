"""The media of one call: SDP offer/answer, the RTP session (plain or SDES-SRTP) and the audio stream."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

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
from .ice import IceError, IceTransport
from .rtp import RtpSession
from .sdp import (
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
from .stream import AudioStream, StreamSettings

log = logging.getLogger(__name__)


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
        self._ice_task: asyncio.Task[None] | None = None
        self._ice_remote: tuple[str, str] | None = None  # the peer's ufrag/pwd we run the checks with
        self._ice_plain = False  # ICE on our side, the peer has none: plain media from our default candidate
        self._ice_pending: Coroutine[Any, Any, None] | None = None  # checks to run once start() was called

    # -- offer/answer --
    async def open(self, local_host: str) -> None:
        self._preload_source()
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

    async def _open_ice(self, local_host: str) -> bool:
        """Gather ICE candidates; RTP goes through the ICE transport, the default candidate in c=/m=.

        False when there is no candidate at all (no interface but loopback): the call goes on without ICE.
        With ``ice_relay_only`` that is an error instead (IceError, an OSError): no relay, no media.
        """
        options = self.options
        ice = IceTransport(on_datagram=self.rtp.receive_datagram)
        try:
            await ice.gather(
                stun_server=options.stun_server,
                turn_server=options.turn_server,
                turn_username=options.turn_username,
                turn_password=options.turn_password,
                relay_only=options.ice_relay_only,
            )
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
        self.rtp.attach_transport(ice.send)
        self.local = LocalMedia(
            address=default.address,
            port=default.port,
            codecs=list(self.options.codecs),
            srtp=self.options.srtp,
            rtcp_mux=True,
            ice=ice.local_parameters(),
        )
        return True

    def _local(self) -> LocalMedia:
        assert self.local is not None, "open() first"
        direction = "sendonly" if self.local_hold else "sendrecv"
        return dataclasses.replace(self.local, direction=direction)

    def offer(self) -> bytes:
        self._last_offer = create_offer(self._local(), session=self.sdp_session)
        return self._last_offer.serialize()

    def answer(self, offer: bytes) -> bytes:
        try:
            description, negotiated = create_answer(parse_sdp(offer), self._local(), session=self.sdp_session)
        except NegotiationError as exc:
            raise self.error_type(exc.warning, exc.status) from None
        except SdpError as exc:
            raise self.error_type(f'399 softphone "Bad SDP: {exc}"', 400) from None
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
        if negotiated.srtp and negotiated.local_crypto and negotiated.remote_crypto:
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

    def _apply_ice(self, negotiated: Negotiated, *, controlling: bool) -> None:
        """The first time the peer's ICE parameters are known, get the connectivity checks ready (the offerer
        is controlling, RFC 8445 §6.1.1); plain media to its c=/m= address when it has no ICE.  They run from
        start() on: an answerer's answer only reaches the peer with the 2xx, when the call is answered."""
        ice = self.ice
        if ice is None:
            return
        remote = negotiated.ice
        if remote is not None and not self._ice_plain:
            key = (remote.ufrag, remote.pwd)
            if self._ice_remote is None:
                self._ice_remote = key
                self._ice_pending = self._ice_connect(ice, remote, controlling)
            elif key != self._ice_remote:
                log.warning("ICE restart asked by the peer is not supported; keeping the current pair")
        elif remote is None and self._ice_remote is None and not self._ice_plain:
            self._ice_plain = True
            address, port = negotiated.remote_address, negotiated.remote_port
            self._ice_pending = self._ice_connect_plain(ice, address, port)
        if self._started:
            self._launch_ice()

    def _launch_ice(self) -> None:
        pending, self._ice_pending = self._ice_pending, None
        if pending is not None:
            self._ice_task = asyncio.ensure_future(pending)

    async def _ice_connect(self, ice: IceTransport, remote: IceParameters, controlling: bool) -> None:
        try:
            await ice.connect(remote, controlling=controlling, timeout=self.options.ice_timeout)
        except (IceError, RuntimeError) as exc:
            # no media: the media timeout ends the call
            log.log(logging.INFO if ice.state == "closed" else logging.ERROR, "%s", exc)

    async def _ice_connect_plain(self, ice: IceTransport, host: str, port: int) -> None:
        log.info("the peer does not do ICE: media to %s:%d from our default candidate", host, port)
        try:
            await ice.connect_plain(host, port)
        except (IceError, RuntimeError) as exc:
            log.log(logging.INFO if ice.state == "closed" else logging.ERROR, "%s", exc)

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
        try:
            self._source = self._source or (
                self.options.source_factory()
                if self.options.source_factory
                else WavFileSource(self.options.play)
                if self.options.play
                else NullSource()
            )
            self._sink = (
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
        )
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
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.stream is not None:
            await self.stream.stop()
        await self.rtp.close()  # its RTCP BYE still goes over ICE
        if self._ice_task is not None:
            self._ice_task.cancel()
        if self._ice_pending is not None:
            self._ice_pending.close()  # never started
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
        if close_old:
            for device in old:
                if device is not None and device is not source and device is not sink:
                    device.close()

    def send_dtmf(self, digits: str) -> bool:
        return self.stream is not None and self.stream.send_dtmf(digits)

    def set_mute(self, on: bool) -> None:
        if self.stream is not None:
            self.stream.muted = on

    def info(self) -> dict[str, Any]:
        n = self.negotiated
        if n is None:
            return {}
        return {
            "codec": n.codec.name,
            "clock_rate": n.codec.clock_rate,
            "srtp": bool(n.srtp),
            "profile": n.profile,
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
        return out
