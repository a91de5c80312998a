"""SDP parsing and serialising (RFC 8866) and offer/answer (RFC 3264)."""

from __future__ import annotations

import base64
import string
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softphone.media.sdp import (
    Candidate,
    Codec,
    Crypto,
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


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def fixed_keys(length: int) -> bytes:
    return bytes(range(1, length + 1))


KEY_A = base64.b64encode(bytes(range(100, 130))).decode()  # 30 bytes: an AES_CM_128 key||salt
KEY_B = base64.b64encode(bytes(range(200, 230))).decode()

# RFC 3264 §10.1: Alice's offer and Bob's answer.
RFC3264_OFFER = sdp(
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com",
    "s=",
    "c=IN IP4 host.atlanta.example.com",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 97",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 iLBC/8000",
    "m=video 51372 RTP/AVP 31 32",
    "a=rtpmap:31 H261/90000",
    "a=rtpmap:32 MPV/90000",
)
RFC3264_ANSWER = sdp(
    "v=0",
    "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com",
    "s=",
    "c=IN IP4 host.biloxi.example.com",
    "t=0 0",
    "m=audio 49174 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
    "m=video 49170 RTP/AVP 32",
    "a=rtpmap:32 MPV/90000",
)

FINGERPRINT = (
    "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:3A:1B:8C:D4:A2:6F:27:0B:3D:45:7B"
)
MSID = "5d1c2b4e-8a3f-4c1e-9b7a-2f6d8e0c1a3b 7e2f0a9c-3d4b-4f1a-8c6e-1b2d3f4a5c6d"
CHROMIUM_OFFER_LINES = [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1 2",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS 5d1c2b4e-8a3f-4c1e-9b7a-2f6d8e0c1a3b",
    "m=audio 56403 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
    "c=IN IP4 203.0.113.10",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:3348148302 1 udp 2113937151 192.168.1.34 56403 typ host generation 0 network-cost 999",
    "a=candidate:1516519487 1 udp 1677729535 203.0.113.10 56403 typ srflx raddr 192.168.1.34 rport 56403"
    " generation 0 network-cost 999",
    "a=ice-ufrag:Gk3q",
    "a=ice-pwd:mN0dR0vP3tVh6hV9d+cY2fqK",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
    "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    f"a=msid:{MSID}",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:111 opus/48000/2",
    "a=rtcp-fb:111 transport-cc",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=fmtp:63 111/111",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:13 CN/8000",
    "a=rtpmap:110 telephone-event/48000",
    "a=rtpmap:126 telephone-event/8000",
    "a=ssrc:3735928559 cname:YZcxBwerFFm6GH69",
    f"a=ssrc:3735928559 msid:{MSID}",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:Gk3q",
    "a=ice-pwd:mN0dR0vP3tVh6hV9d+cY2fqK",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
    "a=mid:1",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 transport-cc",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=ice-ufrag:Gk3q",
    "a=ice-pwd:mN0dR0vP3tVh6hV9d+cY2fqK",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
    "a=mid:2",
    "a=sctp-port:5000",
    "a=max-message-size:262144",
]
CHROMIUM_OFFER = sdp(*CHROMIUM_OFFER_LINES)

BARESIP_OFFER = sdp(
    "v=0",
    "o=- 1583451233 3127540845 IN IP4 192.168.1.20",
    "s=-",
    "c=IN IP4 192.168.1.20",
    "t=0 0",
    "a=tool:baresip 3.10.1",
    "m=audio 10010 RTP/AVP 96 9 0 8 101",
    "b=AS:128",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=rtcp-rsize",
    "a=rtcp-mux",
    "a=ssrc:2851021394 cname:sip:alice@example.com",
    "a=sendrecv",
    "a=label:1",
    "a=ptime:20",
)


def plain_offer(*media_lines: str, m: str = "m=audio 20000 RTP/AVP 0 8 101", c: str = "192.0.2.9") -> bytes:
    return sdp(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.9",
        "s=-",
        f"c=IN IP4 {c}",
        "t=0 0",
        m,
        "a=rtpmap:101 telephone-event/8000",
        *media_lines,
    )


def local(**kwargs: object) -> LocalMedia:
    params: dict[str, object] = {"address": "198.51.100.1", "port": 40000}
    params.update(kwargs)
    return LocalMedia(**params)  # type: ignore[arg-type]


def answer(offer: bytes, **kwargs: object) -> tuple[SessionDescription, Negotiated]:
    return create_answer(parse_sdp(offer), local(**kwargs), session=SdpSession(), key_factory=fixed_keys)


# ------------------------------------------------------------------------------------- parsing


def test_rfc3264_offer_parses() -> None:
    """RFC 3264 §10.1: session fields, one audio and one video stream, an empty s= line."""
    desc = parse_sdp(RFC3264_OFFER)
    assert desc.origin.username == "alice"
    assert desc.origin.sess_id == desc.origin.sess_version == 2890844526
    assert desc.origin.address == "host.atlanta.example.com"
    assert desc.session_name == ""
    assert desc.connection == "host.atlanta.example.com"
    audio, video = desc.media
    assert (audio.kind, audio.port, audio.proto, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ["0", "8", "97"],
    )
    assert [c.rtpmap for c in audio.codecs] == ["PCMU/8000", "PCMA/8000", "iLBC/8000"]
    assert [c.payload_type for c in video.codecs] == [31, 32]
    assert audio.direction == "sendrecv"
    assert audio.effective_connection(desc) == "host.atlanta.example.com"


def test_rfc3264_answer_parses() -> None:
    """RFC 3264 §10.1: Bob's answer keeps one codec per stream."""
    desc = parse_sdp(RFC3264_ANSWER)
    assert [(m.kind, m.port, [c.name for c in m.codecs]) for m in desc.media] == [
        ("audio", 49174, ["PCMU"]),
        ("video", 49170, ["MPV"]),
    ]


def test_static_payload_types_need_no_rtpmap() -> None:
    """RFC 3551 §6: static payload types 0, 8, 9 and 18 are known without a=rtpmap."""
    desc = parse_sdp(plain_offer(m="m=audio 20000 RTP/AVP 0 8 9 18 101", c="192.0.2.9"))
    assert [(c.payload_type, c.name, c.clock_rate) for c in desc.media[0].codecs] == [
        (0, "PCMU", 8000),
        (8, "PCMA", 8000),
        (9, "G722", 8000),
        (18, "G729", 8000),
        (101, "telephone-event", 8000),
    ]


def test_bare_lf_line_endings_are_accepted() -> None:
    """RFC 8866 §5: CRLF is the line end, but a parser should accept a bare LF."""
    assert parse_sdp(RFC3264_OFFER.replace(b"\r\n", b"\n")) == parse_sdp(RFC3264_OFFER)


def test_chromium_offer_parses() -> None:
    """RFC 8843 BUNDLE, RFC 8839 ICE, RFC 8122 fingerprint, RFC 5761 rtcp-mux in a WebRTC offer."""
    desc = parse_sdp(CHROMIUM_OFFER)
    assert desc.bundle == ["0", "1", "2"]
    audio, video, data = desc.media
    assert audio.proto == "UDP/TLS/RTP/SAVPF"
    assert (audio.ice_ufrag, audio.ice_pwd, audio.ice_options) == (
        "Gk3q",
        "mN0dR0vP3tVh6hV9d+cY2fqK",
        ["trickle"],
    )
    assert audio.fingerprints == [("sha-256", FINGERPRINT)]
    assert (audio.setup, audio.mid, audio.rtcp_mux) == ("actpass", "0", True)
    assert audio.rtcp == (9, "0.0.0.0")
    opus = audio.codec(111)
    assert opus == Codec(111, "opus", 48000, 2, "minptime=10;useinbandfec=1")
    assert audio.codec(63) == Codec(63, "red", 48000, 2, "111/111")
    assert [(c.payload_type, c.clock_rate) for c in audio.telephone_events] == [(110, 48000), (126, 8000)]
    assert audio.telephone_event_for(48000) == Codec(110, "telephone-event", 48000)
    assert ("rtcp-fb", "111 transport-cc") in audio.attributes
    assert ("ssrc", "3735928559 cname:YZcxBwerFFm6GH69") in audio.attributes
    assert video.codec(97) == Codec(97, "rtx", 90000, 1, "apt=96")
    assert data.formats == ["webrtc-datachannel"] and data.codecs == []
    assert desc.attribute("msid-semantic") == " WMS 5d1c2b4e-8a3f-4c1e-9b7a-2f6d8e0c1a3b"


def test_chromium_offer_round_trips_every_line() -> None:
    """RFC 8866 §5: unknown attributes (extmap, ssrc, rtcp-fb, msid...) survive parse and serialise."""
    desc = parse_sdp(CHROMIUM_OFFER)
    out = desc.serialize()
    assert Counter(out.decode().split("\r\n")[:-1]) == Counter(CHROMIUM_OFFER_LINES)
    assert parse_sdp(out) == desc


def test_ice_candidate_fields() -> None:
    """RFC 8839 §5.1: foundation, component, transport, priority, address, port, type, raddr/rport."""
    desc = parse_sdp(CHROMIUM_OFFER)
    host, srflx = desc.media[0].candidates
    assert (host.foundation, host.component, host.transport, host.priority) == (
        "3348148302",
        1,
        "udp",
        2113937151,
    )
    assert (host.address, host.port, host.type) == ("192.168.1.34", 56403, "host")
    assert host.extensions == [("generation", "0"), ("network-cost", "999")]
    assert (srflx.type, srflx.related_address, srflx.related_port) == ("srflx", "192.168.1.34", 56403)
    assert Candidate.parse("candidate:" + str(srflx)) == srflx


def test_malformed_candidate_is_kept_but_not_fatal() -> None:
    """RFC 8839 §5.1: a candidate we cannot read is ignored, the description is still usable."""
    desc = parse_sdp(plain_offer("a=candidate:1 1 udp notanumber 192.0.2.1 4000 typ host"))
    assert desc.media[0].candidates == []
    assert desc.media[0].attribute("candidate") == "1 1 udp notanumber 192.0.2.1 4000 typ host"


def test_baresip_offer_parses() -> None:
    """RFC 7587 §7: opus is opus/48000/2; RFC 4733 §2.4.1: telephone-event fmtp lists the events."""
    desc = parse_sdp(BARESIP_OFFER)
    audio = desc.media[0]
    assert [c.name for c in audio.codecs] == ["opus", "G722", "PCMU", "PCMA", "telephone-event"]
    assert audio.codec(96) == Codec(96, "opus", 48000, 2, "stereo=1;sprop-stereo=1")
    assert audio.telephone_event == Codec(101, "telephone-event", 8000, 1, "0-15")
    assert (audio.ptime, audio.rtcp_mux, audio.bandwidth) == (20, True, [("AS", 128)])
    assert desc.attribute("tool") == "baresip 3.10.1"
    assert parse_sdp(desc.serialize()) == desc


def test_session_level_direction_applies_to_media_without_one() -> None:
    """RFC 8866 §6.7: a session-level direction is the default for every media description."""
    desc = parse_sdp(
        sdp(
            "v=0",
            "o=- 1 1 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "t=0 0",
            "a=sendonly",
            "m=audio 4000 RTP/AVP 0",
            "m=audio 4002 RTP/AVP 0",
            "a=inactive",
        )
    )
    assert desc.direction == "sendonly"
    assert [m.direction for m in desc.media] == ["sendonly", "inactive"]


def test_media_connection_overrides_session_connection() -> None:
    """RFC 8866 §5.7: c= in a media description wins over the session one; a /ttl suffix is dropped."""
    desc = parse_sdp(plain_offer("c=IN IP4 233.252.0.1/127"))
    assert desc.media[0].effective_connection(desc) == "233.252.0.1"


def test_serialize_uses_crlf_and_rfc8866_line_order() -> None:
    """RFC 8866 §5: v o s i u e p c b t r z k a, then m= sections, CRLF after every line."""
    desc = parse_sdp(
        b"v=0\no=- 1 2 IN IP4 192.0.2.1\ns=x\nt=0 0\nb=AS:64\nc=IN IP4 192.0.2.1\ni=info\na=foo\n"
        b"m=audio 4000 RTP/AVP 0\n"
    )
    out = desc.serialize()
    assert out.endswith(b"\r\n") and b"\n" not in out.replace(b"\r\n", b"")
    kinds = [line[:1] for line in out.decode().split("\r\n")[:-1]]
    assert kinds == ["v", "o", "s", "i", "c", "b", "t", "a", "m", "a", "a"]


# ------------------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "missing v="),
        (b"o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", "line 1"),
        (b"v=0\r\ns=-\r\nt=0 0\r\n", "missing o="),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio\r\n", "line 3"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 70000 RTP/AVP 0\r\n", "port out of range"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio abc RTP/AVP 0\r\n", "port is not a number"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0 x8\r\n", "payload type"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:zz PCMU/8000\r\n", "line 4"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nthis is not sdp\r\n", "line 3"),
        (b"v=0\r\no=- x 1 IN IP4 192.0.2.1\r\n", "sess-id"),
        (b"v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\n", "version"),
        (
            b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 192.0.2.1\r\n",
            "line 4",
        ),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:soon\r\n", "ptime"),
        (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 X\r\n", "crypto"),
    ],
    ids=[
        "empty",
        "missing-v",
        "missing-o",
        "short-m-line",
        "port-too-big",
        "port-not-numeric",
        "pt-not-numeric",
        "rtpmap-pt-not-numeric",
        "garbage-line",
        "bad-origin",
        "bad-version",
        "origin-in-media",
        "bad-ptime",
        "short-crypto",
    ],
)
def test_malformed_sdp_raises_sdp_error(text: bytes, message: str) -> None:
    """RFC 8866 §5, §5.14: a malformed description is refused with a reason naming the line."""
    with pytest.raises(SdpError, match=message):
        parse_sdp(text)


def test_an_unreadable_rtpmap_is_kept_and_its_format_not_used() -> None:
    """RFC 4475 §3.1.1.3 and §3.1.1.7 offer ``a=rtpmap:31 LPC`` (no clock rate): a valid request, whose
    SDP attribute we cannot read, for a format we would not use. The offer stays usable."""
    offer = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 0 31\r\na=rtpmap:31 LPC\r\n"
    )
    audio = offer.media[0]
    assert audio.formats == ["0", "31"]
    assert ("rtpmap", "31 LPC") in audio.attributes


def test_sdp_error_is_a_value_error() -> None:
    """Callers that answer 400 to any ValueError also catch SDP errors."""
    assert issubclass(SdpError, ValueError)


VALID_HEADER = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
LINE_PREFIXES = [
    "v=",
    "o=",
    "s=",
    "c=",
    "b=",
    "t=",
    "r=",
    "m=",
    "a=",
    "k=",
    "x=",
    "A=",
    "a=rtpmap:",
    "a=fmtp:",
    "a=crypto:",
    "a=candidate:",
    "a=rtcp:",
    "a=ptime:",
    "a=group:",
    "a=fingerprint:",
    "a=ice-ufrag",
    "a=setup",
    "a=mid:",
] + ["m=audio ", "m=audio 4000 RTP/AVP ", ""]
FUZZ_ALPHABET = string.digits + string.ascii_letters[:8] + " /:=-;.|^\t\r\x00é"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_parse_arbitrary_input_raises_only_sdp_error(data: str | bytes) -> None:
    """RFC 8866 §5: anything that is not SDP is refused with SdpError, never another exception."""
    try:
        parse_sdp(data)
    except SdpError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LINE_PREFIXES), st.text(FUZZ_ALPHABET, max_size=30)), max_size=12))
def test_parse_sdp_like_garbage_raises_only_sdp_error(lines: list[tuple[str, str]]) -> None:
    """RFC 8866 §5: near-valid lines after a valid header still fail only with SdpError."""
    text = VALID_HEADER + "\r\n".join(prefix + rest for prefix, rest in lines)
    try:
        desc = parse_sdp(text)
    except SdpError:
        return
    assert parse_sdp(desc.serialize()) == desc


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(CHROMIUM_OFFER) - 1), st.binary(max_size=3)), min_size=1, max_size=6
    )
)
def test_parse_mutated_offer_raises_only_sdp_error(mutations: list[tuple[int, bytes]]) -> None:
    """RFC 8866 §5: a damaged real offer is either still SDP or refused with SdpError."""
    data = bytearray(CHROMIUM_OFFER)
    for position, replacement in mutations:
        data[position : position + 1] = replacement
    try:
        desc = parse_sdp(bytes(data))
    except SdpError:
        return
    assert parse_sdp(desc.serialize()) == desc


# ------------------------------------------------------------------------------------- round trip

TOKENS = st.text(string.ascii_letters + string.digits + "-_.+", min_size=1, max_size=8)
ADDRESSES = st.sampled_from(["192.0.2.1", "198.51.100.7", "2001:db8::1", "host.example.com", "0.0.0.0"])
VALUES = st.text(string.ascii_letters + string.digits + " :/=;-_.", max_size=20)


@st.composite
def media_sections(draw: st.DrawFn) -> list[str]:
    proto = draw(st.sampled_from(["RTP/AVP", "RTP/SAVP", "RTP/AVPF", "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP"]))
    rtp = "RTP" in proto
    if rtp:
        pts = draw(st.lists(st.integers(0, 127), min_size=1, max_size=5, unique=True))
        formats = [str(pt) for pt in pts]
    else:
        pts, formats = [], ["webrtc-datachannel"]
    kind = draw(st.sampled_from(["audio", "video", "application"]))
    lines = [f"m={kind} {draw(st.integers(0, 65535))} {proto} {' '.join(formats)}"]
    if draw(st.booleans()):
        lines.append(f"c=IN IP4 {draw(ADDRESSES)}")
    if draw(st.booleans()):
        lines.append(f"b=AS:{draw(st.integers(0, 10**6))}")
    for pt in pts:
        if draw(st.booleans()):
            channels = draw(st.sampled_from(["", "/2"]))
            lines.append(f"a=rtpmap:{pt} {draw(TOKENS)}/{draw(st.integers(1, 96000))}{channels}")
        if draw(st.booleans()):
            lines.append(f"a=fmtp:{pt} {draw(VALUES)}")
    optional = [
        f"a={draw(st.sampled_from(['sendrecv', 'sendonly', 'recvonly', 'inactive']))}",
        f"a=ptime:{draw(st.integers(1, 200))}",
        f"a=maxptime:{draw(st.integers(1, 200))}",
        "a=rtcp-mux",
        f"a=rtcp:{draw(st.integers(0, 65535))}",
        f"a=rtcp:{draw(st.integers(0, 65535))} IN IP4 {draw(ADDRESSES)}",
        f"a=crypto:{draw(st.integers(1, 9))} AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^20",
        f"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B} UNENCRYPTED_SRTCP",
        f"a=candidate:{draw(TOKENS)} 1 udp {draw(st.integers(0, 2**32 - 1))} {draw(ADDRESSES)} 5000 typ host",
        "a=candidate:1 1 tcp 5 192.0.2.1 9 typ host tcptype active",
        "a=end-of-candidates",
        f"a=ice-ufrag:{draw(TOKENS)}",
        f"a=ice-pwd:{draw(TOKENS)}",
        f"a=fingerprint:sha-256 {FINGERPRINT}",
        f"a=setup:{draw(st.sampled_from(['actpass', 'active', 'passive']))}",
        f"a=mid:{draw(TOKENS)}",
        f"a={draw(TOKENS)}:{draw(VALUES)}",
        f"a={draw(TOKENS)}",
    ]
    lines += draw(st.lists(st.sampled_from(optional), max_size=8))
    return lines


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    lines = [
        "v=0",
        f"o={draw(TOKENS)} {draw(st.integers(0, 2**64))} {draw(st.integers(0, 2**64))} IN IP4 "
        + draw(ADDRESSES),
        f"s={draw(st.sampled_from(['-', '', 'a call']))}",
    ]
    if draw(st.booleans()):
        lines.append(f"c=IN IP4 {draw(ADDRESSES)}")
    lines.append("t=0 0")
    session_attributes = [
        "a=sendonly",
        "a=inactive",
        "a=ice-lite",
        f"a=ice-ufrag:{draw(TOKENS)}",
        f"a=ice-options:{draw(TOKENS)} trickle",
        f"a=group:BUNDLE {draw(TOKENS)} {draw(TOKENS)}",
        f"a=fingerprint:sha-256 {FINGERPRINT}",
        f"a={draw(TOKENS)}:{draw(VALUES)}",
    ]
    lines += draw(st.lists(st.sampled_from(session_attributes), max_size=4))
    for section in draw(st.lists(media_sections(), max_size=3)):
        lines += section
    return "\r\n".join(lines) + "\r\n"


@settings(max_examples=80, deadline=None)
@given(descriptions())
def test_serialize_parse_round_trip(text: str) -> None:
    """RFC 8866 §5: serialising a parsed description and parsing it again gives the same model."""
    desc = parse_sdp(text)
    again = parse_sdp(desc.serialize())
    assert again == desc
    assert again.serialize() == desc.serialize()


# ------------------------------------------------------------------------------------- crypto


def test_crypto_key_salt_is_30_bytes_for_aes_cm_128() -> None:
    """RFC 4568 §6.2.1: AES_CM_128 suites carry a 16-byte key and a 14-byte salt, base64-encoded."""
    crypto = Crypto.parse(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}")
    assert crypto.key_salt == bytes(range(100, 130))
    assert (crypto.lifetime, crypto.has_mki, crypto.problem()) == (None, False, None)


def test_crypto_lifetime_is_accepted_and_ignored() -> None:
    """RFC 4568 §6.1: a key lifetime suffix is allowed; we accept and ignore it."""
    crypto = Crypto.parse(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^20")
    assert crypto.lifetime == "2^20" and not crypto.has_mki
    assert crypto.key_salt == bytes(range(100, 130))
    assert crypto.problem() is None


def test_crypto_mki_is_refused() -> None:
    """RFC 4568 §6.1: an MKI suffix (value:length) is recognised and refused."""
    crypto = Crypto.parse(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^20|1:4")
    assert crypto.has_mki and crypto.lifetime == "2^20"
    assert crypto.problem() == "MKI not supported"


def test_crypto_round_trips_session_parameters() -> None:
    """RFC 4568 §9.1: tag, suite, key parameters and session parameters in that order."""
    text = f"7 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B} UNENCRYPTED_SRTCP KDR=0"
    crypto = Crypto.parse(text)
    assert (crypto.tag, crypto.session_params) == (7, ["UNENCRYPTED_SRTCP", "KDR=0"])
    assert str(crypto) == text


def test_generated_crypto_key_has_no_lifetime_or_mki() -> None:
    """RFC 4568 §6.1: our keys are inline:<30 random bytes> without lifetime or MKI."""
    crypto = Crypto.generate(1, "AES_CM_128_HMAC_SHA1_80")
    assert crypto.key_params.startswith("inline:") and "|" not in crypto.key_params
    assert len(crypto.key_salt) == 30
    assert Crypto.generate(1, "AES_CM_128_HMAC_SHA1_80").key_salt != crypto.key_salt


# ------------------------------------------------------------------------------------- offer


def test_offer_lists_codecs_in_preference_order_with_telephone_events() -> None:
    """RFC 3264 §5.1: formats in preference order; RFC 4733: telephone-event at 8000 and opus's 48000."""
    offer = create_offer(local(srtp="off"), session=SdpSession(), key_factory=fixed_keys)
    audio = offer.media[0]
    assert audio.proto == "RTP/AVP" and audio.crypto == []
    assert [(c.payload_type, c.rtpmap) for c in audio.codecs] == [
        (111, "opus/48000/2"),
        (9, "G722/8000"),
        (0, "PCMU/8000"),
        (8, "PCMA/8000"),
        (101, "telephone-event/8000"),
        (110, "telephone-event/48000"),
    ]
    assert (audio.port, audio.ptime, audio.direction, audio.rtcp_mux) == (40000, 20, "sendrecv", True)
    assert offer.connection == "198.51.100.1" and offer.origin.address == "198.51.100.1"


def test_offer_optional_srtp_is_rtp_avp_with_crypto() -> None:
    """RFC 4568 §7.1.1 practice ("best effort SRTP"): RTP/AVP carrying a=crypto lines."""
    audio = create_offer(local(), session=SdpSession(), key_factory=fixed_keys).media[0]
    assert audio.proto == "RTP/AVP"
    assert [(c.tag, c.suite) for c in audio.crypto] == [
        (1, "AES_CM_128_HMAC_SHA1_80"),
        (2, "AES_CM_128_HMAC_SHA1_32"),
    ]
    assert all(len(c.key_salt) == 30 and c.problem() is None for c in audio.crypto)


def test_offer_required_srtp_is_rtp_savp() -> None:
    """RFC 4568 §3.1: mandatory SRTP is offered in the RTP/SAVP profile."""
    audio = create_offer(local(srtp="required"), session=SdpSession()).media[0]
    assert audio.proto == "RTP/SAVP" and len(audio.crypto) == 2


def test_offer_names_explicit_rtcp_port() -> None:
    """RFC 3605 §2.1: a=rtcp when RTCP is not on the RTP port + 1."""
    offer = create_offer(local(rtcp_port=40007, rtcp_mux=False), session=SdpSession())
    assert offer.media[0].rtcp == (40007, None) and not offer.media[0].rtcp_mux
    assert b"\r\na=rtcp:40007\r\n" in offer.serialize() and b"a=rtcp-mux" not in offer.serialize()


def test_origin_version_bumps_on_changed_reoffer() -> None:
    """RFC 3264 §8: a new offer keeps the o= line but for a version increased by one."""
    session = SdpSession(session_id=77)
    first = create_offer(local(), session=session)
    hold = create_offer(local(direction="sendonly"), session=session)
    assert hold.media[0].direction == "sendonly"
    assert (hold.origin.sess_id, hold.origin.username, hold.origin.address) == (77, "-", "198.51.100.1")
    assert hold.origin.sess_version == first.origin.sess_version + 1


def test_reoffer_carries_fresh_keys_unless_reuse_is_asked() -> None:
    """RFC 4568 §7.1.4: a new offer may change the keys (default) or keep them (reuse_keys)."""
    session = SdpSession()
    first, second = (create_offer(local(), session=session).media[0].crypto for _ in range(2))
    assert first[0].key_salt != second[0].key_salt
    session = SdpSession(reuse_keys=True)
    first, second = (create_offer(local(), session=session).media[0].crypto for _ in range(2))
    assert first == second


def test_origin_version_kept_for_identical_reoffer() -> None:
    """RFC 3264 §8: an unchanged description may (and here does) keep its version."""
    session = SdpSession()
    first = create_offer(local(srtp="off"), session=session)
    again = create_offer(local(srtp="off"), session=session)
    assert again.origin == first.origin and again.serialize() == first.serialize()


def test_local_media_refuses_unknown_codec() -> None:
    """Only codecs softphone/media/codecs.py implements may be configured."""
    with pytest.raises(ValueError, match="G729"):
        local(codecs=["G729"])


# ------------------------------------------------------------------------------------- answer


def test_answer_to_rfc3264_offer_refuses_video_with_port_zero() -> None:
    """RFC 3264 §6: one m= line per offered stream, in order; refused ones have port 0."""
    ans, neg = answer(RFC3264_OFFER, codecs=["PCMU"], srtp="off")
    assert [(m.kind, m.port) for m in ans.media] == [("audio", 40000), ("video", 0)]
    assert ans.media[1].formats == ["31", "32"]
    assert [c.name for c in ans.media[0].codecs] == ["PCMU"]
    assert (neg.send_pt, neg.recv_pt, neg.remote_address, neg.remote_port) == (
        0,
        0,
        "host.atlanta.example.com",
        49170,
    )
    assert neg.telephone_event_send_pt is None


def test_answer_refuses_second_audio_stream() -> None:
    """RFC 3264 §6: we accept one audio stream; the others are refused with port 0."""
    offer = plain_offer("m=audio 20002 RTP/AVP 0", "m=audio 0 RTP/AVP 8")
    ans, neg = answer(offer, srtp="off")
    assert [m.port for m in ans.media] == [40000, 0, 0]
    assert neg.media_index == 0


def test_answer_picks_offerers_first_common_codec() -> None:
    """RFC 3264 §6.1: the answerer should honour the offerer's preference order."""
    ans, neg = answer(BARESIP_OFFER, codecs=["PCMA", "G722", "opus"], srtp="off")
    assert [c.name for c in ans.media[0].codecs] == ["opus", "telephone-event"]
    assert neg.codec.name == "opus" and neg.codec.fmtp == "stereo=1;sprop-stereo=1"


def test_answer_can_prefer_local_codec_order() -> None:
    """RFC 3264 §6.1 is a SHOULD: prefer_local_order picks by our own list."""
    ans, neg = answer(BARESIP_OFFER, codecs=["PCMA", "G722", "opus"], srtp="off", prefer_local_order=True)
    assert neg.codec.name == "PCMA" and ans.media[0].formats == ["8", "101"]


def test_answer_keeps_offerers_payload_type_numbers() -> None:
    """RFC 3264 §6.1: a codec keeps the offerer's dynamic payload type in the answer."""
    ans, neg = answer(BARESIP_OFFER, srtp="off")
    assert ans.media[0].codecs[0] == Codec(96, "opus", 48000, 2, "minptime=10;useinbandfec=1")
    assert (neg.send_pt, neg.recv_pt) == (96, 96)


def test_answer_uses_offered_telephone_event() -> None:
    """RFC 4733 §2.1: telephone-event at the offered rate, here 8000 alongside opus."""
    ans, neg = answer(BARESIP_OFFER, srtp="off")
    assert ans.media[0].telephone_event == Codec(101, "telephone-event", 8000, 1, "0-15")
    assert (neg.telephone_event_send_pt, neg.telephone_event_recv_pt, neg.telephone_event_rate) == (
        101,
        101,
        8000,
    )


def test_answer_prefers_telephone_event_at_codec_rate() -> None:
    """RFC 4733 §2.1: the event clock should match the audio codec's clock (48000 for opus)."""
    _, neg = answer(CHROMIUM_OFFER, accept_dtls=True, dtls_fingerprints=[("sha-256", FINGERPRINT)])
    assert (neg.telephone_event_send_pt, neg.telephone_event_rate) == (110, 48000)


def test_answer_without_dtmf_leaves_telephone_event_out() -> None:
    """RFC 4733 §2.5.1: telephone-event is only answered when we want DTMF events."""
    ans, neg = answer(BARESIP_OFFER, srtp="off", dtmf=False)
    assert ans.media[0].telephone_event is None and neg.telephone_event_send_pt is None


def test_no_common_codec_is_488_with_warning_305() -> None:
    """RFC 3264 §6: no common format -> 488; RFC 3261 §20.43 Warning 305."""
    with pytest.raises(NegotiationError) as info:
        answer(plain_offer(m="m=audio 20000 RTP/AVP 18 101"))
    assert info.value.status == 488
    assert info.value.warning == '305 softphone "Incompatible media format"'


def test_offer_without_audio_is_488_with_warning_304() -> None:
    """RFC 3261 §20.43: 304 media type not available (a video-only offer)."""
    with pytest.raises(NegotiationError) as info:
        answer(plain_offer(m="m=video 20000 RTP/AVP 31"))
    assert info.value.status == 488 and info.value.code == 304


def test_answer_copies_offered_ptime() -> None:
    """RFC 4566 §6 ptime: the answer repeats the offered packet time."""
    ans, neg = answer(plain_offer("a=ptime:30"), srtp="off")
    assert ans.media[0].ptime == 30 and neg.ptime == 30


# ------------------------------------------------------------------------------------- hold


def test_sendonly_offer_is_answered_recvonly_and_means_hold() -> None:
    """RFC 3264 §6.1, RFC 4317 §3.1: a=sendonly (hold) is answered a=recvonly."""
    ans, neg = answer(plain_offer("a=sendonly"), srtp="off")
    assert ans.media[0].direction == "recvonly"
    assert neg.direction == "recvonly" and neg.held


def test_inactive_offer_is_answered_inactive() -> None:
    """RFC 3264 §6.1: a=inactive is answered a=inactive."""
    ans, neg = answer(plain_offer("a=inactive"), srtp="off")
    assert ans.media[0].direction == "inactive" and neg.held


def test_recvonly_offer_is_answered_sendonly_and_is_not_hold() -> None:
    """RFC 3264 §6.1: a=recvonly is answered a=sendonly; the peer still wants our media."""
    ans, neg = answer(plain_offer("a=recvonly"), srtp="off")
    assert ans.media[0].direction == "sendonly" and not neg.held


def test_local_direction_limits_the_answer() -> None:
    """RFC 3264 §6.1: the answer direction also reflects what the answerer wants (our hold)."""
    ans, neg = answer(plain_offer("a=sendonly"), srtp="off", direction="sendonly")
    assert ans.media[0].direction == "inactive" and neg.direction == "inactive"


def test_zero_connection_address_is_old_style_hold() -> None:
    """RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) means send nothing to the peer."""
    ans, neg = answer(plain_offer(c="0.0.0.0"), srtp="off")
    assert neg.held and neg.direction == "recvonly"
    assert ans.media[0].direction == "recvonly"


def test_zero_connection_address_with_ice_is_not_hold() -> None:
    """RFC 8839 §4.2.4: with ICE, c=0.0.0.0 is a placeholder, not hold."""
    _, neg = answer(
        CHROMIUM_OFFER.replace(b"c=IN IP4 203.0.113.10", b"c=IN IP4 0.0.0.0"),
        accept_dtls=True,
        dtls_fingerprints=[("sha-256", FINGERPRINT)],
    )
    assert not neg.held and neg.direction == "sendrecv"


def test_our_hold_offer_answered_recvonly_is_not_remote_hold() -> None:
    """RFC 3264 §8.4: our a=sendonly re-offer answered a=recvonly: we send, nobody holds us."""
    session = SdpSession()
    offer = create_offer(local(srtp="off", direction="sendonly"), session=session)
    remote_answer, _ = create_answer(
        parse_sdp(offer.serialize()), local(port=50000, srtp="off"), session=SdpSession()
    )
    assert remote_answer.media[0].direction == "recvonly"
    neg = negotiate_answer(
        offer, parse_sdp(remote_answer.serialize()), local(srtp="off", direction="sendonly")
    )
    assert neg.direction == "sendonly" and not neg.held


# ------------------------------------------------------------------------------------- RTCP


def test_rtcp_mux_used_when_both_offer_it() -> None:
    """RFC 5761 §5.1.1: rtcp-mux only if both sides signal it; RTCP then goes to the RTP port."""
    ans, neg = answer(plain_offer("a=rtcp-mux"), srtp="off")
    assert ans.media[0].rtcp_mux and neg.rtcp_mux and neg.remote_rtcp is None


def test_rtcp_mux_not_answered_when_not_offered() -> None:
    """RFC 5761 §5.1.1: without a=rtcp-mux in the offer, RTCP goes to port + 1."""
    ans, neg = answer(plain_offer(), srtp="off")
    assert not ans.media[0].rtcp_mux and not neg.rtcp_mux
    assert neg.remote_rtcp == ("192.0.2.9", 20001)


def test_rtcp_mux_refused_when_disabled_locally() -> None:
    """RFC 5761 §5.1.1: an answerer not wanting rtcp-mux leaves the attribute out."""
    ans, neg = answer(plain_offer("a=rtcp-mux"), srtp="off", rtcp_mux=False)
    assert not ans.media[0].rtcp_mux and not neg.rtcp_mux


def test_offerer_sees_rtcp_mux_only_if_answer_has_it() -> None:
    """RFC 5761 §5.1.1: the offerer muxes only when the answer carries a=rtcp-mux."""
    offer = create_offer(local(srtp="off"), session=SdpSession())
    reply = plain_offer(m="m=audio 30000 RTP/AVP 0 101")
    neg = negotiate_answer(offer, parse_sdp(reply), local(srtp="off"))
    assert not neg.rtcp_mux and neg.remote_rtcp == ("192.0.2.9", 30001)


def test_rtcp_attribute_gives_remote_rtcp_address() -> None:
    """RFC 3605 §2.1: a=rtcp:<port> [IN IP4 <address>] overrides port + 1."""
    _, neg = answer(plain_offer("a=rtcp:53020 IN IP4 126.16.64.4"), srtp="off")
    assert neg.remote_rtcp == ("126.16.64.4", 53020)
    _, neg = answer(plain_offer("a=rtcp:53020"), srtp="off")
    assert neg.remote_rtcp == ("192.0.2.9", 53020)


# ------------------------------------------------------------------------------------- SRTP


def savp_offer(*crypto: str, proto: str = "RTP/SAVP") -> bytes:
    return plain_offer(*(f"a=crypto:{c}" for c in crypto), m=f"m=audio 20000 {proto} 0 8 101")


def test_savp_offer_answered_with_same_suite_and_tag_and_new_key() -> None:
    """RFC 4568 §7.1.2: the answer uses the offered tag and suite with the answerer's own key."""
    ans, neg = answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}"))
    audio = ans.media[0]
    assert audio.proto == "RTP/SAVP"
    (ours,) = audio.crypto
    assert (ours.tag, ours.suite) == (1, "AES_CM_128_HMAC_SHA1_80")
    assert ours.key_salt == fixed_keys(30) != bytes(range(100, 130))
    assert neg.srtp and neg.local_crypto == ours
    assert neg.remote_crypto is not None and neg.remote_crypto.key_salt == bytes(range(100, 130))


def test_answer_skips_unsupported_crypto_lines() -> None:
    """RFC 4568 §7.1.2: the answerer picks the first crypto attribute it supports."""
    ans, neg = answer(
        savp_offer(
            f"1 AES_256_CM_HMAC_SHA1_80 inline:{base64.b64encode(bytes(46)).decode()}",
            f"2 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A} UNENCRYPTED_SRTP",
            f"3 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B}",
        )
    )
    assert [(c.tag, c.suite) for c in ans.media[0].crypto] == [(3, "AES_CM_128_HMAC_SHA1_32")]
    assert neg.remote_crypto is not None and neg.remote_crypto.tag == 3


def test_lifetime_suffix_accepted_in_offer() -> None:
    """RFC 4568 §6.1: a key with a lifetime is usable."""
    _, neg = answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^31"))
    assert neg.srtp and neg.remote_crypto is not None and neg.remote_crypto.lifetime == "2^31"


def test_mki_only_savp_offer_is_488_with_warning_306() -> None:
    """RFC 4568 §6.1: we do not do MKI; with nothing else to use, RTP/SAVP is refused (306)."""
    with pytest.raises(NegotiationError) as info:
        answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|2^20|1:4"))
    assert info.value.status == 488 and info.value.code == 306


def test_required_srtp_refuses_plain_offer_with_488() -> None:
    """RFC 4568 §7.1.2: an offer without keys cannot satisfy required SRTP (Warning 399)."""
    with pytest.raises(NegotiationError) as info:
        answer(plain_offer(), srtp="required")
    assert info.value.status == 488
    assert info.value.warning == '399 softphone "SRTP required"'


def test_required_srtp_accepts_best_effort_offer() -> None:
    """RFC 4568 §7.1.1 practice: RTP/AVP with a=crypto is encrypted, which satisfies required."""
    ans, neg = answer(
        savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}", proto="RTP/AVP"), srtp="required"
    )
    assert ans.media[0].proto == "RTP/AVP" and len(ans.media[0].crypto) == 1 and neg.srtp


def test_optional_srtp_falls_back_to_plain_rtp() -> None:
    """Best-effort SRTP: an RTP/AVP offer with only an MKI key is answered in plain RTP."""
    ans, neg = answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}|1:4", proto="RTP/AVP"))
    assert ans.media[0].crypto == [] and not neg.srtp and neg.local_crypto is None


def test_srtp_off_ignores_offered_keys() -> None:
    """RFC 4568 §7.1.2: an RTP/AVP answer without a=crypto declines best-effort SRTP."""
    ans, neg = answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}", proto="RTP/AVP"), srtp="off")
    assert ans.media[0].crypto == [] and not neg.srtp


def test_srtp_off_refuses_savp_offer() -> None:
    """RFC 3264 §6: a profile we cannot do is refused; none left -> 488 (Warning 301)."""
    with pytest.raises(NegotiationError) as info:
        answer(savp_offer(f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_A}"), srtp="off")
    assert info.value.code == 301


def test_offerer_takes_keys_from_answer() -> None:
    """RFC 4568 §7.1.3: the answer's tag selects our offered key; we decrypt with the answerer's key."""
    session = SdpSession()
    offer = create_offer(local(), session=session, key_factory=fixed_keys)
    reply = savp_offer(f"2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B}", proto="RTP/AVP")
    neg = negotiate_answer(offer, parse_sdp(reply), local())
    assert neg.srtp and neg.local_crypto == offer.media[0].crypto[1]
    assert neg.remote_crypto is not None and neg.remote_crypto.key_salt == bytes(range(200, 230))


def test_offerer_with_optional_srtp_accepts_plain_answer() -> None:
    """Best-effort SRTP: an answer without a=crypto means plain RTP."""
    offer = create_offer(local(), session=SdpSession())
    neg = negotiate_answer(offer, parse_sdp(plain_offer(m="m=audio 30000 RTP/AVP 0")), local())
    assert not neg.srtp and neg.local_crypto is None and neg.remote_crypto is None


def test_offerer_with_required_srtp_refuses_plain_answer() -> None:
    """RFC 4568 §7.1.3: an answer without keys cannot be used when SRTP is required."""
    offer = create_offer(local(srtp="required"), session=SdpSession())
    reply = plain_offer(m="m=audio 30000 RTP/SAVP 0")
    with pytest.raises(NegotiationError):
        negotiate_answer(offer, parse_sdp(reply), local(srtp="required"))


# ------------------------------------------------------------------------------------- WebRTC


def test_dtls_profile_refused_unless_accepted() -> None:
    """RFC 5764 UDP/TLS/RTP/SAVPF needs DTLS-SRTP; without it -> 488, Warning 301."""
    with pytest.raises(NegotiationError) as info:
        answer(CHROMIUM_OFFER)
    assert info.value.status == 488 and info.value.code == 301


def test_dtls_offer_answered_when_accepted() -> None:
    """RFC 5763 §5 setup:active to actpass; RFC 8843 BUNDLE with the accepted mid; port 0 for the rest."""
    host = Candidate("1", 1, "udp", 2130706431, "198.51.100.1", 40000, "host")
    ice = IceParameters("ab12", "0123456789abcdefghijkl", [host])
    ans, neg = answer(CHROMIUM_OFFER, accept_dtls=True, dtls_fingerprints=[("sha-256", "AA:BB")], ice=ice)
    audio, video, data = ans.media
    assert (audio.proto, audio.port, audio.mid, audio.setup) == ("UDP/TLS/RTP/SAVPF", 40000, "0", "active")
    assert audio.fingerprints == [("sha-256", "AA:BB")] and audio.rtcp_mux
    assert (audio.ice_ufrag, len(audio.candidates)) == ("ab12", 1)
    assert [(m.port, m.mid) for m in (video, data)] == [(0, "1"), (0, "2")]
    assert data.formats == ["webrtc-datachannel"]
    assert ans.groups == [("BUNDLE", ["0"])]
    assert (neg.codec.name, neg.send_pt) == ("opus", 111)
    assert neg.srtp and neg.local_crypto is None
    assert neg.dtls is not None and neg.dtls.setup == "actpass"
    assert neg.ice is not None and neg.ice.ufrag == "Gk3q" and len(neg.ice.candidates) == 2


# ------------------------------------------------------------------------------------- offerer side


def test_offerer_send_and_receive_payload_types_differ() -> None:
    """RFC 3264 §6.1: each side sends with the payload type the other side declared."""
    offer = create_offer(local(srtp="off"), session=SdpSession())
    reply = sdp(
        "v=0",
        "o=- 5 5 IN IP4 192.0.2.50",
        "s=-",
        "c=IN IP4 192.0.2.50",
        "t=0 0",
        "m=audio 30000 RTP/AVP 96 100",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 useinbandfec=1",
        "a=rtpmap:100 telephone-event/48000",
        "a=rtcp-mux",
    )
    neg = negotiate_answer(offer, parse_sdp(reply), local(srtp="off"))
    assert (neg.codec.name, neg.send_pt, neg.recv_pt) == ("opus", 96, 111)
    assert neg.codec.fmtp == "useinbandfec=1"
    assert (neg.telephone_event_send_pt, neg.telephone_event_recv_pt) == (100, 110)
    assert [c.payload_type for c in neg.recv_codecs] == [111]
    assert (neg.remote_address, neg.remote_port, neg.rtcp_mux) == ("192.0.2.50", 30000, True)


def test_offerer_refuses_answer_with_other_stream_count() -> None:
    """RFC 3264 §6: the answer has exactly as many m= lines as the offer."""
    offer = create_offer(local(srtp="off"), session=SdpSession())
    two = plain_offer("m=video 0 RTP/AVP 31", m="m=audio 30000 RTP/AVP 0")
    with pytest.raises(NegotiationError):
        negotiate_answer(offer, parse_sdp(two), local(srtp="off"))


def test_offerer_sees_refused_audio_as_304() -> None:
    """RFC 3264 §6: port 0 in the answer refuses the stream."""
    offer = create_offer(local(srtp="off"), session=SdpSession())
    with pytest.raises(NegotiationError) as info:
        negotiate_answer(offer, parse_sdp(plain_offer(m="m=audio 0 RTP/AVP 0")), local(srtp="off"))
    assert info.value.code == 304


def test_full_exchange_between_two_instances() -> None:
    """RFC 3264 §6, §7: our offer, our answer, both sides agree on codec and keys."""
    alice_local, bob_local = local(codecs=["PCMA", "opus"]), local(port=50000, codecs=["opus", "PCMA"])
    offer = create_offer(alice_local, session=SdpSession())
    reply, bob = create_answer(parse_sdp(offer.serialize()), bob_local, session=SdpSession())
    alice = negotiate_answer(offer, parse_sdp(reply.serialize()), alice_local)
    assert alice.codec.name == bob.codec.name == "PCMA"
    assert alice.local_crypto == bob.remote_crypto and alice.remote_crypto == bob.local_crypto
    assert (alice.remote_port, bob.remote_port) == (50000, 40000)
    assert replace(alice.codec, fmtp=None) == replace(bob.codec, fmtp=None)
