"""SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 5118 for IPv6; RFC 3966)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softphone.sip.address import parse_address, parse_address_list
from softphone.sip.errors import ParseError
from softphone.sip.uri import AbsoluteUri, SipUri, TelUri, parse_uri


def test_full_sip_uri_components() -> None:
    """RFC 3261 §19.1.1: user, password, host, port, parameters and headers."""
    uri = parse_uri("sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject=project%20x")
    assert isinstance(uri, SipUri)
    assert (uri.user, uri.password, uri.host, uri.port) == ("alice", "secretword", "atlanta.com", 5070)
    assert uri.params == {"transport": "tcp", "lr": None}
    assert uri.transport == "tcp"
    assert uri.headers == {"subject": "project x"}


def test_sips_scheme_is_secure() -> None:
    """RFC 3261 §19.1: sips: asks for TLS on every hop."""
    uri = parse_uri("SIPS:bob@biloxi.com")
    assert isinstance(uri, SipUri) and uri.secure and uri.scheme == "sips"


def test_host_is_case_insensitive_user_is_not() -> None:
    """RFC 3261 §19.1.4: hosts compare case-insensitively, users case-sensitively."""
    assert parse_uri("sip:alice@AtLanTa.CoM") == parse_uri("sip:alice@atlanta.com")
    assert parse_uri("sip:ALICE@atlanta.com") != parse_uri("sip:alice@atlanta.com")


def test_escaped_characters_equal_their_plain_form() -> None:
    """RFC 3261 §19.1.4: %61lice is alice."""
    assert parse_uri("sip:%61lice@atlanta.com") == parse_uri("sip:alice@atlanta.com")


def test_escapes_are_undone_once_only() -> None:
    """RFC 4475 §3.1.1.3: value%2541 is value%41, not valueA."""
    uri = parse_uri("sip:value%2541@example.com")
    assert isinstance(uri, SipUri) and uri.user == "value%41"


def test_uri_parameters_present_in_one_only_are_ignored_in_comparison() -> None:
    """RFC 3261 §19.1.4: a parameter only in one URI does not make them differ..."""
    assert parse_uri("sip:carol@chicago.com;newparam=5") == parse_uri("sip:carol@chicago.com")


def test_transport_parameter_in_one_only_makes_uris_differ() -> None:
    """RFC 3261 §19.1.4: ...except user, ttl, method, maddr and transport."""
    assert parse_uri("sip:carol@chicago.com;transport=tcp") != parse_uri("sip:carol@chicago.com")


def test_ipv6_reference_with_port() -> None:
    """RFC 5118 §4.1: IPv6 references are bracketed; the port follows the bracket."""
    uri = parse_uri("sip:[2001:db8::10]:5070")
    assert isinstance(uri, SipUri)
    assert (uri.host, uri.port) == ("2001:db8::10", 5070)
    assert str(uri) == "sip:[2001:db8::10]:5070"


def test_ipv6_without_brackets_is_rejected() -> None:
    """RFC 5118 §4.2: an unbracketed IPv6 address is ambiguous and malformed."""
    with pytest.raises(ParseError):
        parse_uri("sip:2001:db8::10")


def test_bad_ipv6_reference_is_rejected() -> None:
    """RFC 5118 §4.3: three colons in a row are not an IPv6 address."""
    with pytest.raises(ParseError):
        parse_uri("sip:user@[2001:db8:::192.0.2.1]")


def test_tel_uri() -> None:
    """RFC 3966: global numbers with visual separators and parameters."""
    uri = parse_uri("tel:+1-201-555-0123;phone-context=example.com")
    assert isinstance(uri, TelUri)
    assert uri.number == "+1-201-555-0123"
    assert uri.params == {"phone-context": "example.com"}


def test_unknown_scheme_is_kept_opaque() -> None:
    """RFC 4475 §3.3.4: isbn:, http: and other schemes parse as absolute URIs."""
    uri = parse_uri("isbn:2983792873")
    assert isinstance(uri, AbsoluteUri) and str(uri) == "isbn:2983792873"


def test_serialising_escapes_reserved_characters() -> None:
    """RFC 3261 §19.1.2: characters outside the user set are escaped."""
    uri = SipUri(host="example.com", user="a b@c")
    assert str(uri) == "sip:a%20b%40c@example.com"
    assert parse_uri(str(uri)) == uri


@pytest.mark.parametrize(
    "bad", ["sip:", "sip:@host", "sip:user@host:99999", "sip:us er@host", "sip:user@ho%st", "nonsense"]
)
def test_malformed_uris_raise_parse_error(bad: str) -> None:
    """RFC 3261 §25.1: anything off the grammar is a ParseError, never another exception."""
    with pytest.raises(ParseError):
        parse_uri(bad)


@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_parse_error(text: str) -> None:
    try:
        parse_uri(text)
    except ParseError:
        pass


@given(
    st.from_regex(r"[a-z][a-z0-9.\-_]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}", fullmatch=True),
    st.one_of(st.none(), st.integers(1, 65535)),
)
def test_serialise_then_parse_round_trips(user: str, host: str, port: int | None) -> None:
    uri = SipUri(host=host, user=user, port=port)
    assert parse_uri(str(uri)) == uri


def test_name_addr_with_quoted_display_name_and_tag() -> None:
    """RFC 3261 §20.20: From with a display name and a tag parameter."""
    addr = parse_address('"Bob \\"the\\" Builder" <sip:bob@biloxi.com>;tag=a6c85cf')
    assert addr.display_name == 'Bob "the" Builder'
    assert addr.tag == "a6c85cf"
    assert str(addr.uri) == "sip:bob@biloxi.com"


def test_addr_spec_parameters_belong_to_the_header() -> None:
    """RFC 3261 §20.10: without <>, ;params after the URI are header parameters."""
    addr = parse_address("sip:alice@atlanta.com;tag=1928301774")
    assert addr.tag == "1928301774"
    assert isinstance(addr.uri, SipUri) and addr.uri.params == {}


def test_uri_parameters_inside_brackets_stay_in_the_uri() -> None:
    """RFC 4475 §3.3.13: <sip:...;unknownparam> keeps the parameter in the URI."""
    addr = parse_address("<sip:user@host.example.com;unknownparam>")
    assert isinstance(addr.uri, SipUri) and "unknownparam" in addr.uri.params
    assert addr.params == {}


def test_token_display_name_without_quotes() -> None:
    """RFC 3261 §25.1: a display name may be a sequence of tokens."""
    assert parse_address("Bob Smith <sip:bob@biloxi.com>").display_name == "Bob Smith"


def test_contact_list_with_commas_in_display_names() -> None:
    """RFC 3261 §7.3.1: commas inside quotes do not split values."""
    addrs = parse_address_list('"Doe, John" <sip:j@a.com>;q=0.5, <sip:k@b.com>')
    assert [str(a.uri) for a in addrs] == ["sip:j@a.com", "sip:k@b.com"]
    assert addrs[0].params == {"q": "0.5"}


def test_address_serialises_in_name_addr_form() -> None:
    addr = parse_address("Alice <sip:alice@atlanta.com>;tag=88")
    assert str(addr) == '"Alice" <sip:alice@atlanta.com>;tag=88'
