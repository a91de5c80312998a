"""SIP digest authentication, sans-IO.

This module turns ``WWW-Authenticate`` / ``Proxy-Authenticate`` header values
into ``Authorization`` / ``Proxy-Authorization`` header values.  It never
touches sockets or event loops: callers feed it header values and get header
values back.

Standards:

* RFC 3261 §22 and §25 (SIP digest, header syntax quirks: ``qop``, ``nc`` and
  ``algorithm`` are unquoted tokens in credentials);
* RFC 7616 (HTTP digest: MD5, SHA-256, SHA-512-256, ``-sess`` variants,
  ``qop=auth`` / ``auth-int``, nonce count, ``userhash``);
* RFC 8760 (SHA-256 and SHA-512-256 for SIP).

SHA-512-256 is SHA-512/256 of FIPS 180-4 (its own initial values), *not*
SHA-512 truncated to 256 bits.  OpenSSL's ``sha512_256`` through ``hashlib``,
or the ``cryptography`` package's where this Python's OpenSSL lacks it.

Typical client flow::

    client = DigestClient("alice", "secret")
    # send REGISTER without credentials, get 401
    if client.on_challenge(401, response_www_authenticate_values):
        for name, value in client.authorization_headers("REGISTER", "sip:example.com"):
            request.add_header(name, value)
        # resend; on a final response other than 401/407:
        client.on_success()
    else:
        report(client.failed_realm, client.last_error)

Strings are hashed as UTF-8 (RFC 7616 ``charset=UTF-8``; SIP is UTF-8).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "AuthError",
    "Challenge",
    "DigestClient",
    "SUPPORTED_ALGORITHMS",
    "build_authorization",
    "choose_challenge",
    "compute_response",
    "parse_challenge",
    "parse_challenges",
    "parse_credentials",
    "redact",
    "userhash",
    "verify_authorization",
]


class AuthError(ValueError):
    """A header value is malformed, or a digest cannot be computed from it."""


# --------------------------------------------------------------------------
# Hash functions
# --------------------------------------------------------------------------

def _md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _openssl_sha512_256_hex(data: bytes) -> str:
    return hashlib.new("sha512_256", data).hexdigest()


def _cryptography_sha512_256_hex(data: bytes) -> str:
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SHA512_256())
    digest.update(data)
    return digest.finalize().hex()


def _unavailable_sha512_256(data: bytes) -> str:
    raise AuthError("SHA-512-256 is not available: neither this Python's OpenSSL nor 'cryptography' has it")


def _pick_sha512_256() -> Callable[[bytes], str]:
    """OpenSSL's SHA-512/256 through hashlib; where this Python's OpenSSL lacks it, that of the
    ``cryptography`` package (which carries its own OpenSSL). No hand-written cryptography here."""
    expected = "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"  # FIPS 180-4: "abc"
    for candidate in (_openssl_sha512_256_hex, _cryptography_sha512_256_hex):
        try:
            if candidate(b"abc") == expected:
                return candidate
        except (ValueError, TypeError, ImportError):  # unknown to this OpenSSL build, or not installed
            continue
    return _unavailable_sha512_256


# Base algorithm name -> hex digest of bytes.  Strength order is ascending.
_HASHERS: dict[str, Callable[[bytes], str]] = {
    "MD5": _md5_hex,
    "SHA-256": _sha256_hex,
    "SHA-512-256": _pick_sha512_256(),
}
_STRENGTH = {"MD5": 1, "SHA-256": 2, "SHA-512-256": 3}

SUPPORTED_ALGORITHMS: tuple[str, ...] = (
    "MD5",
    "MD5-SESS",
    "SHA-256",
    "SHA-256-SESS",
    "SHA-512-256",
    "SHA-512-256-SESS",
)
"""Normalized (upper-case) ``algorithm`` values this module can compute."""


def _split_algorithm(algorithm: str) -> tuple[str, bool]:
    """``"sha-256-sess"`` -> ``("SHA-256", True)``; AuthError when unsupported."""
    name = algorithm.strip().upper()
    sess = name.endswith("-SESS")
    base = name[: -len("-SESS")] if sess else name
    if base not in _HASHERS:
        raise AuthError(f"unsupported digest algorithm {algorithm!r}")
    return base, sess


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AuthError("value is not encodable as UTF-8") from exc


# --------------------------------------------------------------------------
# Digest computation
# --------------------------------------------------------------------------


def compute_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str | None,
    cnonce: str | None,
    qop: str | None,
    body: bytes = b"",
) -> str:
    """The ``response`` value (lower-case hex) of RFC 7616 §3.4.1 / RFC 3261 §22.4.

    ``username`` is the plain username even when ``userhash`` is used (the
    hash of the username only replaces the ``username`` parameter on the wire).
    ``qop=None`` gives the RFC 2069 response ``H(HA1:nonce:HA2)``; otherwise
    ``nc`` and ``cnonce`` are required.  ``-sess`` algorithms always need
    ``cnonce``.  ``body`` only matters for ``qop=auth-int``.

    Raises AuthError for an unknown algorithm or qop, or a missing nc/cnonce.
    """
    base, sess = _split_algorithm(algorithm)
    hasher = _HASHERS[base]

    def h(text: str) -> str:
        return hasher(_utf8(text))

    ha1 = h(f"{username}:{realm}:{password}")
    if sess:
        if cnonce is None:
            raise AuthError(f"algorithm {algorithm} needs a cnonce")
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")

    qop_kind = qop.lower() if qop is not None else None
    if qop_kind is None or qop_kind == "auth":
        a2 = f"{method}:{uri}"
    elif qop_kind == "auth-int":
        a2 = f"{method}:{uri}:{hasher(body)}"
    else:
        raise AuthError(f"unsupported qop {qop!r}")
    ha2 = h(a2)

    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise AuthError("qop requires both nc and cnonce")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def userhash(username: str, realm: str, algorithm: str = "MD5") -> str:
    """RFC 7616 §3.4.4 hashed username: ``H(username ":" realm)``."""
    base, _sess = _split_algorithm(algorithm)
    return _HASHERS[base](_utf8(f"{username}:{realm}"))


# --------------------------------------------------------------------------
# Header parsing
# --------------------------------------------------------------------------

# RFC 3261 token chars united with RFC 7230 tchar.
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~#$&^|")
# Tolerated in unquoted parameter values (e.g. a base64 nonce sent unquoted).
_BARE_VALUE_CHARS = _TOKEN_CHARS | frozenset("/:@?[]")
_TOKEN68_CHARS = frozenset(string.ascii_letters + string.digits + "-._~+/")
_WHITESPACE = " \t\r\n"
_FOLDING = re.compile(r"\r?\n(?=[ \t])")


@dataclass
class _RawItem:
    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1
        return self.pos > start

    def skip_separators(self) -> None:
        """Skip whitespace and (possibly empty) list commas."""
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE + ",":
            self.pos += 1

    def read_run(self, allowed: frozenset[str]) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in allowed:
            self.pos += 1
        return self.text[start : self.pos]

    def read_quoted(self) -> str:
        """Read a quoted-string (cursor on the opening quote), unescaping it."""
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                if self.pos >= len(self.text):
                    break
                char = self.text[self.pos]
                self.pos += 1
            if (ord(char) < 0x20 and char != "\t") or char == "\x7f":
                raise AuthError(f"control character in quoted string at offset {self.pos - 1}")
            out.append(char)
        raise AuthError("unterminated quoted string")

    def error(self, what: str) -> AuthError:
        return AuthError(f"{what} at offset {self.pos}")


def _try_param(scanner: _Scanner, params: dict[str, str]) -> bool:
    """Parse ``name = (token | quoted-string)``; restore the cursor if it isn't one."""
    start = scanner.pos
    name = scanner.read_run(_TOKEN_CHARS)
    if not name:
        return False
    scanner.skip_ws()
    if scanner.peek() != "=":
        scanner.pos = start
        return False
    scanner.pos += 1
    scanner.skip_ws()
    if scanner.peek() == '"':
        value = scanner.read_quoted()
    else:
        value = scanner.read_run(_BARE_VALUE_CHARS)
        if not value:
            scanner.pos = start
            return False
    key = name.lower()
    if key in params:
        raise AuthError(f"parameter {key!r} given twice")
    params[key] = value
    return True


def _parse_items(value: str) -> list[_RawItem]:
    """Split one header value into challenges/credentials (RFC 7235 §2.1 syntax).

    A header value may hold several challenges: ``Digest a=1, Digest b=2``.
    After a comma, ``token =`` continues the current item's parameters; any
    other token starts a new item.
    """
    scanner = _Scanner(_FOLDING.sub("", value))
    items: list[_RawItem] = []
    scanner.skip_separators()
    while not scanner.at_end():
        scheme = scanner.read_run(_TOKEN_CHARS)
        if not scheme:
            raise scanner.error("expected an authentication scheme")
        item = _RawItem(scheme)
        items.append(item)
        had_space = scanner.skip_ws()
        if scanner.at_end():
            break
        if scanner.peek() == ",":
            scanner.skip_separators()
            continue
        if not had_space:
            raise scanner.error("expected whitespace after the scheme")
        if not _try_param(scanner, item.params):
            token68 = scanner.read_run(_TOKEN68_CHARS)
            token68 += scanner.read_run(frozenset("="))
            if not token68:
                raise scanner.error("expected a parameter")
            item.token68 = token68
            scanner.skip_ws()
            if not scanner.at_end() and scanner.peek() != ",":
                raise scanner.error("expected ',' after token68")
            scanner.skip_separators()
            continue
        while True:
            scanner.skip_ws()
            if scanner.at_end():
                break
            if scanner.peek() != ",":
                raise scanner.error("expected ','")
            scanner.skip_separators()
            if scanner.at_end():
                break
            lookahead = scanner.pos
            if not scanner.read_run(_TOKEN_CHARS):
                raise scanner.error("expected a parameter name")
            scanner.skip_ws()
            is_param = scanner.peek() == "="
            scanner.pos = lookahead
            if not is_param:
                break  # a new challenge starts here
            if not _try_param(scanner, item.params):
                raise scanner.error("malformed parameter value")
    return items


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` / ``Proxy-Authenticate`` challenge.

    For ``Digest`` challenges ``realm`` and ``nonce`` are mandatory and
    ``algorithm`` defaults to ``"MD5"``.  Other schemes are parsed (realm and
    nonce default to ``""``, algorithm to ``""``) but are never usable.
    ``params`` holds every parameter, keys lower-case, values unquoted.
    ``token68`` is set for token68-style challenges such as ``Basic abc==``.
    ``charset`` and ``domain`` are kept in ``params`` only: this module always
    hashes UTF-8.
    """

    scheme: str
    realm: str
    nonce: str
    algorithm: str
    qop: tuple[str, ...]
    opaque: str | None
    stale: bool
    userhash: bool
    params: dict[str, str] = field(hash=False)
    token68: str | None = None

    @property
    def is_digest(self) -> bool:
        return self.scheme.lower() == "digest"

    @property
    def supported(self) -> bool:
        """True if :class:`DigestClient` can answer this challenge."""
        if not self.is_digest or self.token68 is not None:
            return False
        try:
            _split_algorithm(self.algorithm)
        except AuthError:
            return False
        return not self.qop or "auth" in self.qop or "auth-int" in self.qop

    @property
    def strength(self) -> int:
        """0 when unsupported, else 1 (MD5), 2 (SHA-256), 3 (SHA-512-256)."""
        if not self.supported:
            return 0
        return _STRENGTH[_split_algorithm(self.algorithm)[0]]


def _build_challenge(item: _RawItem) -> Challenge:
    params = item.params
    is_digest = item.scheme.lower() == "digest"
    if is_digest:
        if item.token68 is not None:
            raise AuthError("a Digest challenge needs auth-params, not token68")
        if "realm" not in params:
            raise AuthError("Digest challenge without realm")
        if "nonce" not in params:
            raise AuthError("Digest challenge without nonce")
    qop = tuple(
        dict.fromkeys(option.strip().lower() for option in params.get("qop", "").split(",") if option.strip())
    )
    return Challenge(
        scheme=item.scheme,
        realm=params.get("realm", ""),
        nonce=params.get("nonce", ""),
        algorithm=params.get("algorithm", "MD5" if is_digest else "").strip().upper(),
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").strip().lower() == "true",
        userhash=params.get("userhash", "").strip().lower() == "true",
        params=dict(params),
        token68=item.token68,
    )


def parse_challenge(value: str) -> Challenge:
    """Parse one ``WWW-Authenticate`` / ``Proxy-Authenticate`` header value.

    If the value holds several challenges the first one is returned (use
    :func:`parse_challenges` to get all of them).  Raises AuthError -- and
    nothing else -- on malformed input, including a Digest challenge without
    realm or nonce.
    """
    items = _parse_items(value)
    if not items:
        raise AuthError("empty challenge")
    return _build_challenge(items[0])


def parse_challenges(values: list[str]) -> list[Challenge]:
    """All challenges from several header values, in order.

    A value with a syntax error is skipped as a whole; a syntactically valid
    but unusable Digest challenge (no realm / nonce) is skipped on its own.
    Never raises AuthError.
    """
    challenges: list[Challenge] = []
    for value in values:
        try:
            items = _parse_items(value)
        except AuthError:
            continue
        for item in items:
            try:
                challenges.append(_build_challenge(item))
            except AuthError:
                continue
    return challenges


def choose_challenge(challenges: list[Challenge]) -> Challenge | None:
    """The strongest supported Digest challenge: SHA-512-256 > SHA-256 > MD5.

    RFC 8760 §2.4 says to use the topmost supported challenge "unless a local
    policy dictates otherwise"; ranking by strength is that policy, so that
    reordering the header fields cannot downgrade us to MD5 (RFC 8760 §3).

    ``-sess`` variants rank with their base algorithm; between equally strong
    challenges the first one offered wins.  Realms are not considered (see
    :class:`DigestClient`, which answers each realm separately).  None when
    nothing is supported.
    """
    best: Challenge | None = None
    for challenge in challenges:
        if challenge.strength > (best.strength if best is not None else 0):
            best = challenge
    return best


def parse_credentials(value: str) -> dict[str, str]:
    """Parse one Digest ``Authorization`` / ``Proxy-Authorization`` value.

    Returns the parameters with lower-case names and unquoted values.  Raises
    AuthError if the value is malformed, is not a single Digest credentials,
    or has no parameters.
    """
    items = _parse_items(value)
    if len(items) != 1:
        raise AuthError("expected exactly one credentials")
    item = items[0]
    if item.scheme.lower() != "digest" or item.token68 is not None or not item.params:
        raise AuthError("not Digest credentials")
    return dict(item.params)


# --------------------------------------------------------------------------
# Header building
# --------------------------------------------------------------------------


def _quote(value: str, what: str) -> str:
    for char in value:
        if (ord(char) < 0x20 and char != "\t") or char == "\x7f":
            raise AuthError(f"control character in {what}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pick_qop(offered: tuple[str, ...]) -> str | None:
    if not offered:
        return None
    if "auth" in offered:
        return "auth"
    if "auth-int" in offered:
        return "auth-int"
    raise AuthError(f"no supported qop among {offered!r}")


def _algorithm_token(challenge: Challenge) -> str | None:
    """The algorithm to echo: the server's own spelling, if it sent one."""
    raw = challenge.params.get("algorithm")
    if raw is not None:
        return raw.strip()
    return None if challenge.algorithm == "MD5" else challenge.algorithm


def build_authorization(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int = 1,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """One-shot credentials for ``challenge`` (a value for Authorization headers).

    qop is ``auth`` when offered, ``auth-int`` when it is the only option,
    absent (RFC 2069 style, no nc/cnonce) when the challenge has no qop.
    ``cnonce`` is needed with qop or a ``-sess`` algorithm.  With
    ``userhash=true`` the username parameter carries :func:`userhash`.
    Quoted: username, realm, nonce, uri, response, cnonce, opaque.  Unquoted
    (RFC 7616 §3.4, RFC 3261 §25): algorithm, qop, nc, userhash.
    """
    if not challenge.supported:
        raise AuthError(f"unsupported challenge: {challenge.scheme} algorithm={challenge.algorithm}")
    if not 1 <= nc <= 0xFFFFFFFF:
        raise AuthError("nonce count out of range")
    qop = _pick_qop(challenge.qop)
    _base, sess = _split_algorithm(challenge.algorithm)
    nc_text = f"{nc:08x}" if qop is not None else None
    sent_cnonce = cnonce if (qop is not None or sess) else None
    if sent_cnonce is None and (qop is not None or sess):
        raise AuthError("a cnonce is required for this challenge")
    response = compute_response(
        algorithm=challenge.algorithm,
        username=username,
        realm=challenge.realm,
        password=password,
        method=method,
        uri=uri,
        nonce=challenge.nonce,
        nc=nc_text,
        cnonce=sent_cnonce,
        qop=qop,
        body=body,
    )
    shown_user = userhash(username, challenge.realm, challenge.algorithm) if challenge.userhash else username
    parts = [
        f"username={_quote(shown_user, 'username')}",
        f"realm={_quote(challenge.realm, 'realm')}",
        f"nonce={_quote(challenge.nonce, 'nonce')}",
        f"uri={_quote(uri, 'uri')}",
        f'response="{response}"',
    ]
    algorithm = _algorithm_token(challenge)
    if algorithm is not None:
        parts.append(f"algorithm={algorithm}")
    if sent_cnonce is not None:
        parts.append(f"cnonce={_quote(sent_cnonce, 'cnonce')}")
    if challenge.opaque is not None:
        parts.append(f"opaque={_quote(challenge.opaque, 'opaque')}")
    if qop is not None:
        parts.append(f"qop={qop}")
        parts.append(f"nc={nc_text}")
    if challenge.userhash:
        parts.append("userhash=true")
    return "Digest " + ", ".join(parts)


# --------------------------------------------------------------------------
# Client state
# --------------------------------------------------------------------------


def _default_cnonce() -> str:
    return secrets.token_hex(16)


@dataclass
class _Entry:
    challenge: Challenge
    cnonce: str
    uses: int = 0  # requests signed with this nonce; the last nc sent
    accepted: bool = False  # a request signed with it succeeded


class DigestClient:
    """Per-account client state: credentials, per-realm nonce + nonce-count, cnonce.

    * :meth:`on_challenge` takes the challenge header values of a 401
      (``WWW-Authenticate``) or 407 (``Proxy-Authenticate``) and says whether
      resending the request with credentials makes sense.
    * :meth:`authorization_headers` gives the headers for the next request,
      one per remembered realm -- call it exactly once per request sent
      (each call uses up one nonce count).  Credentials are reused
      preemptively for later requests (RFC 3261 §22.3) with nc incremented.
    * :meth:`on_success` should be called when a request carrying our
      credentials got a final response other than 401/407.

    Wrong-password detection: a realm is *failed* when we answered its
    challenge and got a new non-stale challenge for it before that nonce was
    ever accepted.  A nonce counts as accepted after :meth:`on_success`, or
    once it has signed two or more requests (a nonce is only reused after it
    worked), so a server that rotates nonces without ``stale=true`` is not
    mistaken for a password error.  ``stale=true`` always allows a retry; a
    caller should still cap retries per request against broken servers.

    One response may carry both header kinds (RFC 3261 §16.7 aggregation):
    feed them with two calls, ``on_challenge(401, www_values)`` and
    ``on_challenge(407, proxy_values)``.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        cnonce_factory: Callable[[], str] | None = None,
    ) -> None:
        _quote(username, "username")  # reject header injection up front
        self._username = username
        self._password = password
        self._cnonce_factory = cnonce_factory if cnonce_factory is not None else _default_cnonce
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._failed_realm: str | None = None
        self._last_error: str | None = None

    def __repr__(self) -> str:
        realms = [realm for _header, realm in self._entries]
        return f"DigestClient(username={self._username!r}, realms={realms!r})"

    @property
    def username(self) -> str:
        return self._username

    @property
    def failed_realm(self) -> str | None:
        """Realm whose credentials were rejected by the last :meth:`on_challenge`, else None."""
        return self._failed_realm

    @property
    def last_error(self) -> str | None:
        """Why the last :meth:`on_challenge` returned False (human-readable), else None."""
        return self._last_error

    @property
    def realms(self) -> tuple[str, ...]:
        """Realms for which credentials are currently sent."""
        return tuple(realm for _header, realm in self._entries)

    def on_challenge(self, status: int, header_values: list[str]) -> bool:
        """Feed a 401 (WWW-Authenticate values) or 407 (Proxy-Authenticate values).

        Returns True if the request should be retried with fresh credentials;
        False if retrying is pointless: no supported challenge (see
        :attr:`last_error`), or a realm's credentials were rejected (the
        previous attempt for that realm was answered by a challenge that is
        not ``stale=true``) -- then :attr:`failed_realm` names it and its
        credentials are forgotten.  Each realm in the response is answered
        with its strongest supported challenge.  Raises ValueError for a
        status other than 401/407.
        """
        if status == 401:
            header = "Authorization"
        elif status == 407:
            header = "Proxy-Authorization"
        else:
            raise ValueError(f"on_challenge() needs a 401 or 407 status, not {status}")

        by_realm: dict[str, list[Challenge]] = {}
        for challenge in parse_challenges(header_values):
            if challenge.supported:
                by_realm.setdefault(challenge.realm, []).append(challenge)
        if not by_realm:
            self._failed_realm = None
            self._last_error = f"no supported Digest challenge in the {status} response"
            return False

        failed: list[str] = []
        for realm, candidates in by_realm.items():
            chosen = choose_challenge(candidates)
            assert chosen is not None  # every candidate is supported
            key = (header, realm)
            previous = self._entries.get(key)
            if previous is not None and previous.uses == 1 and not previous.accepted and not chosen.stale:
                failed.append(realm)
                del self._entries[key]
                continue
            self._entries[key] = _Entry(chosen, cnonce=self._cnonce_factory())

        if failed:
            self._failed_realm = failed[0]
            self._last_error = f"credentials rejected for realm {failed[0]!r}"
            return False
        self._failed_realm = None
        self._last_error = None
        return True

    def authorization_headers(self, method: str, uri: str, body: bytes = b"") -> list[tuple[str, str]]:
        """Headers to add to the next request, one per remembered realm.

        ``("Authorization", value)`` for realms learnt from 401s and
        ``("Proxy-Authorization", value)`` for 407s.  Each call increments the
        nonce count of every remembered nonce (nc is 8 hex digits, starting at
        00000001).  ``body`` is needed when the realm uses ``qop=auth-int``.
        Empty before any challenge.  Raises AuthError if ``uri`` holds control
        characters (they would break the header).
        """
        headers: list[tuple[str, str]] = []
        for (header, _realm), entry in self._entries.items():
            entry.uses += 1
            value = build_authorization(
                entry.challenge,
                username=self._username,
                password=self._password,
                method=method,
                uri=uri,
                nc=entry.uses,
                cnonce=entry.cnonce,
                body=body,
            )
            headers.append((header, value))
        return headers

    def on_success(self) -> None:
        """The last request carrying our credentials was accepted.

        Marks every nonce used so far as accepted, so that a later non-stale
        challenge for the same realm is treated as nonce rotation, not as a
        wrong password.
        """
        for entry in self._entries.values():
            if entry.uses:
                entry.accepted = True
        self._failed_realm = None
        self._last_error = None

    def reset(self) -> None:
        """Forget every challenge, nonce count and failure.

        Not needed in normal operation (nonce rotation is handled by
        :meth:`on_challenge`).  Use it when the account is reconfigured or to
        stop sending credentials preemptively (e.g. after unregistering); the
        next request then goes out without credentials.
        """
        self._entries.clear()
        self._failed_realm = None
        self._last_error = None


# --------------------------------------------------------------------------
# Server side and logging
# --------------------------------------------------------------------------


def verify_authorization(
    value: str,
    *,
    method: str,
    password: str,
    body: bytes = b"",
    username: str | None = None,
    realm: str | None = None,
    nonce: str | None = None,
) -> bool:
    """Server-side check (for tests and the project's own fake servers).

    True when ``value`` is Digest credentials whose response matches
    ``password`` for ``method`` (and ``body`` for auth-int).  ``username``,
    ``realm`` and ``nonce``, when given, must match too; ``username`` is
    required to check ``userhash=true`` credentials.  Never raises: anything
    malformed gives False.  Does not track nonce counts or expiry.
    """
    try:
        params = parse_credentials(value)
        required = ("username", "realm", "nonce", "uri", "response")
        if any(name not in params for name in required):
            return False
        algorithm = params.get("algorithm", "MD5")
        if realm is not None and params["realm"] != realm:
            return False
        if nonce is not None and params["nonce"] != nonce:
            return False
        sent_user = params["username"]
        if params.get("userhash", "").lower() == "true":
            if username is None:
                return False
            expected_hash = userhash(username, params["realm"], algorithm)
            if not hmac.compare_digest(_utf8(sent_user.lower()), _utf8(expected_hash)):
                return False
            sent_user = username
        elif username is not None and sent_user != username:
            return False
        expected = compute_response(
            algorithm=algorithm,
            username=sent_user,
            realm=params["realm"],
            password=password,
            method=method,
            uri=params["uri"],
            nonce=params["nonce"],
            nc=params.get("nc"),
            cnonce=params.get("cnonce"),
            qop=params.get("qop"),
            body=body,
        )
        return hmac.compare_digest(_utf8(params["response"].lower()), _utf8(expected))
    except AuthError:
        return False


_REDACT_KEEP = frozenset(
    {"username", "realm", "uri", "algorithm", "nonce", "cnonce", "opaque", "qop", "nc", "userhash"}
)
_UNQUOTED = frozenset({"algorithm", "qop", "nc", "userhash", "stale"})
_REDACTED = "<redacted>"


def redact(value: str) -> str:
    """Redact an Authorization/Proxy-Authorization header value for logs.

    Keeps the scheme and username, realm, uri, algorithm, nonce, cnonce,
    opaque, qop, nc and userhash; every other parameter (``response``, and
    anything unknown) becomes ``"<redacted>"``, as does a token68 (Basic
    credentials).  Unparseable input yields ``"<scheme> <redacted>"`` or
    ``"<redacted>"``.  Never raises.
    """
    try:
        items = _parse_items(value)
    except AuthError:
        match = re.match(r"\s*([A-Za-z][A-Za-z0-9._-]{0,31})(?=\s|$)", value)
        return f"{match.group(1)} {_REDACTED}" if match else _REDACTED
    rendered: list[str] = []
    for item in items:
        if item.token68 is not None:
            rendered.append(f"{item.scheme} {_REDACTED}")
            continue
        parts: list[str] = []
        for name, param in item.params.items():
            shown = param if name in _REDACT_KEEP else _REDACTED
            if name in _UNQUOTED and name in _REDACT_KEEP:
                parts.append(f"{name}={shown}")
            else:
                escaped = shown.replace("\\", "\\\\").replace('"', '\\"')
                parts.append(f'{name}="{escaped}"')
        rendered.append(f"{item.scheme} {', '.join(parts)}" if parts else item.scheme)
    return ", ".join(rendered) if rendered else _REDACTED
