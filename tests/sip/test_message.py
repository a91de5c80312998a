"""Parsing and serialising whole messages (RFC 3261 §7, §18.3, §20)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softphone.sip.errors import ParseError
from softphone.sip.framing import KeepAlivePing, KeepAlivePong, StreamFramer
from softphone.sip.headers import Headers, parse_via
from softphone.sip.incoming import Drop, Reject, classify
from softphone.sip.message import Request, Response, make_response, parse_message

INVITE = (
    b"INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)


def test_request_line_and_headers() -> None:
    """RFC 3261 §7.1: method, Request-URI and version; headers by name."""
    msg = parse_message(INVITE)
    assert isinstance(msg, Request)
    assert msg.method == "INVITE"
    assert str(msg.uri) == "sip:bob@biloxi.com"
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.com"
    assert (msg.cseq.number, msg.cseq.method) == (314159, "INVITE")
    assert msg.from_.tag == "1928301774"
    assert msg.body == b"v=0\n"


def test_header_names_are_case_insensitive() -> None:
    """RFC 3261 §7.3.1: field names are case-insensitive."""
    msg = parse_message(INVITE.replace(b"Call-ID", b"cALL-iD"))
    assert msg.headers.get("call-id") == "a84b4c76e66710@pc33.atlanta.com"


def test_compact_forms_expand() -> None:
    """RFC 3261 §7.3.3: compact forms i, f, t, v, m, l and c expand to their full names."""
    data = (
        b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:x@y>;tag=1\r\n"
        b"t: <sip:a@b>\r\ni: abc\r\nCSeq: 1 OPTIONS\r\nm: <sip:x@h>\r\nl: 0\r\n\r\n"
    )
    msg = parse_message(data)
    assert msg.call_id == "abc"
    assert msg.top_via.branch == "z9hG4bK1"
    assert [str(c.uri) for c in msg.contacts] == ["sip:x@h"]
    assert b"Call-ID: abc" in msg.serialize()


def test_folded_header_lines_are_joined() -> None:
    """RFC 3261 §7.3.1: a line starting with whitespace continues the previous one."""
    data = INVITE.replace(
        b"Max-Forwards: 70\r\n", b"Subject: I know you're there,\r\n pick up\r\nMax-Forwards: 70\r\n"
    )
    assert parse_message(data).headers.get("Subject") == "I know you're there, pick up"


def test_comma_separated_values_are_split_for_list_headers() -> None:
    """RFC 3261 §7.3.1: Via a, b is the same as two Via lines."""
    data = INVITE.replace(
        b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
        b"Via: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/TCP p2:5061;branch=z9hG4bK2",
    )
    vias = parse_message(data).vias
    assert [(v.transport, v.host, v.port) for v in vias] == [("UDP", "p1", None), ("TCP", "p2", 5061)]


def test_authorization_values_are_not_split_on_commas() -> None:
    """RFC 3261 §7.3.1: WWW-Authenticate and Authorization carry commas inside one value."""
    headers = Headers([("WWW-Authenticate", 'Digest realm="a", nonce="b"')])
    assert headers.get_all("WWW-Authenticate") == ['Digest realm="a", nonce="b"']


def test_unknown_headers_are_kept_as_they_came() -> None:
    """RFC 3261 §8.2.2: unknown headers are ignored, and proxies keep them unchanged."""
    data = INVITE.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nX-Weird:  a,b ; c\r\n")
    msg = parse_message(data)
    assert msg.headers.get_all("x-weird") == ["a,b ; c"]
    assert b"X-Weird: a,b ; c\r\n" in msg.serialize()


def test_serialising_recomputes_content_length() -> None:
    """RFC 3261 §20.14: Content-Length is the body's size in octets."""
    msg = parse_message(INVITE)
    msg.body = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
    again = parse_message(msg.serialize())
    assert again.body == msg.body
    assert again.headers.get("Content-Length") == str(len(msg.body))


def test_body_of_any_type_is_bytes() -> None:
    """Bodies are octets: a binary body survives a round trip."""
    body = bytes(range(256))
    req = Request(
        "MESSAGE", "sip:bob@biloxi.com", Headers([("Content-Type", "application/octet-stream")]), body
    )
    assert parse_message(req.serialize()).body == body


def test_response_with_empty_reason_phrase() -> None:
    """RFC 4475 §3.1.1.13: 'SIP/2.0 100 ' has an empty reason phrase."""
    msg = parse_message(b"SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n")
    assert isinstance(msg, Response) and msg.status == 100 and msg.reason == ""


def test_via_rport_and_received() -> None:
    """RFC 3581 §4: rport gets the source port, received the source address."""
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;rport=62000;received=192.0.2.4;branch=z9hG4bKx")
    assert (via.rport, via.received) == (62000, "192.0.2.4")
    assert parse_via("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKx").params["rport"] is None


def test_via_received_with_bare_ipv6() -> None:
    """RFC 5118 §4.5: received holds an IPv6 address without brackets."""
    via = parse_via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3")
    assert via.received == "2001:db8::9:255"


def test_make_response_copies_dialog_headers_and_adds_to_tag() -> None:
    """RFC 3261 §8.2.6.2: Via, From, Call-ID and CSeq copied, a To tag added."""
    req = parse_message(INVITE)
    assert isinstance(req, Request)
    resp = make_response(req, 180, to_tag="xyz")
    assert resp.reason == "Ringing"
    assert resp.to.tag == "xyz"
    assert resp.headers.lines("Via") == req.headers.lines("Via")
    assert resp.cseq == req.cseq


def test_stream_framer_cuts_messages_by_content_length() -> None:
    """RFC 3261 §18.3: on streams, Content-Length says where a message ends."""
    framer = StreamFramer()
    frames = framer.feed(INVITE[:50])
    assert frames == []
    frames = framer.feed(INVITE[50:] + INVITE)
    assert frames == [INVITE, INVITE]
    assert framer.pending == 0


def test_stream_framer_reports_keepalives() -> None:
    """RFC 5626 §4.4.1: CRLFCRLF is a ping, CRLF its pong."""
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == [KeepAlivePing()]
    assert framer.feed(b"\r\n") == [KeepAlivePong()]


def test_stream_framer_rejects_bad_content_length() -> None:
    """RFC 4475 §3.1.2.3: a negative Content-Length cannot be framed; close the connection."""
    with pytest.raises(ParseError):
        StreamFramer().feed(INVITE.replace(b"Content-Length: 4", b"Content-Length: -4"))


def test_stream_framer_limits_message_size() -> None:
    with pytest.raises(ParseError):
        StreamFramer(max_size=1000).feed(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n")


def test_missing_content_length_on_a_stream_means_no_body() -> None:
    """RFC 3261 §18.3: a stream message without Content-Length has an empty body."""
    msg = parse_message(INVITE.replace(b"Content-Length: 4\r\n", b""), stream=True)
    assert msg.body == b""


def test_malformed_request_gets_400_with_reason() -> None:
    """RFC 3261 §21.4.1: 400 Bad Request, the reason phrase saying what was wrong."""
    result = classify(INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: x INVITE"))
    assert isinstance(result, Reject)
    assert result.response.status == 400
    assert "CSeq" in result.response.reason


def test_malformed_response_is_dropped() -> None:
    """RFC 3261 §18.1.2: a malformed response is discarded."""
    assert isinstance(classify(b"SIP/2.0 999 Odd\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"), Drop)


def test_oversized_datagram_is_rejected() -> None:
    result = classify(
        INVITE.replace(b"v=0\n", b"x" * 70000).replace(b"Content-Length: 4", b"Content-Length: 70000")
    )
    assert isinstance(result, Drop | Reject)


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_classify_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    classify(data)


@settings(max_examples=300)
@given(st.integers(0, len(INVITE) - 1), st.binary(min_size=1, max_size=8))
def test_classify_never_raises_on_mutated_invite(pos: int, junk: bytes) -> None:
    classify(INVITE[:pos] + junk + INVITE[pos + len(junk) :])
