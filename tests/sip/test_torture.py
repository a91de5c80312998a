"""RFC 4475 "SIP Torture Test Messages": each message handled as the RFC says.

The messages in data/rfc4475 are byte for byte those of the RFC's archive (RFC 4475
Appendix A); manifest.tsv lists the section and the expectation of each.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from softphone.sip.incoming import Drop, Reject, classify
from softphone.sip.inspect import UasPolicy, inspect_request
from softphone.sip.message import Request, Response

DATA = Path(__file__).parent / "data" / "rfc4475"
with open(DATA / "manifest.tsv", encoding="utf-8") as _manifest:
    MANIFEST = {row["filename"]: row for row in csv.DictReader(_manifest, delimiter="\t")}

# What a user agent (not a proxy, not a registrar) that serves INVITE, OPTIONS, BYE ...
# answers to each message: a status code, "drop", or "accept" (handed to the application).
UA_POLICY = UasPolicy(
    methods=frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "MESSAGE", "NOTIFY", "REFER"}),
    extensions=frozenset({"replaces", "norefersub"}),
    accepted_types=frozenset({"application/sdp"}),
)

EXPECTED: dict[str, int | str] = {
    # §3.1.1 valid messages
    "wsinv.dat": "accept",
    "intmeth.dat": 501,
    "esc01.dat": "accept",
    "escnull.dat": 405,  # REGISTER to a UA that is no registrar
    "esc02.dat": 501,
    "lwsdisp.dat": "accept",
    "longreq.dat": "accept",
    "dblreq.dat": 405,  # the REGISTER is processed; trailing octets ignored
    "semiuri.dat": "accept",
    "transports.dat": "accept",
    "mpart01.dat": 415,  # multipart/signed is not a type this UA accepts
    "unreason.dat": "accept",
    "noreason.dat": "accept",
    # §3.1.2 invalid messages
    "badinv01.dat": 400,
    "clerr.dat": 400,
    "ncl.dat": 400,
    "scalar02.dat": 400,
    "scalarlg.dat": "drop",
    "quotbal.dat": 400,
    "ltgtruri.dat": 400,
    "lwsruri.dat": 400,
    "lwsstart.dat": 400,
    "trws.dat": 400,
    "escruri.dat": "accept",  # may be ignored; headers in the URI are never applied
    "baddate.dat": "accept",
    "regbadct.dat": 400,
    "badaspec.dat": 400,
    "baddn.dat": 400,
    "badvers.dat": 505,
    "mismatch01.dat": 400,
    "mismatch02.dat": 501,
    "bigcode.dat": "drop",
    # §3.2 transaction layer
    "badbranch.dat": "accept",
    # §3.3 application layer
    "insuf.dat": 400,
    "unkscm.dat": 416,
    "novelsc.dat": 416,
    "unksm2.dat": 405,
    "bext01.dat": 420,
    "invut.dat": 415,
    "regaut01.dat": 405,
    "multi01.dat": 400,
    "mcl01.dat": 400,
    "bcast.dat": "accept",  # a response: parsed; the transaction layer drops it as stray
    "zeromf.dat": "accept",
    "cparam01.dat": 405,
    "cparam02.dat": 405,
    "regescrt.dat": 405,
    "sdp01.dat": 406,
    # §3.4 backward compatibility
    "inv2543.dat": "accept",
    # not referenced by the RFC's text: a request line without a version
    "test.dat": "drop",
}


def outcome(data: bytes) -> int | str:
    result = classify(data)
    if isinstance(result, Drop):
        return "drop"
    if isinstance(result, Reject):
        return result.response.status
    if isinstance(result, Response):
        return "accept"
    assert isinstance(result, Request)
    response = inspect_request(result, UA_POLICY, to_tag="t1")
    return "accept" if response is None else response.status


def test_every_archive_message_has_an_expectation() -> None:
    assert set(EXPECTED) == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_torture_message_handled_as_rfc4475_says(name: str) -> None:
    """RFC 4475 §3: each message parses, is rejected with the right status, or is dropped."""
    data = (DATA / name).read_bytes()
    assert outcome(data) == EXPECTED[name], MANIFEST[name]["expectation"]


def test_baddn_with_final_blank_line_is_rejected_too() -> None:
    """RFC 4475 §3.1.2.15: unquoted display names with non-token characters get 400."""
    data = (DATA / "variants" / "baddn-terminated.dat").read_bytes()
    assert outcome(data) == 400


def test_rejection_reason_names_the_problem() -> None:
    """RFC 4475 §3.3.8: the 400 for duplicate single-value headers says which."""
    result = classify((DATA / "multi01.dat").read_bytes())
    assert isinstance(result, Reject)
    assert "Multiple" in result.response.reason


def test_trailing_octets_in_a_datagram_are_ignored() -> None:
    """RFC 4475 §3.1.1.8 / RFC 3261 §18.3: octets beyond Content-Length are noise."""
    result = classify((DATA / "dblreq.dat").read_bytes())
    assert isinstance(result, Request)
    assert result.method == "REGISTER"
    assert result.body == b""


def test_escaped_nul_does_not_truncate_the_user_part() -> None:
    """RFC 4475 §3.1.1.4: %00 in a user part is a character like any other."""
    result = classify((DATA / "escnull.dat").read_bytes())
    assert isinstance(result, Request)
    users = [c.sip_uri.user for c in result.contacts]
    assert len(users) == 2 and users[0] != users[1]
    assert all(u is not None and "\x00" in u for u in users)


def test_escaped_method_name_is_not_the_method_it_spells() -> None:
    """RFC 4475 §3.1.1.5: RE%47IST%45R is an unknown method, not REGISTER."""
    result = classify((DATA / "esc02.dat").read_bytes())
    assert isinstance(result, Request)
    assert result.method == "RE%47IST%45R"
    assert len(result.contacts) == 2  # C%6Fntact is an unknown header


def test_escaped_headers_in_request_uri_are_never_applied() -> None:
    """RFC 4475 §3.1.2.11: ?Route=... in a Request-URI does not become a Route header."""
    result = classify((DATA / "escruri.dat").read_bytes())
    assert isinstance(result, Request)
    assert "Route" not in result.headers


def test_multipart_body_is_framed_by_content_length() -> None:
    """RFC 4475 §3.1.1.11: a binary body with NULs and bare LFs is kept intact."""
    data = (DATA / "mpart01.dat").read_bytes()
    result = classify(data)
    assert isinstance(result, Request)
    assert len(result.body) == int(result.headers.get("Content-Length") or 0)
    assert b"\x00" in result.body


def test_semicolon_user_part() -> None:
    """RFC 4475 §3.1.1.9: the user part is 'user;par=u@example.net'."""
    result = classify((DATA / "semiuri.dat").read_bytes())
    assert isinstance(result, Request)
    assert result.uri.user == "user;par=u@example.net"  # type: ignore[union-attr]
