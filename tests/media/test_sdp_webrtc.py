"""SDP of the WebRTC media profile: UDP/TLS/RTP/SAVPF with DTLS-SRTP, ICE, rtcp-mux and BUNDLE.

RFC 8829 (JSEP) §5.2-5.3, RFC 8842 (DTLS in SDP offer/answer), RFC 8843 (BUNDLE), RFC 5763 §5 (a=setup),
RFC 8122 (a=fingerprint).  The offer in data/chromium_offer.sdp is modelled on what Chromium 120+ sends
through JsSIP once gathering is complete: audio (opus/red/G722/PCMU/PCMA/CN/telephone-event) and video,
both bundled, with extmap, rtcp-fb, msid and ssrc lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from softphone.media.sdp import (
    Candidate,
    IceParameters,
    LocalMedia,
    Negotiated,
    NegotiationError,
    SdpSession,
    SessionDescription,
    create_answer,
    create_offer,
    negotiate_answer,
    parse_sdp,
)

CHROMIUM_OFFER = (Path(__file__).parent / "data" / "chromium_offer.sdp").read_bytes()
OUR_FINGERPRINT = ("sha-256", ":".join(["AB"] * 32))
CHROMIUM_FINGERPRINT = (
    "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08"
)
OUR_ICE = IceParameters(
    ufrag="a1b2",
    pwd="0123456789abcdefghijkl",
    candidates=[Candidate.parse("1 1 udp 2130706431 198.51.100.1 40000 typ host")],
    options=["ice2"],
)


def webrtc_local(**kwargs: object) -> LocalMedia:
    params: dict[str, object] = {
        "address": "198.51.100.1",
        "port": 40000,
        "accept_dtls": True,
        "dtls_fingerprints": [OUR_FINGERPRINT],
        "ice": OUR_ICE,
        "profile": "webrtc",
        "ssrc": 1234,
        "cname": "ourcname",
        "msid": ("stream", "track"),
    }
    params.update(kwargs)
    return LocalMedia(**params)  # type: ignore[arg-type]


def answer_chromium(**kwargs: object) -> tuple[SessionDescription, Negotiated]:
    return create_answer(parse_sdp(CHROMIUM_OFFER), webrtc_local(**kwargs), session=SdpSession())


# ------------------------------------------------------------------ the browser's offer


def test_chromium_offer_parses_with_bundle_dtls_and_ice() -> None:
    offer = parse_sdp(CHROMIUM_OFFER)
    assert offer.bundle == ["0", "1"]
    audio, video = offer.media
    assert (audio.kind, audio.proto, audio.mid) == ("audio", "UDP/TLS/RTP/SAVPF", "0")
    assert (video.kind, video.mid) == ("video", "1")
    assert [c.rtpmap for c in audio.codecs][:3] == ["opus/48000/2", "red/48000/2", "G722/8000"]
    opus = audio.codec(111)
    assert opus is not None and opus.fmtp == "minptime=10;useinbandfec=1"
    dtls = audio.dtls_parameters(offer)
    assert dtls is not None and dtls.setup == "actpass"
    assert dtls.fingerprints == [("sha-256", CHROMIUM_FINGERPRINT)]
    ice = audio.ice_parameters(offer)
    assert ice is not None and ice.options == ["trickle"] and len(ice.candidates) == 3
    assert audio.rtcp_mux and audio.attribute("rtcp-rsize") == ""
    assert audio.attribute("extmap") == "1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def test_chromium_offer_round_trips_through_the_serialiser() -> None:
    offer = parse_sdp(CHROMIUM_OFFER)
    assert parse_sdp(offer.serialize()) == offer


# ------------------------------------------------------------------ our answer to it


def test_answer_accepts_audio_in_the_offers_profile() -> None:
    """RFC 3264 §6: same proto; one codec (the offerer's first we know) plus telephone-event at its rate."""
    answer, negotiated = answer_chromium()
    audio = answer.media[0]
    assert (audio.port, audio.proto, audio.mid) == (40000, "UDP/TLS/RTP/SAVPF", "0")
    assert [(c.payload_type, c.rtpmap, c.fmtp) for c in audio.codecs] == [
        (111, "opus/48000/2", "minptime=10;useinbandfec=1"),
        (110, "telephone-event/48000", None),
    ]
    assert negotiated.profile == "UDP/TLS/RTP/SAVPF" and negotiated.srtp


def test_answer_rejects_video_with_port_zero_and_keeps_its_mid() -> None:
    """RFC 3264 §6, RFC 8843 §7.3.3: the refused m= line stays, port 0, with its mid."""
    answer, _ = answer_chromium()
    assert len(answer.media) == 2
    video = answer.media[1]
    assert (video.kind, video.port, video.proto, video.mid) == ("video", 0, "UDP/TLS/RTP/SAVPF", "1")


def test_answer_bundle_group_names_only_the_accepted_section() -> None:
    """RFC 8843 §7.3.3: a rejected m= section is not in the answer's BUNDLE group."""
    answer, _ = answer_chromium()
    assert answer.groups == [("BUNDLE", ["0"])]
    assert b"a=group:BUNDLE 0\r\n" in answer.serialize()


def test_answer_to_actpass_is_active_so_we_are_the_dtls_client() -> None:
    """RFC 5763 §5 / RFC 8842 §5.3: the answerer to actpass picks active (it starts the handshake)."""
    answer, negotiated = answer_chromium()
    audio = answer.media[0]
    assert audio.setup == "active" and audio.fingerprints == [OUR_FINGERPRINT]
    assert negotiated.dtls_role == "client"
    assert negotiated.dtls is not None and negotiated.dtls.fingerprints == [("sha-256", CHROMIUM_FINGERPRINT)]


def test_answer_to_an_active_offer_is_passive() -> None:
    offer = CHROMIUM_OFFER.replace(b"a=setup:actpass", b"a=setup:active")
    answer, negotiated = create_answer(parse_sdp(offer), webrtc_local(), session=SdpSession())
    assert answer.media[0].setup == "passive" and negotiated.dtls_role == "server"


def test_answer_carries_ice_rtcp_mux_rsize_msid_and_ssrc_but_no_sdes_or_extmap() -> None:
    answer, _ = answer_chromium()
    audio = answer.media[0]
    assert (audio.ice_ufrag, audio.ice_pwd) == (OUR_ICE.ufrag, OUR_ICE.pwd)
    assert [str(c) for c in audio.candidates] == [str(c) for c in OUR_ICE.candidates]
    assert audio.rtcp_mux and audio.attribute("rtcp-rsize") == ""
    assert audio.attribute("msid") == "stream track"
    assert ("ssrc", "1234 cname:ourcname") in audio.attributes
    assert not audio.crypto and audio.attribute("extmap") is None and audio.attribute("rtcp-fb") is None


def test_answer_without_rtcp_rsize_in_the_offer_has_none() -> None:
    offer = CHROMIUM_OFFER.replace(b"a=rtcp-rsize\r\n", b"").replace(b"a=rtcp-rsize\n", b"")
    answer, _ = create_answer(parse_sdp(offer), webrtc_local(), session=SdpSession())
    assert answer.media[0].attribute("rtcp-rsize") is None


def test_video_first_offer_bundles_the_audio_mid() -> None:
    """A browser that added video first: audio is the second section, mid 1."""
    text = CHROMIUM_OFFER.decode()
    head, audio, video = text.split("m=")[0], "m=" + text.split("m=")[1], "m=" + text.split("m=")[2]
    swapped = head + video.replace("a=mid:1", "a=mid:0") + audio.replace("a=mid:0", "a=mid:1")
    answer, negotiated = create_answer(parse_sdp(swapped), webrtc_local(), session=SdpSession())
    assert [m.port for m in answer.media] == [0, 40000]
    assert answer.groups == [("BUNDLE", ["1"])] and negotiated.mid == "1"


def test_dtls_offer_refused_without_dtls_fingerprint() -> None:
    offer = b"".join(
        line + b"\n" for line in CHROMIUM_OFFER.splitlines() if not line.startswith(b"a=fingerprint")
    )
    with pytest.raises(NegotiationError) as info:
        create_answer(parse_sdp(offer), webrtc_local(), session=SdpSession())
    assert info.value.status == 488 and "fingerprint" in info.value.warning


def test_dtls_offer_refused_when_srtp_is_off() -> None:
    """srtp=off means no encryption at all: a DTLS-SRTP offer cannot be answered (488, Warning 301)."""
    local = LocalMedia(address="198.51.100.1", port=40000, srtp="off")
    with pytest.raises(NegotiationError) as info:
        create_answer(parse_sdp(CHROMIUM_OFFER), local, session=SdpSession())
    assert info.value.status == 488 and info.value.code == 301


# ------------------------------------------------------------------ our offer


def test_webrtc_offer_has_the_profile_browsers_expect() -> None:
    """JSEP §5.2.1: SAVPF, a=fingerprint, a=setup:actpass, a=mid, BUNDLE, rtcp-mux, rtcp-rsize, ICE."""
    offer = create_offer(webrtc_local(), session=SdpSession())
    audio = offer.media[0]
    assert audio.proto == "UDP/TLS/RTP/SAVPF"
    assert audio.fingerprints == [OUR_FINGERPRINT] and audio.setup == "actpass"
    assert audio.mid == "0" and offer.groups == [("BUNDLE", ["0"])]
    assert audio.rtcp_mux and audio.attribute("rtcp-rsize") == "" and audio.rtcp is None
    assert audio.ice_ufrag == OUR_ICE.ufrag and audio.candidates
    assert not audio.crypto, "no SDES keys in a DTLS-SRTP offer (RFC 5763 §5)"
    assert audio.attribute("msid") == "stream track"
    assert [c.rtpmap for c in audio.codecs][0] == "opus/48000/2"


def test_classic_offer_is_unchanged_by_the_webrtc_fields() -> None:
    offer = create_offer(LocalMedia(address="198.51.100.1", port=40000), session=SdpSession())
    audio = offer.media[0]
    assert audio.proto == "RTP/AVP" and audio.crypto and not audio.fingerprints and not offer.groups


@pytest.mark.parametrize(
    ("their_setup", "our_role"), [("active", "server"), ("passive", "client"), (None, "server")]
)
def test_our_dtls_role_follows_the_answers_setup(their_setup: str | None, our_role: str) -> None:
    """RFC 5763 §5: an active answerer is the client; no a=setup means active (RFC 4145 §4)."""
    local = webrtc_local()
    offer = create_offer(local, session=SdpSession())
    answer = create_offer(webrtc_local(address="203.0.113.9", port=50000), session=SdpSession())
    answer.media[0].setup = their_setup
    negotiated = negotiate_answer(offer, parse_sdp(answer.serialize()), local)
    assert negotiated.dtls_role == our_role
    assert negotiated.dtls is not None and negotiated.dtls.fingerprints == [OUR_FINGERPRINT]


def test_answer_changing_the_profile_is_refused() -> None:
    local = webrtc_local()
    offer = create_offer(local, session=SdpSession())
    plain = create_offer(LocalMedia(address="203.0.113.9", port=50000, srtp="off"), session=SdpSession())
    with pytest.raises(NegotiationError) as info:
        negotiate_answer(offer, plain, local)
    assert info.value.code == 301


def test_webrtc_profile_needs_ice_and_a_fingerprint() -> None:
    with pytest.raises(ValueError):
        webrtc_local(ice=None)
    with pytest.raises(ValueError):
        webrtc_local(accept_dtls=False, dtls_fingerprints=[])
    with pytest.raises(ValueError):
        webrtc_local(srtp="off")
