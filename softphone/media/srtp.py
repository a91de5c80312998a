"""SDES-keyed SRTP (RFC 3711, RFC 4568 ``a=crypto``) over pylibsrtp.

Pure module (no asyncio).  :class:`SrtpKey` is one ``a=crypto`` key (suite + 30 bytes of master key and
salt), :class:`SrtpContext` holds the two libsrtp sessions of a call: one protecting what we send with our
key, one checking what we receive with the peer's key.  Only the two AES-CM suites every SIP endpoint
offers are supported; MKI is not (pylibsrtp cannot select keys by MKI), key lifetimes are ignored (libsrtp
enforces the 2^48/2^31 packet limits itself).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

import pylibsrtp
from pylibsrtp import Policy, Session

__all__ = ["SUPPORTED_SUITES", "SrtpContext", "SrtpError", "SrtpKey", "auth_tag_length"]

KEY_SALT_LENGTH: Final = 30  # 16 bytes of AES-128 master key + 14 bytes of master salt

# suite name (RFC 4568 §6.2) -> (libsrtp profile, SRTP authentication tag length in bytes)
_SUITES: Final[dict[str, tuple[int, int]]] = {
    "AES_CM_128_HMAC_SHA1_80": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 10),
    "AES_CM_128_HMAC_SHA1_32": (Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 4),
}

#: Suites in order of preference, for building an SDP offer.
SUPPORTED_SUITES: Final[tuple[str, ...]] = tuple(_SUITES)

_LIFETIME = re.compile(r"(?:2\^\d{1,2}|\d{1,20})")


class SrtpError(Exception):
    """An SRTP/SRTCP packet could not be protected or was rejected (authentication, replay, garbage)."""


def _normalize_suite(suite: str) -> str:
    name = suite.strip().upper()
    if name not in _SUITES:
        raise ValueError(
            f"unsupported SRTP crypto suite {suite!r} (supported: {', '.join(SUPPORTED_SUITES)})"
        )
    return name


def auth_tag_length(suite: str) -> int:
    """Bytes of authentication tag an SRTP packet of ``suite`` carries (10 for _80, 4 for _32)."""
    return _SUITES[_normalize_suite(suite)][1]


@dataclass(frozen=True)
class SrtpKey:
    """One SDES master key: crypto suite and the 30-byte master key || master salt."""

    suite: str
    key_salt: bytes = field(repr=False)  # key material stays out of logs and reprs

    def __post_init__(self) -> None:
        object.__setattr__(self, "suite", _normalize_suite(self.suite))
        if not isinstance(self.key_salt, bytes):
            raise TypeError("key_salt must be bytes")
        if len(self.key_salt) != KEY_SALT_LENGTH:
            raise ValueError(
                f"SRTP key||salt for {self.suite} must be {KEY_SALT_LENGTH} bytes, not {len(self.key_salt)}"
            )

    @classmethod
    def from_inline(cls, suite: str, key_params: str) -> SrtpKey:
        """Parse the key-params of an ``a=crypto`` line: ``inline:BASE64[|lifetime][|MKI:length]``.

        The lifetime is accepted and ignored; an MKI, several keys (``;``) or session parameters glued to the
        key raise :class:`ValueError`.
        """
        text = key_params.strip()
        if any(ch.isspace() for ch in text):
            raise ValueError("SRTP key-params must not contain whitespace (pass session parameters apart)")
        if ";" in text:
            raise ValueError("several SRTP master keys (selected by MKI) are not supported")
        method, sep, info = text.partition(":")
        if not sep or method.lower() != "inline":
            raise ValueError(f"unsupported SRTP key method {method!r} (only 'inline:' is defined)")
        parts = info.split("|")
        if len(parts) > 3:
            raise ValueError(f"malformed SRTP key-params {key_params!r}")
        for extra in parts[1:]:
            if ":" in extra:
                raise ValueError(
                    f"SRTP master key identifiers (MKI {extra!r}) are not supported; offer keys without MKI"
                )
            if not _LIFETIME.fullmatch(extra):
                raise ValueError(f"malformed SRTP key lifetime {extra!r}")
        try:
            key_salt = base64.b64decode(parts[0], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"SRTP key is not valid base64: {exc}") from None
        return cls(suite, key_salt)

    @classmethod
    def generate(cls, suite: str = "AES_CM_128_HMAC_SHA1_80") -> SrtpKey:
        """A fresh random master key and salt (from the OS CSPRNG)."""
        return cls(suite, secrets.token_bytes(KEY_SALT_LENGTH))

    def to_inline(self) -> str:
        """The key-params for ``a=crypto``: ``inline:BASE64`` (no lifetime, no MKI)."""
        return "inline:" + base64.b64encode(self.key_salt).decode("ascii")

    @property
    def auth_tag_length(self) -> int:
        return _SUITES[self.suite][1]


class SrtpContext:
    """The SRTP state of one media stream: ``tx`` protects what we send, ``rx`` checks what we receive.

    Any SSRC is accepted in both directions (libsrtp ``ssrc_any_*`` templates); the receive side keeps a
    replay window per SSRC.  Each method raises :class:`SrtpError` on failure.
    """

    def __init__(self, tx: SrtpKey, rx: SrtpKey) -> None:
        self.tx_key = tx
        self.rx_key = rx
        try:
            self._tx = Session(
                Policy(
                    key=tx.key_salt,
                    ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                    srtp_profile=_SUITES[tx.suite][0],
                )
            )
            self._rx = Session(
                Policy(
                    key=rx.key_salt,
                    ssrc_type=Policy.SSRC_ANY_INBOUND,
                    srtp_profile=_SUITES[rx.suite][0],
                )
            )
        except pylibsrtp.Error as exc:  # pragma: no cover - only on a broken libsrtp
            raise SrtpError(f"cannot create SRTP session: {exc}") from exc

        self._tx_direct = _DirectSession.of(self._tx)
        self._rx_direct = _DirectSession.of(self._rx)

    def protect_rtp(self, packet: bytes) -> bytes:
        if self._tx_direct is not None and type(packet) is bytes:
            return self._tx_direct.run(_lib.srtp_protect, packet, _SRTP_TRAILER, "SRTP protect")
        try:
            return self._tx.protect(packet)
        except (pylibsrtp.Error, ValueError, TypeError) as exc:
            raise SrtpError(f"SRTP protect failed: {exc}") from exc

    def unprotect_rtp(self, packet: bytes) -> bytes:
        if self._rx_direct is not None and type(packet) is bytes:
            return self._rx_direct.run(_lib.srtp_unprotect, packet, 0, "SRTP unprotect")
        try:
            return self._rx.unprotect(packet)
        except (pylibsrtp.Error, ValueError, TypeError) as exc:
            raise SrtpError(f"SRTP unprotect failed: {exc}") from exc

    def __repr__(self) -> str:
        return f"SrtpContext(tx={self.tx_key.suite}, rx={self.rx_key.suite})"

    def protect_rtcp(self, packet: bytes) -> bytes:
        try:
            return self._tx.protect_rtcp(packet)
        except (pylibsrtp.Error, ValueError, TypeError) as exc:
            raise SrtpError(f"SRTCP protect failed: {exc}") from exc

    def unprotect_rtcp(self, packet: bytes) -> bytes:
        try:
            return self._rx.unprotect_rtcp(packet)
        except (pylibsrtp.Error, ValueError, TypeError) as exc:
            raise SrtpError(f"SRTCP unprotect failed: {exc}") from exc


try:  # pylibsrtp's cffi binding, for _DirectSession
    from pylibsrtp import ERRORS as _ERRORS
    from pylibsrtp import SRTP_MAX_TRAILER_LEN as _SRTP_TRAILER
    from pylibsrtp._binding import ffi as _ffi  # type: ignore[import-not-found]
    from pylibsrtp._binding import lib as _lib
except ImportError:  # pragma: no cover - another pylibsrtp: Session's methods are used
    _ffi = _lib = None
    _ERRORS, _SRTP_TRAILER = [], 0


class _DirectSession:
    """A pylibsrtp ``Session``'s RTP calls without its per-packet Python layers (a type check, an
    ``int *`` allocation, two more calls): the same libsrtp context, buffer and functions, for the
    two packets of every 20 ms of a call. ``of`` gives None where pylibsrtp is not built as
    expected; ``SrtpContext`` then calls the ``Session`` as before."""

    def __init__(self, session: Session) -> None:
        self._session = session  # owns the context and the buffer
        self._context = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._size = len(session._buffer)
        self._length = _ffi.new("int *")

    @classmethod
    def of(cls, session: Session) -> _DirectSession | None:
        if _lib is None:
            return None
        try:
            return cls(session)
        except (AttributeError, TypeError):  # pragma: no cover - pylibsrtp internals changed
            return None

    def run(self, function: Any, packet: bytes, trailer: int, what: str) -> bytes:
        n = len(packet)
        if n > self._size - trailer:
            raise SrtpError(f"{what} failed: packet is too long")
        self._buffer[0:n] = packet
        length = self._length
        length[0] = n
        rc = function(self._context, self._cdata, length)
        if rc:
            reason = _ERRORS[rc] if 0 <= rc < len(_ERRORS) else f"error {rc}"
            raise SrtpError(f"{what} failed: {reason}")
        data: bytes = self._buffer[0 : length[0]]
        return data
