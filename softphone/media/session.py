"""The media of one call: SDP offer/answer, the RTP session (plain or SDES-SRTP) and the audio stream."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
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
from .rtp import RtpSession
from .sdp import (
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

    # -- offer/answer --
    async def open(self, local_host: str) -> None:
        host, port = await self.rtp.open(local_host, port_range=self.options.port_range)
        self.local = LocalMedia(
            address=host,
            port=port,
            codecs=list(self.options.codecs),
            srtp=self.options.srtp,
            rtcp_mux=True,
        )

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
        self._apply(negotiated)
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
        self._apply(negotiated)

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

    # -- running --
    async def start(self) -> None:
        if self._started or self.negotiated is None or self._codec is None:
            return
        self._started = True
        try:
            self._source = (
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
        await self.rtp.close()
        for device in (self._source, self._sink):
            if device is not None:
                device.close()

    def set_hold(self, on: bool) -> None:
        self.local_hold = on

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
        }

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
        }
        if self.stream is not None:
            out.update(self.stream.stats())
        return out
