"""SDES key handling and SRTP/SRTCP protection (softphone.media.srtp)."""

from __future__ import annotations

import base64

import pytest
from aiortc.rtp import RtcpRrPacket, RtcpSdesPacket, RtcpSourceInfo, RtpPacket

from softphone.media.srtp import SUPPORTED_SUITES, SrtpContext, SrtpError, SrtpKey, auth_tag_length

SUITES = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
KEY = bytes(range(30))
KEY_B64 = base64.b64encode(KEY).decode()


def rtp(seq: int, payload: bytes = b"\x01\x02\x03" * 40, ssrc: int = 0x12345678) -> bytes:
    return RtpPacket(
        payload_type=0, sequence_number=seq, timestamp=seq * 160, ssrc=ssrc, payload=payload
    ).serialize()


def rtcp(ssrc: int = 0x12345678) -> bytes:
    sdes = RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=ssrc, items=[(1, b"alice@example")])])
    return bytes(RtcpRrPacket(ssrc=ssrc)) + bytes(sdes)


def pair(suite: str) -> tuple[SrtpContext, SrtpContext]:
    a, b = SrtpKey.generate(suite), SrtpKey.generate(suite)
    return SrtpContext(tx=a, rx=b), SrtpContext(tx=b, rx=a)


# ---------------------------------------------------------------- SrtpKey


def test_from_inline_plain() -> None:
    key = SrtpKey.from_inline("AES_CM_128_HMAC_SHA1_80", f"inline:{KEY_B64}")
    assert key.suite == "AES_CM_128_HMAC_SHA1_80"
    assert key.key_salt == KEY
    assert key.to_inline() == f"inline:{KEY_B64}"


@pytest.mark.parametrize("lifetime", ["2^20", "2^31", "1048576"])
def test_from_inline_lifetime_ignored(lifetime: str) -> None:
    key = SrtpKey.from_inline("AES_CM_128_HMAC_SHA1_32", f"inline:{KEY_B64}|{lifetime}")
    assert key.key_salt == KEY
    assert key.suite == "AES_CM_128_HMAC_SHA1_32"


@pytest.mark.parametrize("params", [f"inline:{KEY_B64}|2^20|1:4", f"inline:{KEY_B64}|1:1"])
def test_from_inline_mki_rejected(params: str) -> None:
    with pytest.raises(ValueError, match="MKI"):
        SrtpKey.from_inline("AES_CM_128_HMAC_SHA1_80", params)


@pytest.mark.parametrize(
    "params",
    [
        "inline:not*base64!",
        "inline:" + base64.b64encode(bytes(16)).decode(),  # too short
        "inline:" + base64.b64encode(bytes(46)).decode(),  # AES-256 size
        f"uri:{KEY_B64}",
        KEY_B64,
        f"inline:{KEY_B64}|forever",
        f"inline:{KEY_B64} UNENCRYPTED_SRTCP",
        f"inline:{KEY_B64}|2^20|1:4;inline:{KEY_B64}|2^20|2:4",
    ],
)
def test_from_inline_bad(params: str) -> None:
    with pytest.raises(ValueError):
        SrtpKey.from_inline("AES_CM_128_HMAC_SHA1_80", params)


def test_unsupported_suite() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        SrtpKey.from_inline("AEAD_AES_256_GCM", f"inline:{KEY_B64}")
    with pytest.raises(ValueError):
        SrtpKey("F8_128_HMAC_SHA1_80", KEY)


def test_generate_is_random_and_round_trips() -> None:
    keys = {SrtpKey.generate(suite).key_salt for suite in SUITES for _ in range(4)}
    assert len(keys) == 8
    key = SrtpKey.generate("AES_CM_128_HMAC_SHA1_32")
    assert len(key.key_salt) == 30
    assert SrtpKey.from_inline(key.suite, key.to_inline()) == key


def test_key_not_in_repr() -> None:
    key = SrtpKey("AES_CM_128_HMAC_SHA1_80", KEY)
    assert KEY_B64 not in repr(key) and repr(KEY) not in repr(key)
    assert "AES_CM_128_HMAC_SHA1_80" in repr(key)


def test_suites_and_tag_lengths() -> None:
    assert SUPPORTED_SUITES == ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")
    assert auth_tag_length("AES_CM_128_HMAC_SHA1_80") == 10
    assert auth_tag_length("AES_CM_128_HMAC_SHA1_32") == 4
    assert SrtpKey.generate("AES_CM_128_HMAC_SHA1_32").auth_tag_length == 4


# ---------------------------------------------------------------- SrtpContext


@pytest.mark.parametrize("suite", SUITES)
def test_rtp_round_trip(suite: str) -> None:
    alice, bob = pair(suite)
    for seq in range(1000, 1020):
        plain = rtp(seq)
        protected = alice.protect_rtp(plain)
        assert protected[:12] == plain[:12]  # header in clear
        assert protected[12 : -auth_tag_length(suite)] != plain[12:]  # payload encrypted
        assert bob.unprotect_rtp(protected) == plain
        # and the other way
        assert alice.unprotect_rtp(bob.protect_rtp(plain)) == plain


@pytest.mark.parametrize(("suite", "tag"), [("AES_CM_128_HMAC_SHA1_80", 10), ("AES_CM_128_HMAC_SHA1_32", 4)])
def test_tag_length(suite: str, tag: int) -> None:
    alice, _ = pair(suite)
    plain = rtp(1)
    assert len(alice.protect_rtp(plain)) == len(plain) + tag


@pytest.mark.parametrize("suite", SUITES)
def test_rtcp_round_trip(suite: str) -> None:
    alice, bob = pair(suite)
    for _ in range(3):
        plain = rtcp()
        protected = alice.protect_rtcp(plain)
        # SRTCP adds E flag + index (4 bytes) and the 80-bit tag (RFC 3711: SRTCP always uses 80 bits)
        assert len(protected) == len(plain) + 4 + 10
        assert bob.unprotect_rtcp(protected) == plain


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_packet_rejected(suite: str) -> None:
    alice, bob = pair(suite)
    protected = bytearray(alice.protect_rtp(rtp(7)))
    protected[20] ^= 0x01
    with pytest.raises(SrtpError):
        bob.unprotect_rtp(bytes(protected))
    # header tampering is detected too (authenticated, not encrypted)
    protected = bytearray(alice.protect_rtp(rtp(8)))
    protected[1] ^= 0x01
    with pytest.raises(SrtpError):
        bob.unprotect_rtp(bytes(protected))


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_rtcp_rejected(suite: str) -> None:
    alice, bob = pair(suite)
    protected = bytearray(alice.protect_rtcp(rtcp()))
    protected[9] ^= 0x80
    with pytest.raises(SrtpError):
        bob.unprotect_rtcp(bytes(protected))


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_key_rejected(suite: str) -> None:
    alice, _ = pair(suite)
    eve = SrtpContext(tx=SrtpKey.generate(suite), rx=SrtpKey.generate(suite))
    with pytest.raises(SrtpError):
        eve.unprotect_rtp(alice.protect_rtp(rtp(1)))
    with pytest.raises(SrtpError):
        eve.unprotect_rtcp(alice.protect_rtcp(rtcp()))


@pytest.mark.parametrize("suite", SUITES)
def test_replay_rejected(suite: str) -> None:
    alice, bob = pair(suite)
    protected = alice.protect_rtp(rtp(42))
    assert bob.unprotect_rtp(protected) == rtp(42)
    with pytest.raises(SrtpError, match="replay"):
        bob.unprotect_rtp(protected)
    protected_rtcp = alice.protect_rtcp(rtcp())
    bob.unprotect_rtcp(protected_rtcp)
    with pytest.raises(SrtpError):
        bob.unprotect_rtcp(protected_rtcp)


def test_out_of_order_within_window_accepted() -> None:
    alice, bob = pair("AES_CM_128_HMAC_SHA1_80")
    packets = [alice.protect_rtp(rtp(seq)) for seq in range(100, 110)]
    for index in [0, 2, 1, 5, 3, 4, 9, 6, 8, 7]:
        assert bob.unprotect_rtp(packets[index]) == rtp(100 + index)


def test_several_ssrcs_and_mismatched_suites() -> None:
    tx = SrtpKey.generate("AES_CM_128_HMAC_SHA1_32")
    rx = SrtpKey.generate("AES_CM_128_HMAC_SHA1_80")
    alice, bob = SrtpContext(tx=tx, rx=rx), SrtpContext(tx=rx, rx=tx)
    for ssrc in (1, 2, 0xFFFFFFFF):
        plain = rtp(5, ssrc=ssrc)
        assert bob.unprotect_rtp(alice.protect_rtp(plain)) == plain
        assert alice.unprotect_rtp(bob.protect_rtp(plain)) == plain


def test_garbage_is_srtp_error() -> None:
    _, bob = pair("AES_CM_128_HMAC_SHA1_80")
    for garbage in (b"", b"\x80", b"\x80\x00" + bytes(20), bytes(2000)):
        with pytest.raises(SrtpError):
            bob.unprotect_rtp(garbage)
        with pytest.raises(SrtpError):
            bob.unprotect_rtcp(garbage)


# ---------------------------------------------------------------- libsrtp called without pylibsrtp's layers


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_direct_calls_protect_exactly_as_pylibsrtp_does(suite: str) -> None:
    """SrtpContext calls libsrtp on pylibsrtp's own context and buffer (``_DirectSession``): the
    packets are those of ``Session.protect``, and a fresh pylibsrtp session reads them."""
    tx, rx = SrtpKey.generate(suite), SrtpKey.generate(suite)
    ours = SrtpContext(tx=tx, rx=rx)
    assert ours._tx_direct is not None and ours._rx_direct is not None
    theirs = SrtpContext(tx=tx, rx=rx)
    theirs._tx_direct = theirs._rx_direct = None  # pylibsrtp's Session methods
    peer = SrtpContext(tx=rx, rx=tx)
    peer._tx_direct = peer._rx_direct = None
    for seq in range(1000, 1010):
        plain = rtp(seq, payload=bytes(range(seq % 50, seq % 50 + 160)))
        protected = ours.protect_rtp(plain)
        assert protected == theirs.protect_rtp(plain)
        assert ours.unprotect_rtp(peer.protect_rtp(plain)) == plain


def test_direct_calls_raise_srtp_errors_with_libsrtps_reason() -> None:
    alice, bob = pair("AES_CM_128_HMAC_SHA1_80")
    packet = alice.protect_rtp(rtp(7))
    bob.unprotect_rtp(packet)
    with pytest.raises(SrtpError, match="SRTP unprotect failed: replay check failed"):
        bob.unprotect_rtp(packet)
    with pytest.raises(SrtpError, match="authentication failure"):
        bob.unprotect_rtp(alice.protect_rtp(rtp(8))[:-1] + b"\x00")
    with pytest.raises(SrtpError, match="SRTP protect failed: packet is too long"):
        alice.protect_rtp(rtp(9, payload=bytes(1500)))
