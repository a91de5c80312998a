"""SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from softphone.sip import auth
from softphone.sip.auth import (
    AuthError,
    Challenge,
    DigestClient,
    build_authorization,
    choose_challenge,
    compute_response,
    parse_challenge,
    parse_challenges,
    parse_credentials,
    redact,
    userhash,
    verify_authorization,
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest(realm: str = "atlanta.com", nonce: str = "n1", **extra: str) -> str:
    """A Digest challenge header value; extra values are sent as given (quote them yourself)."""
    params = [f"realm={quoted(realm)}", f"nonce={quoted(nonce)}"]
    params += [f"{name}={value}" for name, value in extra.items()]
    return "Digest " + ", ".join(params)


def hex_of(name: str) -> Callable[[str], str]:
    """An independent H(): SHA-512/256 from `cryptography` (its own OpenSSL build) when installed."""

    def h(text: str) -> str:
        data = text.encode()
        if name == "SHA-512-256":
            try:
                from cryptography.hazmat.primitives import hashes
            except ImportError:
                return hashlib.new("sha512_256", data).hexdigest()
            hasher = hashes.Hash(hashes.SHA512_256())
            hasher.update(data)
            return hasher.finalize().hex()
        return {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[name](data).hexdigest()

    return h


def counter_cnonces(prefix: str = "cn") -> Callable[[], str]:
    numbers: Iterator[int] = iter(range(1, 1_000_000))
    return lambda: f"{prefix}{next(numbers)}"


# RFC 7616 §3.9.1 (errata 4495: the password is "Circle of Life", lower-case "of").
RFC7616_USER = "Mufasa"
RFC7616_PASSWORD = "Circle of Life"
RFC7616_REALM = "http-auth@example.org"
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_MD5 = "8ca523f5e9506fed4657c9700eebdbec"
RFC7616_SHA256 = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
RFC7616_401 = [
    f'Digest realm="{RFC7616_REALM}", qop="auth, auth-int", algorithm=SHA-256, '
    f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"',
    f'Digest realm="{RFC7616_REALM}", qop="auth, auth-int", algorithm=MD5, '
    f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"',
]

RFC3261_CHALLENGE = (
    'Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth,auth-int", '
    'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5'
)


# --------------------------------------------------------------------------
# Parsing challenges
# --------------------------------------------------------------------------


def test_parses_the_rfc3261_challenge() -> None:
    """RFC 3261 §20.44 / §22.4 example challenge: every field lands where it belongs."""
    challenge = parse_challenge(RFC3261_CHALLENGE)
    assert challenge.scheme == "Digest"
    assert challenge.realm == "atlanta.com"
    assert challenge.nonce == "f84f1cec41e6cbe5aea9c8e88d359"
    assert challenge.algorithm == "MD5"
    assert challenge.qop == ("auth", "auth-int")
    assert challenge.opaque == ""
    assert challenge.stale is False
    assert challenge.userhash is False
    assert challenge.params["domain"] == "sip:boxesbybob.com"
    assert challenge.params["stale"] == "FALSE"
    assert challenge.supported


def test_defaults_when_optional_parameters_are_absent() -> None:
    """No algorithm means MD5 (RFC 7616 §3.3); no qop is RFC 2069 mode; opaque stays None."""
    challenge = parse_challenge('Digest realm="r", nonce="n"')
    assert (challenge.algorithm, challenge.qop, challenge.opaque) == ("MD5", (), None)
    assert (challenge.stale, challenge.userhash) == (False, False)


def test_names_are_case_insensitive_scheme_case_is_preserved_algorithm_is_upper_cased() -> None:
    challenge = parse_challenge(
        'dIgEsT REALM="r", Nonce="n", ALGORITHM=sha-512-256-Sess, QOP="Auth", Stale=True'
    )
    assert challenge.scheme == "dIgEsT"
    assert challenge.is_digest
    assert challenge.algorithm == "SHA-512-256-SESS"
    assert challenge.qop == ("auth",)
    assert challenge.stale is True
    assert set(challenge.params) == {"realm", "nonce", "algorithm", "qop", "stale"}


def test_quoted_strings_are_unescaped_and_may_hold_commas() -> None:
    """RFC 3261 §25.1 quoted-pair: backslash escapes any character."""
    challenge = parse_challenge(r'Digest realm="a \"quoted\" realm, with \\ and \, inside", nonce="n"')
    assert challenge.realm == 'a "quoted" realm, with \\ and , inside'


def test_whitespace_and_line_folding_are_tolerated() -> None:
    """LWS around '=' and ',' and folded lines (CRLF + whitespace) are allowed."""
    value = (
        'Digest\r\n  realm = "atlanta.com" ,\r\n\tnonce="abc\r\n def" ,qop=auth,,  algorithm = "SHA-256"  '
    )
    challenge = parse_challenge(value)
    assert challenge.realm == "atlanta.com"
    assert challenge.nonce == "abc def"
    assert challenge.qop == ("auth",)
    assert challenge.algorithm == "SHA-256"


def test_userhash_and_unquoted_values() -> None:
    challenge = parse_challenge("Digest realm=r, nonce=abc/def+ghi, userhash=true, algorithm=SHA-256")
    assert (challenge.realm, challenge.nonce, challenge.userhash) == ("r", "abc/def+ghi", True)


def test_one_header_value_may_hold_several_challenges() -> None:
    """RFC 7235 §4.1: a field value is a comma list of challenges, each with comma-separated params."""
    value = (
        'Digest realm="a", nonce="1", algorithm=MD5, Basic realm="b", '
        'Digest realm="c", qop="auth,auth-int", nonce="3", Negotiate, NTLM abc123=='
    )
    challenges = parse_challenges([value])
    assert [(c.scheme, c.realm) for c in challenges] == [
        ("Digest", "a"),
        ("Basic", "b"),
        ("Digest", "c"),
        ("Negotiate", ""),
        ("NTLM", ""),
    ]
    assert challenges[2].qop == ("auth", "auth-int")
    assert challenges[4].token68 == "abc123=="
    assert parse_challenge(value).realm == "a"  # parse_challenge gives the first one


def test_other_schemes_are_parsed_but_not_usable() -> None:
    basic = parse_challenge('Basic realm="WallyWorld"')
    assert (basic.scheme, basic.realm, basic.supported, basic.strength) == ("Basic", "WallyWorld", False, 0)


def test_parse_challenges_skips_unparseable_values_and_keeps_the_rest() -> None:
    challenges = parse_challenges(
        ['Digest realm="broken', digest(nonce="ok1"), "", 'Digest realm="no nonce"', digest(nonce="ok2")]
    )
    assert [c.nonce for c in challenges] == ["ok1", "ok2"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        ",,",
        "Digest",  # no realm, no nonce
        'Digest realm="r"',  # no nonce
        'Digest nonce="n"',  # no realm
        'Digest realm="r", nonce="unterminated',
        'Digest realm="r" nonce="n"',  # missing comma
        'Digest realm="r", realm="s", nonce="n"',  # duplicate parameter
        'Digest realm="r", nonce="n", =x',
        'Digest realm="r", nonce="n", qop=',
        'Digest realm="r\x00", nonce="n"',  # control character in a quoted string
        'Digest realm="r\nx", nonce="n"',  # bare newline is not folding
        'Digest realm="r", nonce="n", stale="true"x',
        'Digest"realm"',
        "Digest abc==",  # token68 is not Digest syntax
        '=Digest realm="r"',
        '"Digest" realm="r", nonce="n"',
        'Digest realm="r\\',
    ],
)
def test_malformed_values_raise_auth_error(value: str) -> None:
    with pytest.raises(AuthError):
        parse_challenge(value)


HEADERISH = st.lists(
    st.sampled_from(
        [
            "Digest",
            "Basic",
            " ",
            ",",
            "=",
            '"',
            "\\",
            "\r\n",
            "\r\n ",
            "\t",
            "realm",
            "nonce",
            "qop",
            "auth",
            "auth-int",
            "algorithm",
            "SHA-256",
            "MD5-sess",
            "stale",
            "true",
            "userhash",
            "abc==",
            "é",
            "\x00",
            "\ud7ff",
            "x",
        ]
    ),
    max_size=30,
).map("".join)
ANY_TEXT = st.one_of(st.text(), HEADERISH)


@given(ANY_TEXT)
def test_parse_challenge_on_arbitrary_text_raises_only_auth_error(value: str) -> None:
    try:
        challenge = parse_challenge(value)
    except AuthError:
        return
    assert isinstance(challenge, Challenge)
    if challenge.is_digest and challenge.token68 is None:
        assert "realm" in challenge.params and "nonce" in challenge.params


@given(st.lists(ANY_TEXT, max_size=4))
def test_parse_challenges_never_raises(values: list[str]) -> None:
    assert all(isinstance(c, Challenge) for c in parse_challenges(values))


@given(ANY_TEXT)
def test_parse_credentials_and_verification_of_arbitrary_text_fail_cleanly(value: str) -> None:
    try:
        parse_credentials(value)
    except AuthError:
        pass
    assert verify_authorization(value, method="REGISTER", password="p") in (True, False)
    assert isinstance(redact(value), str)


# --------------------------------------------------------------------------
# Choosing a challenge
# --------------------------------------------------------------------------


def test_choose_the_strongest_supported_algorithm_whatever_the_order() -> None:
    """SHA-512-256 > SHA-256 > MD5, whatever the header order.

    RFC 8760 §2.4 says to use the topmost supported header field "unless a local policy dictates
    otherwise"; ranking by strength is that policy, against the reordering downgrade of RFC 8760 §3.
    """
    values = [
        digest(nonce="md5", algorithm="MD5"),
        digest(nonce="sha512", algorithm="SHA-512-256"),
        digest(nonce="sha256", algorithm="SHA-256"),
    ]
    for rotation in range(3):
        rotated = values[rotation:] + values[:rotation]
        chosen = choose_challenge(parse_challenges(rotated))
        assert chosen is not None and chosen.nonce == "sha512"


def test_sess_variants_rank_with_their_base_algorithm_and_ties_go_to_the_first() -> None:
    challenges = parse_challenges(
        [
            digest(nonce="md5-sess", algorithm="MD5-sess"),
            digest(nonce="sha256-sess", algorithm="SHA-256-sess", qop='"auth"'),
            digest(nonce="sha256", algorithm="SHA-256", qop='"auth"'),
        ]
    )
    chosen = choose_challenge(challenges)
    assert chosen is not None
    assert (chosen.nonce, chosen.algorithm) == ("sha256-sess", "SHA-256-SESS")


def test_unknown_algorithms_schemes_and_qops_are_ignored() -> None:
    unusable = parse_challenges(
        [
            digest(nonce="aka", algorithm="AKAv1-MD5"),
            digest(nonce="sha3", algorithm="SHA3-256"),
            digest(nonce="conf", qop='"auth-conf"'),
            'Basic realm="r"',
            "Negotiate abc==",
        ]
    )
    assert len(unusable) == 5
    assert choose_challenge(unusable) is None
    md5 = parse_challenge(digest(nonce="md5"))
    assert choose_challenge([*unusable, md5]) is md5
    assert choose_challenge([]) is None


# --------------------------------------------------------------------------
# Computing responses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "expected"), [("MD5", RFC7616_MD5), ("SHA-256", RFC7616_SHA256)])
def test_rfc7616_worked_example(algorithm: str, expected: str) -> None:
    """RFC 7616 §3.9.1: GET /dir/index.html as Mufasa, qop=auth, nc=00000001."""
    response = compute_response(
        algorithm=algorithm,
        username=RFC7616_USER,
        realm=RFC7616_REALM,
        password=RFC7616_PASSWORD,
        method="GET",
        uri="/dir/index.html",
        nonce=RFC7616_NONCE,
        nc="00000001",
        cnonce=RFC7616_CNONCE,
        qop="auth",
    )
    assert response == expected


@pytest.mark.parametrize(("algorithm", "expected"), [("MD5", RFC7616_MD5), ("SHA-256", RFC7616_SHA256)])
def test_rfc7616_worked_example_authorization_header(algorithm: str, expected: str) -> None:
    """RFC 7616 §3.9.1: the whole Authorization header, parameter by parameter."""
    challenge = next(c for c in parse_challenges(RFC7616_401) if c.algorithm == algorithm)
    value = build_authorization(
        challenge,
        username=RFC7616_USER,
        password=RFC7616_PASSWORD,
        method="GET",
        uri="/dir/index.html",
        nc=1,
        cnonce=RFC7616_CNONCE,
    )
    assert parse_credentials(value) == {
        "username": RFC7616_USER,
        "realm": RFC7616_REALM,
        "uri": "/dir/index.html",
        "algorithm": algorithm,
        "nonce": RFC7616_NONCE,
        "nc": "00000001",
        "cnonce": RFC7616_CNONCE,
        "qop": "auth",
        "response": expected,
        "opaque": RFC7616_OPAQUE,
    }
    assert verify_authorization(value, method="GET", password=RFC7616_PASSWORD)


def test_rfc2617_example_and_rfc2069_compatibility() -> None:
    """RFC 2617 §3.5 (qop=auth) and, without qop, the RFC 2069 response H(HA1:nonce:HA2)."""
    common: dict[str, Any] = {
        "algorithm": "MD5",
        "username": "Mufasa",
        "realm": "testrealm@host.com",
        "method": "GET",
        "uri": "/dir/index.html",
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    }
    rfc2617 = compute_response(
        **common, password="Circle Of Life", nc="00000001", cnonce="0a4f113b", qop="auth"
    )
    assert rfc2617 == "6629fae49393a05397450978507c4ef1"
    # Same value as the independent Rust `digest-access` crate's RFC 2069 test.
    rfc2069 = compute_response(**common, password="CircleOfLife", nc=None, cnonce=None, qop=None)
    assert rfc2069 == "1949323746fe6a43ef61f9606e7febea"


RFC8760_REGISTER: dict[str, Any] = {
    "username": "bob",
    "realm": "biloxi.com",
    "password": "zanzibar",
    "method": "REGISTER",
    "uri": "sip:biloxi.com",
    "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    "nc": "00000001",
    "cnonce": "0a4f113b",
    "qop": "auth",
}


def test_rfc8760_sha512_256_cross_checked_by_an_independent_computation() -> None:
    """RFC 8760 §2.1 SIP REGISTER with SHA-512-256, against the formula spelled out by hand."""
    h = hex_of("SHA-512-256")
    p = RFC8760_REGISTER
    ha1 = h(f"{p['username']}:{p['realm']}:{p['password']}")
    ha2 = h(f"{p['method']}:{p['uri']}")
    expected = h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
    assert compute_response(algorithm="SHA-512-256", **p) == expected
    # Pinned (computed by both `cryptography` and hashlib) so a broken environment cannot agree with itself.
    assert expected == "4bf969d821d66b375c5b96ab92a04ea44a9f7a2a259b9351753b177ccd0cd062"


def test_rfc7616_sha512_256_example_printed_values_are_truncated_sha512() -> None:
    """RFC 7616 §3.9.2 prints values computed with SHA-512 cut to 256 bits, not SHA-512/256.

    The printed response ``ae66e67d...`` is reproduced below with truncated SHA-512; real
    SHA-512/256 (what RFC 7616 §3.2 and RFC 8760 specify, and what we compute) gives
    ``3798d413...`` for the same inputs.
    """
    username, realm, password = "J\u00e4s\u00f8n Doe", "api@example.org", "Secret, or not?"
    inputs: dict[str, Any] = {
        "username": username,
        "realm": realm,
        "password": password,
        "method": "GET",
        "uri": "/doe.json",
        "nonce": "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        "nc": "00000001",
        "cnonce": "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        "qop": "auth",
    }

    def truncated_sha512(text: str) -> str:
        return hashlib.sha512(text.encode()).hexdigest()[:64]

    ha1 = truncated_sha512(f"{username}:{realm}:{password}")
    ha2 = truncated_sha512("GET:/doe.json")
    printed = truncated_sha512(f"{ha1}:{inputs['nonce']}:00000001:{inputs['cnonce']}:auth:{ha2}")
    assert printed == "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
    assert truncated_sha512(f"{username}:{realm}") == (
        "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
    )

    ours = compute_response(algorithm="SHA-512-256", **inputs)
    assert ours == "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
    h = hex_of("SHA-512-256")
    real_ha1, real_ha2 = h(f"{username}:{realm}:{password}"), h("GET:/doe.json")
    assert ours == h(f"{real_ha1}:{inputs['nonce']}:00000001:{inputs['cnonce']}:auth:{real_ha2}")
    assert userhash(username, realm, "SHA-512-256") == h(f"{username}:{realm}")


def test_auth_int_hashes_the_body() -> None:
    """RFC 7616 §3.4.3: with qop=auth-int, A2 = method:uri:H(entity-body)."""
    body = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.com\r\n"
    h = hex_of("MD5")
    ha1 = h("alice:atlanta.com:secret")
    ha2 = h(f"INVITE:sip:bob@biloxi.com:{hashlib.md5(body).hexdigest()}")
    expected = h(f"{ha1}:n:00000001:c:auth-int:{ha2}")
    args: dict[str, Any] = {
        "algorithm": "MD5",
        "username": "alice",
        "realm": "atlanta.com",
        "password": "secret",
        "method": "INVITE",
        "uri": "sip:bob@biloxi.com",
        "nonce": "n",
        "nc": "00000001",
        "cnonce": "c",
        "qop": "auth-int",
    }
    assert compute_response(**args, body=body) == expected
    assert compute_response(**args, body=body + b"x") != expected
    # An empty body still contributes H("") to A2, so auth-int differs from auth.
    assert compute_response(**args) != compute_response(**{**args, "qop": "auth"})


@pytest.mark.parametrize("algorithm", ["MD5-sess", "SHA-256-sess", "SHA-512-256-sess", "sha-256-SESS"])
def test_sess_variants_fold_nonce_and_cnonce_into_ha1(algorithm: str) -> None:
    """RFC 7616 §3.4.2: for -sess, HA1 = H(H(user:realm:password):nonce:cnonce)."""
    h = hex_of(algorithm.upper().removesuffix("-SESS"))
    ha1 = h(f"{h('bob:biloxi.com:zanzibar')}:nonce:cnonce")
    ha2 = h("INVITE:sip:alice@atlanta.com")
    expected = h(f"{ha1}:nonce:00000002:cnonce:auth:{ha2}")
    response = compute_response(
        algorithm=algorithm,
        username="bob",
        realm="biloxi.com",
        password="zanzibar",
        method="INVITE",
        uri="sip:alice@atlanta.com",
        nonce="nonce",
        nc="00000002",
        cnonce="cnonce",
        qop="auth",
    )
    assert response == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"algorithm": "SHA3-256"},
        {"qop": "auth-conf"},
        {"nc": None},
        {"cnonce": None},
        {"algorithm": "MD5-sess", "qop": None, "nc": None, "cnonce": None},
        {"username": "\ud800"},  # not encodable as UTF-8
    ],
)
def test_compute_response_rejects_what_it_cannot_compute(changes: dict[str, str | None]) -> None:
    args: dict[str, str | None] = {**RFC8760_REGISTER, "algorithm": "MD5"}
    args.update(changes)
    with pytest.raises(AuthError):
        compute_response(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# SHA-512/256 itself
# --------------------------------------------------------------------------

FIPS_180_4_SHA512_256 = [
    (b"abc", "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
        b"mnopqrstnopqrstu",
        "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a",
    ),
    (b"", "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"),
]


@pytest.mark.parametrize(("message", "expected"), FIPS_180_4_SHA512_256)
def test_sha512_256_matches_nist_vectors_from_openssl_or_cryptography(message: bytes, expected: str) -> None:
    """FIPS 180-4 §5.3.6 SHA-512/256, never SHA-512 cut short; both sources the module may use agree."""
    assert auth._HASHERS["SHA-512-256"](message) == expected
    assert auth._cryptography_sha512_256_hex(message) == expected


def test_without_openssls_sha512_256_the_cryptography_package_computes_the_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_openssl = compute_response(algorithm="SHA-512-256-sess", **RFC8760_REGISTER)

    def missing(data: bytes) -> str:
        raise ValueError("unsupported hash type sha512_256")

    monkeypatch.setattr(auth, "_openssl_sha512_256_hex", missing)
    monkeypatch.setitem(auth._HASHERS, "SHA-512-256", auth._pick_sha512_256())
    assert auth._HASHERS["SHA-512-256"] is auth._cryptography_sha512_256_hex
    assert compute_response(algorithm="SHA-512-256-sess", **RFC8760_REGISTER) == with_openssl


# --------------------------------------------------------------------------
# The client: 401/407 round trips
# --------------------------------------------------------------------------


def test_no_credentials_are_sent_before_a_challenge() -> None:
    assert DigestClient("alice", "secret").authorization_headers("REGISTER", "sip:atlanta.com") == []


def test_401_is_answered_with_authorization_and_407_with_proxy_authorization() -> None:
    """RFC 3261 §22.2 and §22.3."""
    client = DigestClient("alice", "secret", cnonce_factory=counter_cnonces())
    assert client.on_challenge(401, [digest(realm="registrar.atlanta.com", nonce="r1", qop='"auth"')])
    assert client.on_challenge(407, [digest(realm="proxy.atlanta.com", nonce="p1", qop='"auth"')])
    headers = client.authorization_headers("INVITE", "sip:bob@biloxi.com")
    assert [name for name, _value in headers] == ["Authorization", "Proxy-Authorization"]
    www, proxy = (parse_credentials(value) for _name, value in headers)
    assert (www["realm"], www["nonce"]) == ("registrar.atlanta.com", "r1")
    assert (proxy["realm"], proxy["nonce"]) == ("proxy.atlanta.com", "p1")
    for _name, value in headers:
        assert verify_authorization(value, method="INVITE", password="secret", username="alice")


def test_on_challenge_only_accepts_401_and_407() -> None:
    with pytest.raises(ValueError):
        DigestClient("alice", "secret").on_challenge(403, [digest()])


def test_the_client_uses_the_strongest_of_several_challenges() -> None:
    """RFC 8760 §2.4: one 401 may offer the same realm with several algorithms."""
    client = DigestClient("alice", "secret", cnonce_factory=counter_cnonces())
    offered = [
        digest(nonce="a", algorithm="MD5", qop='"auth"'),
        digest(nonce="b", algorithm="SHA-256", qop='"auth"')
        + ", "
        + digest(nonce="c", algorithm="SHA-512-256"),
        'Basic realm="atlanta.com"',
    ]
    assert client.on_challenge(401, offered)
    [(name, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    params = parse_credentials(value)
    assert (params["algorithm"], params["nonce"]) == ("SHA-512-256", "c")
    assert "qop" not in params and "nc" not in params and "cnonce" not in params  # that one had no qop
    assert verify_authorization(value, method="REGISTER", password="secret")


def test_the_rfc7616_401_produces_the_rfc_sha256_response() -> None:
    client = DigestClient(RFC7616_USER, RFC7616_PASSWORD, cnonce_factory=lambda: RFC7616_CNONCE)
    assert client.on_challenge(401, RFC7616_401)
    [(name, value)] = client.authorization_headers("GET", "/dir/index.html")
    assert name == "Authorization"
    assert parse_credentials(value)["response"] == RFC7616_SHA256


def test_each_realm_of_a_response_gets_its_own_credentials() -> None:
    """RFC 3261 §22.3: a forked request's 401 can aggregate challenges from several realms."""
    client = DigestClient("alice", "secret")
    assert client.on_challenge(
        401, [digest(realm="a.example", nonce="1"), digest(realm="b.example", nonce="2")]
    )
    assert client.realms == ("a.example", "b.example")
    headers = client.authorization_headers("INVITE", "sip:bob@biloxi.com")
    assert [parse_credentials(v)["realm"] for _n, v in headers] == ["a.example", "b.example"]


def test_reusing_a_nonce_increments_nc_and_keeps_the_cnonce() -> None:
    """RFC 7616 §3.4: nc counts the requests sent with a nonce, as 8 hex digits."""
    cnonces: list[str] = []

    def factory() -> str:
        cnonces.append(f"c{len(cnonces)}")
        return cnonces[-1]

    client = DigestClient("alice", "secret", cnonce_factory=factory)
    assert client.on_challenge(401, [digest(qop='"auth"')])
    sent = [
        parse_credentials(client.authorization_headers("REGISTER", "sip:atlanta.com")[0][1]) for _ in range(3)
    ]
    assert [p["nc"] for p in sent] == ["00000001", "00000002", "00000003"]
    assert {p["cnonce"] for p in sent} == {"c0"}
    assert cnonces == ["c0"]


def test_nc_is_hexadecimal() -> None:
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest(qop="auth")])
    for _ in range(9):
        client.authorization_headers("OPTIONS", "sip:atlanta.com")
    [(_name, value)] = client.authorization_headers("OPTIONS", "sip:atlanta.com")
    assert parse_credentials(value)["nc"] == "0000000a"


def test_stale_nonce_allows_a_retry_with_the_new_nonce_and_nc_restarts() -> None:
    """RFC 7616 §3.3: stale=true means the password was right but the nonce expired."""
    client = DigestClient("alice", "secret", cnonce_factory=counter_cnonces())
    assert client.on_challenge(401, [digest(nonce="old", qop='"auth"')])
    client.authorization_headers("REGISTER", "sip:atlanta.com")
    client.authorization_headers("REGISTER", "sip:atlanta.com")

    assert client.on_challenge(401, [digest(nonce="new", qop='"auth"', stale="TRUE")])
    assert client.failed_realm is None
    [(_name, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    params = parse_credentials(value)
    assert (params["nonce"], params["nc"], params["cnonce"]) == ("new", "00000001", "cn2")


def test_stale_always_allows_a_retry_even_right_after_an_attempt() -> None:
    client = DigestClient("alice", "secret")
    assert client.on_challenge(401, [digest(nonce="1")])
    client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert client.on_challenge(401, [digest(nonce="2", stale="true")])


def test_wrong_password_is_reported_once_the_answer_to_a_challenge_is_challenged_again() -> None:
    """A second, non-stale challenge for a realm we just answered means the credentials are wrong."""
    client = DigestClient("alice", "wrong")
    assert client.on_challenge(401, [digest(realm="atlanta.com", nonce="1")])
    assert client.failed_realm is None
    client.authorization_headers("REGISTER", "sip:atlanta.com")

    assert client.on_challenge(401, [digest(realm="atlanta.com", nonce="2")]) is False
    assert client.failed_realm == "atlanta.com"
    assert client.last_error is not None and "atlanta.com" in client.last_error
    # The rejected credentials are not sent again.
    assert client.authorization_headers("REGISTER", "sip:atlanta.com") == []


def test_wrong_proxy_password_is_reported_the_same_way() -> None:
    client = DigestClient("alice", "wrong")
    assert client.on_challenge(407, [digest(realm="proxy", nonce="1")])
    client.authorization_headers("INVITE", "sip:bob@biloxi.com")
    assert client.on_challenge(407, [digest(realm="proxy", nonce="1")]) is False
    assert client.failed_realm == "proxy"


def test_a_new_realm_is_not_a_wrong_password() -> None:
    client = DigestClient("alice", "secret")
    assert client.on_challenge(401, [digest(realm="a", nonce="1")])
    client.authorization_headers("REGISTER", "sip:a")
    assert client.on_challenge(407, [digest(realm="a", nonce="2")])  # proxy realm of the same name
    assert client.on_challenge(401, [digest(realm="b", nonce="3")])


def test_nonce_rotation_after_success_is_not_a_wrong_password() -> None:
    """Servers that rotate nonces without stale=true: after on_success() a new challenge is retried."""
    client = DigestClient("alice", "secret")
    assert client.on_challenge(401, [digest(nonce="1")])
    client.authorization_headers("REGISTER", "sip:atlanta.com")
    client.on_success()
    assert client.on_challenge(401, [digest(nonce="2")])
    [(_name, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert parse_credentials(value)["nonce"] == "2"


def test_a_nonce_used_for_several_requests_counts_as_accepted() -> None:
    """Without on_success(): a nonce is only reused after it worked, so a later challenge is rotation."""
    client = DigestClient("alice", "secret")
    assert client.on_challenge(401, [digest(nonce="1", qop="auth")])
    client.authorization_headers("REGISTER", "sip:atlanta.com")  # accepted (not told)
    client.authorization_headers("REGISTER", "sip:atlanta.com")  # refresh, nonce expired
    assert client.on_challenge(401, [digest(nonce="2", qop="auth")])
    client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert client.on_challenge(401, [digest(nonce="3", qop="auth")]) is False


def test_a_response_without_supported_challenges_is_not_worth_a_retry() -> None:
    client = DigestClient("alice", "secret")
    assert client.on_challenge(401, ['Basic realm="r"', digest(algorithm="AKAv1-MD5"), "garbage ="]) is False
    assert client.failed_realm is None
    assert client.last_error is not None
    assert client.authorization_headers("REGISTER", "sip:atlanta.com") == []


def test_qop_auth_is_preferred_and_auth_int_used_only_when_it_is_the_only_option() -> None:
    body = b"v=0\r\n"
    both = DigestClient("alice", "secret")
    both.on_challenge(401, [digest(qop='"auth-int,auth"')])
    [(_n, value)] = both.authorization_headers("INVITE", "sip:bob@biloxi.com", body)
    assert parse_credentials(value)["qop"] == "auth"

    only_int = DigestClient("alice", "secret")
    only_int.on_challenge(401, [digest(qop='"auth-int"')])
    [(_n, value)] = only_int.authorization_headers("INVITE", "sip:bob@biloxi.com", body)
    assert parse_credentials(value)["qop"] == "auth-int"
    assert verify_authorization(value, method="INVITE", password="secret", body=body)
    assert not verify_authorization(value, method="INVITE", password="secret", body=b"v=1\r\n")


def test_without_qop_the_rfc2069_form_is_sent() -> None:
    """RFC 3261 §22.4 backwards compatibility: no qop, nc or cnonce."""
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest()])
    [(_n, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert set(parse_credentials(value)) == {"username", "realm", "nonce", "uri", "response"}
    assert verify_authorization(value, method="REGISTER", password="secret")


def test_sess_challenges_are_answered() -> None:
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest(algorithm="SHA-256-sess", qop="auth")])
    [(_n, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert parse_credentials(value)["algorithm"] == "SHA-256-sess"
    assert verify_authorization(value, method="REGISTER", password="secret")


def test_userhash_replaces_the_username_with_its_hash() -> None:
    """RFC 7616 §3.4.4: username = H(username:realm), userhash=true; the response uses the plain name."""
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest(algorithm="SHA-256", qop="auth", userhash="true")])
    [(_n, value)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    params = parse_credentials(value)
    assert params["username"] == hex_of("SHA-256")("alice:atlanta.com")
    assert params["userhash"] == "true"
    assert "alice" not in value
    assert verify_authorization(value, method="REGISTER", password="secret", username="alice")
    assert not verify_authorization(value, method="REGISTER", password="secret", username="bob")
    assert not verify_authorization(value, method="REGISTER", password="secret")  # cannot tell who


def test_authorization_syntax_quoting() -> None:
    """RFC 7616 §3.4 / RFC 3261 §25: quote username, realm, nonce, uri, response, cnonce, opaque;
    never algorithm, qop or nc.  Opaque is echoed even when empty; the server's algorithm spelling too."""
    client = DigestClient('al"ice\\', "secret", cnonce_factory=lambda: "c n")
    client.on_challenge(401, [RFC3261_CHALLENGE.replace("algorithm=MD5", "algorithm=md5")])
    [(_n, value)] = client.authorization_headers("INVITE", "sip:bob@biloxi.com")
    assert value.startswith("Digest ")
    assert 'username="al\\"ice\\\\"' in value
    assert 'realm="atlanta.com"' in value
    assert 'nonce="f84f1cec41e6cbe5aea9c8e88d359"' in value
    assert 'uri="sip:bob@biloxi.com"' in value
    assert 'cnonce="c n"' in value
    assert 'opaque=""' in value
    assert ", algorithm=md5" in value and ", qop=auth" in value and ", nc=00000001" in value
    assert '"auth"' not in value
    assert parse_credentials(value)["username"] == 'al"ice\\'
    assert verify_authorization(value, method="INVITE", password="secret")


def test_header_injection_through_the_username_is_refused() -> None:
    with pytest.raises(AuthError):
        DigestClient("alice\r\nVia: evil", "secret")


def test_reset_forgets_every_realm() -> None:
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest(nonce="1")])
    client.authorization_headers("REGISTER", "sip:atlanta.com")
    client.reset()
    assert client.authorization_headers("REGISTER", "sip:atlanta.com") == []
    assert client.on_challenge(401, [digest(nonce="2")])  # a fresh start, not a wrong password


def test_the_password_does_not_show_in_repr() -> None:
    assert "hunter2" not in repr(DigestClient("alice", "hunter2"))


ALGORITHMS = st.sampled_from(list(auth.SUPPORTED_ALGORITHMS))
QOPS = st.sampled_from([None, '"auth"', '"auth-int"', '"auth,auth-int"'])
FIELD_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=20)


@given(
    username=FIELD_TEXT,
    password=st.text(st.characters(codec="utf-8"), max_size=20),
    realm=FIELD_TEXT,
    nonce=FIELD_TEXT,
    uri=FIELD_TEXT,
    method=st.sampled_from(["REGISTER", "INVITE", "MESSAGE"]),
    body=st.binary(max_size=40),
    algorithm=ALGORITHMS,
    qop=QOPS,
    hashed=st.booleans(),
)
def test_whatever_the_client_sends_the_server_verifies(
    username: str,
    password: str,
    realm: str,
    nonce: str,
    uri: str,
    method: str,
    body: bytes,
    algorithm: str,
    qop: str | None,
    hashed: bool,
) -> None:
    extra = {"algorithm": algorithm, "opaque": quoted(nonce[::-1])}
    if qop is not None:
        extra["qop"] = qop
    if hashed:
        extra["userhash"] = "true"
    client = DigestClient(username, password)
    assert client.on_challenge(401, [digest(realm=realm, nonce=nonce, **extra)])
    [(_name, value)] = client.authorization_headers(method, uri, body)
    params = parse_credentials(value)
    assert (params["realm"], params["nonce"], params["uri"]) == (realm, nonce, uri)
    if not hashed:
        assert params["username"] == username
    assert verify_authorization(value, method=method, password=password, body=body, username=username)
    assert not verify_authorization(
        value, method=method, password=password + "x", body=body, username=username
    )


# --------------------------------------------------------------------------
# Server side and logging
# --------------------------------------------------------------------------


def test_parse_credentials_requires_digest() -> None:
    with pytest.raises(AuthError):
        parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    with pytest.raises(AuthError):
        parse_credentials('Digest username="a", Digest username="b"')


def test_verification_fails_for_any_tampering() -> None:
    client = DigestClient("alice", "secret")
    client.on_challenge(401, [digest(nonce="n", qop="auth")])
    [(_n, good)] = client.authorization_headers("REGISTER", "sip:atlanta.com")
    assert verify_authorization(good, method="REGISTER", password="secret", realm="atlanta.com", nonce="n")
    assert not verify_authorization(good, method="INVITE", password="secret")
    assert not verify_authorization(good, method="REGISTER", password="Secret")
    assert not verify_authorization(good, method="REGISTER", password="secret", nonce="other")
    assert not verify_authorization(good, method="REGISTER", password="secret", realm="other")
    assert not verify_authorization(good, method="REGISTER", password="secret", username="bob")
    for before, after in [('uri="sip:atlanta.com"', 'uri="sip:evil.com"'), ("nc=00000001", "nc=00000002")]:
        assert not verify_authorization(good.replace(before, after), method="REGISTER", password="secret")
    assert not verify_authorization(good.replace("response=", "x="), method="REGISTER", password="secret")


def test_redact_keeps_what_helps_debugging_and_hides_the_response() -> None:
    value = build_authorization(
        parse_challenge(RFC7616_401[0]),
        username=RFC7616_USER,
        password=RFC7616_PASSWORD,
        method="GET",
        uri="/dir/index.html",
        cnonce=RFC7616_CNONCE,
    )
    shown = redact(value)
    assert RFC7616_SHA256 not in shown
    assert 'response="<redacted>"' in shown
    for kept in (
        'username="Mufasa"',
        f'realm="{RFC7616_REALM}"',
        'uri="/dir/index.html"',
        "algorithm=SHA-256",
    ):
        assert kept in shown
    assert shown.startswith("Digest ")
    assert redact("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == "Basic <redacted>"
    assert redact('Digest response="0123456789abcdef", broken"') == "Digest <redacted>"
    assert redact('Digest response="0123456789abcdef", secret="x"').count("<redacted>") == 2


@given(
    response=st.text("0123456789abcdef", min_size=16, max_size=64),
    before=HEADERISH,
    after=HEADERISH,
    username=FIELD_TEXT,
)
def test_redact_never_leaks_the_response(response: str, before: str, after: str, username: str) -> None:
    value = f"Digest {before}username={quoted(username)}, response={quoted(response)}, {after}"
    assume(value.count(response) == 1)
    assert response not in redact(value)
