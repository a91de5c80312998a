#!/usr/bin/env python3
"""atheris target: everything that reads SIP from the network.

Each input is used as

* one UDP datagram and one stream frame for ``softphone.sip.incoming.classify`` (must never raise;
  a Reject's 400 must parse back; a Message must re-serialise to a fixed point);
* the same, one layer down: ``parse_message`` raises MessageParseError only and
  ``validate_request`` / ``validate_response`` ParseError only (classify's last-resort except
  must never be needed);
* a TCP byte stream for ``softphone.sip.framing.StreamFramer`` (limit lowered to 1 kB), cut into
  chunks whose size the first byte chooses (ParseError only; the buffer stays under the limit);
* the source of URIs and addresses for ``parse_uri`` / ``parse_address``: the Request-URI, every
  header value and every comma-separated part of it (ParseError only; fixed point of str()).

Run: ``fuzz/run.sh 60`` or ``.venv/bin/python fuzz/fuzz_sip.py -max_total_time=60 CORPUS_DIR``.
"""

from __future__ import annotations

import _common  # noqa: F401  (sets sys.path)
import atheris

with atheris.instrument_imports(include=["softphone"]):
    from softphone.sip.address import parse_address
    from softphone.sip.errors import ParseError
    from softphone.sip.framing import StreamFramer
    from softphone.sip.incoming import Drop, Reject, classify
    from softphone.sip.message import (
        MAX_MESSAGE_SIZE,
        MessageParseError,
        Request,
        Response,
        parse_message,
        validate_request,
        validate_response,
    )
    from softphone.sip.uri import SipUri, parse_uri

from _common import known_framer_bug, known_unicode_digit_bug, main


def check_layers(data: bytes, stream: bool) -> None:
    """parse_message raises MessageParseError only, validate_* ParseError only: classify's
    last-resort except (ValueError, UnicodeError) must never be needed."""
    try:
        message = parse_message(data, stream=stream)
    except MessageParseError:
        return
    except ValueError as exc:
        if known_unicode_digit_bug(exc, data):
            return
        raise
    try:
        if isinstance(message, Request):
            validate_request(message)
        else:
            validate_response(message)
    except ParseError:
        pass
    except ValueError as exc:
        if not known_unicode_digit_bug(exc, data):
            raise


def check_classify(data: bytes, stream: bool) -> None:
    check_layers(data, stream)
    result = classify(data, stream=stream)
    if isinstance(result, Reject):
        assert 400 <= result.response.status <= 599, result.response.status
        wire = result.response.serialize()
        answer = parse_message(wire)
        assert isinstance(answer, Response) and answer.status == result.response.status
        assert b"\n" not in wire.split(b"\r\n", 1)[0], wire[:200]
    elif isinstance(result, Drop):
        assert isinstance(result.reason, str)
    else:
        assert isinstance(result, Request | Response)
        assert len(data) <= MAX_MESSAGE_SIZE
        wire = result.serialize()
        assert parse_message(wire, stream=stream).serialize() == wire


def check_uri(text: str) -> None:
    try:
        uri = parse_uri(text)
    except ParseError:
        return
    except ValueError as exc:
        if known_unicode_digit_bug(exc, text):
            return
        raise
    first = str(uri)
    again = parse_uri(first)
    assert str(again) == first, (text, first, str(again))
    assert again == uri, (text, first)
    if isinstance(uri, SipUri):
        assert isinstance(again, SipUri)
        assert again.params == uri.params and again.headers == uri.headers, (text, first)


def check_address(text: str) -> None:
    try:
        address = parse_address(text)
    except ParseError:
        return
    except ValueError as exc:
        if known_unicode_digit_bug(exc, text):
            return
        raise
    first = str(address)
    again = parse_address(first)
    assert str(again) == first, (text, first, str(again))
    assert (again.display_name or None, again.params) == (address.display_name or None, address.params)


FRAMER_LIMIT = 1024  # small, so that inputs of a few kB can reach the size checks


def check_framer(data: bytes) -> None:
    chunk = (data[0] % 97) + 1 if data else 1
    framer = StreamFramer(max_size=FRAMER_LIMIT)
    buffered = b""
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        buffered += piece
        if known_framer_bug(buffered):
            return
        try:
            frames = framer.feed(piece)
        except ParseError:
            return
        for frame in frames:
            if isinstance(frame, bytes):
                check_classify(frame, stream=True)
        assert framer.pending <= FRAMER_LIMIT + len(piece), framer.pending
        buffered = buffered[len(buffered) - framer.pending :] if framer.pending else b""


def check_fields(data: bytes) -> None:
    text = data[:4096].decode("utf-8", "surrogateescape")
    lines = text.replace("\r\n", "\n").split("\n")
    first = lines[0].split(" ")
    if len(first) >= 2:
        check_uri(first[1])
    for line in lines[1:40]:
        _, colon, value = line.partition(":")
        value = value.strip(" \t") if colon else line
        check_uri(value)
        check_address(value)
        for part in value.split(",")[:8]:
            check_address(part)


def test_one_input(data: bytes) -> None:
    check_classify(data, stream=False)
    check_classify(data, stream=True)
    check_framer(data)
    check_fields(data)


if __name__ == "__main__":
    main(test_one_input)
