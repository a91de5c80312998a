"""SDP model, parser and serialiser (RFC 8866) and offer/answer (RFC 3264).

Sans-IO: text in, objects out, and back. Nothing here touches a socket or a clock.

Parsing
    `parse_sdp` accepts CRLF or bare LF line endings, ignores blank lines and trailing white space,
    ignores line types it does not know (RFC 8866 §5) and raises `SdpError` (never anything else)
    for anything it cannot make sense of, naming the line. Attributes it does not model are kept,
    in order, in ``attributes`` so that serialising a parsed description keeps them.

    A media description's ``direction`` is resolved while parsing: the media-level attribute if
    present, else the session-level one, else ``sendrecv`` (RFC 3264 §5.1). The connection address
    is not resolved: use `MediaDescription.effective_connection`.

Serialising
    `SessionDescription.serialize` writes CRLF lines in RFC 8866 order. rtpmap lines are written
    for every codec (also static payload types), so ``parse(serialize(parse(x))) == parse(x)``;
    attribute order inside a section is canonical, not the original.

Offer/answer
    `create_offer`, `create_answer` and `negotiate_answer` implement one audio stream (the first
    acceptable ``m=audio``), answered with one codec plus telephone-event. Every other stream is
    refused with port 0, keeping the count and order of m= lines (RFC 3264 §6). Failures raise
    `NegotiationError` carrying the status (488) and a Warning header value (RFC 3261 §20.43).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace

__all__ = [
    "AGENT",
    "CODEC_SPECS",
    "DIRECTIONS",
    "DTLS_PROFILE",
    "SRTP_KEY_LENGTHS",
    "STATIC_PAYLOAD_TYPES",
    "Candidate",
    "Codec",
    "CodecSpec",
    "Crypto",
    "DtlsParameters",
    "IceParameters",
    "LocalMedia",
    "MediaDescription",
    "NegotiationError",
    "Negotiated",
    "Origin",
    "SdpError",
    "SdpSession",
    "SessionDescription",
    "Timing",
    "create_answer",
    "create_offer",
    "intersect_directions",
    "mirror_direction",
    "negotiate_answer",
    "parse_sdp",
]

AGENT = "softphone"
"""The agent name put in Warning header values (RFC 3261 §20.43)."""

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")

# Warning codes (RFC 3261 §20.43).
WARN_INCOMPATIBLE_PROTOCOL = 301
WARN_MEDIA_TYPE_NOT_AVAILABLE = 304
WARN_INCOMPATIBLE_FORMAT = 305
WARN_ATTRIBUTE_NOT_UNDERSTOOD = 306
WARN_MISC = 399

STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int, int]] = {
    # RFC 3551 §6: payload type -> (encoding name, clock rate, channels)
    0: ("PCMU", 8000, 1),
    3: ("GSM", 8000, 1),
    4: ("G723", 8000, 1),
    5: ("DVI4", 8000, 1),
    6: ("DVI4", 16000, 1),
    7: ("LPC", 8000, 1),
    8: ("PCMA", 8000, 1),
    9: ("G722", 8000, 1),
    10: ("L16", 44100, 2),
    11: ("L16", 44100, 1),
    12: ("QCELP", 8000, 1),
    13: ("CN", 8000, 1),
    14: ("MPA", 90000, 1),
    15: ("G728", 8000, 1),
    16: ("DVI4", 11025, 1),
    17: ("DVI4", 22050, 1),
    18: ("G729", 8000, 1),
    25: ("CelB", 90000, 1),
    26: ("JPEG", 90000, 1),
    28: ("nv", 90000, 1),
    31: ("H261", 90000, 1),
    32: ("MPV", 90000, 1),
    33: ("MP2T", 90000, 1),
    34: ("H263", 90000, 1),
}

SRTP_KEY_LENGTHS: dict[str, int] = {
    # SDES crypto suite -> length of the inline key||salt in bytes (RFC 4568 §6.2, RFC 6188, RFC 7714)
    "AES_CM_128_HMAC_SHA1_80": 30,
    "AES_CM_128_HMAC_SHA1_32": 30,
    "F8_128_HMAC_SHA1_80": 30,
    "AES_192_CM_HMAC_SHA1_80": 38,
    "AES_192_CM_HMAC_SHA1_32": 38,
    "AES_256_CM_HMAC_SHA1_80": 46,
    "AES_256_CM_HMAC_SHA1_32": 46,
    "AEAD_AES_128_GCM": 28,
    "AEAD_AES_256_GCM": 44,
}

TELEPHONE_EVENT = "telephone-event"

_MAX_PORT = 65535
_MAX_PT = 127
_RTP_PROFILES_PLAIN = ("RTP/AVP", "RTP/AVPF")
_RTP_PROFILES_SDES = ("RTP/SAVP", "RTP/SAVPF")
_DTLS_PROFILE = "UDP/TLS/RTP/SAVPF"
DTLS_PROFILE = _DTLS_PROFILE
WEBRTC_MID = "0"  # the mid of our one audio section in WebRTC offers
_SESSION_ONLY_TYPES = frozenset("vostrzuep")
_KNOWN_TYPES = frozenset("vosiuepcbtrzkam")


class SdpError(ValueError):
    """Malformed SDP; the message says what and on which line."""


class NegotiationError(Exception):
    """Offer/answer failed. ``status`` is the SIP response to send, ``warning`` a Warning header value."""

    status: int = 488

    def __init__(self, code: int, text: str, *, status: int = 488, agent: str = AGENT) -> None:
        self.code = code
        self.text = text
        self.status = status
        self.warning = f'{code} {agent} "{text}"'
        super().__init__(self.warning)


# --------------------------------------------------------------------------------------------
# small helpers

_DIGITS = re.compile(r"[0-9]{1,40}")
_LIFETIME = re.compile(r"(?:2\^[0-9]{1,2}|[0-9]{1,20})")
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")


def _number(text: str, what: str, maximum: int | None = None) -> int:
    if not _DIGITS.fullmatch(text):
        raise SdpError(f"{what} is not a number: {text!r}")
    value = int(text)
    if maximum is not None and value > maximum:
        raise SdpError(f"{what} out of range: {text}")
    return value


def _port(text: str) -> int:
    return _number(text, "port", _MAX_PORT)


def _addrtype_for(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _bare_address(address: str) -> str:
    """Strip a multicast /ttl[/count] suffix (IPv4) or /count (IPv6)."""
    return address.split("/", 1)[0]


def _is_null_address(address: str | None) -> bool:
    return address is not None and _bare_address(address) in ("0.0.0.0", "::")


def _dir_flags(direction: str) -> tuple[bool, bool]:
    return direction in ("sendrecv", "sendonly"), direction in ("sendrecv", "recvonly")


def _direction(send: bool, recv: bool) -> str:
    if send and recv:
        return "sendrecv"
    if send:
        return "sendonly"
    return "recvonly" if recv else "inactive"


def mirror_direction(direction: str) -> str:
    """The direction seen from the other side: sendonly <-> recvonly (RFC 3264 §6.1)."""
    send, recv = _dir_flags(direction)
    return _direction(recv, send)


def intersect_directions(a: str, b: str) -> str:
    """What both directions allow, e.g. sendrecv & sendonly = sendonly; sendonly & recvonly = inactive."""
    send_a, recv_a = _dir_flags(a)
    send_b, recv_b = _dir_flags(b)
    return _direction(send_a and send_b, recv_a and recv_b)


# --------------------------------------------------------------------------------------------
# model


@dataclass
class Codec:
    """One RTP payload format (a=rtpmap, a=fmtp; RFC 8866 §6.6, §6.15)."""

    payload_type: int
    name: str
    clock_rate: int
    channels: int = 1
    fmtp: str | None = None

    @property
    def rtpmap(self) -> str:
        """The rtpmap value after the payload type: ``opus/48000/2``, ``PCMU/8000``."""
        base = f"{self.name}/{self.clock_rate}"
        return f"{base}/{self.channels}" if self.channels != 1 else base

    @property
    def is_telephone_event(self) -> bool:
        return self.name.lower() == TELEPHONE_EVENT

    def same_format(self, other: Codec) -> bool:
        """Same encoding regardless of payload type number (name is case-insensitive; RFC 3264 §6.1).

        Opus is always ``opus/48000/2`` in SDP (RFC 7587 §7); a peer writing ``opus/48000`` still means opus.
        """
        if self.name.lower() != other.name.lower() or self.clock_rate != other.clock_rate:
            return False
        return self.name.lower() == "opus" or self.channels == other.channels


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SdpError(f"bad base64 key {text!r}") from exc


@dataclass
class InlineKey:
    """One ``inline:<key||salt>[|lifetime][|MKI:length]`` key parameter (RFC 4568 §9.2)."""

    key_salt_b64: str
    lifetime: str | None = None
    mki: str | None = None


@dataclass
class Crypto:
    """An SDES ``a=crypto`` attribute (RFC 4568 §9.1)."""

    tag: int
    suite: str
    key_params: str
    session_params: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Crypto:
        parts = value.split()
        if len(parts) < 3:
            raise SdpError("a=crypto needs a tag, a suite and key parameters")
        tag = _number(parts[0], "crypto tag", 999_999_999)
        return cls(tag, parts[1], parts[2], parts[3:])

    @classmethod
    def generate(
        cls, tag: int, suite: str, key_factory: Callable[[int], bytes] = secrets.token_bytes
    ) -> Crypto:
        """A fresh key for ``suite``: random key||salt, base64, no lifetime, no MKI."""
        return cls.with_key(tag, suite, key_factory(SRTP_KEY_LENGTHS[suite]))

    @classmethod
    def with_key(cls, tag: int, suite: str, key_salt: bytes) -> Crypto:
        return cls(tag, suite, "inline:" + base64.b64encode(key_salt).decode("ascii"))

    def __str__(self) -> str:
        return " ".join([str(self.tag), self.suite, self.key_params, *self.session_params])

    @property
    def inline_keys(self) -> list[InlineKey]:
        """The key parameters; raises `SdpError` for a key method other than ``inline``."""
        keys = []
        for param in self.key_params.split(";"):
            method, _, info = param.partition(":")
            if method.lower() != "inline" or not info:
                raise SdpError(f"unsupported key parameter {param!r}")
            fields = info.split("|")
            if len(fields) > 3:
                raise SdpError(f"malformed key parameter {param!r}")
            lifetime = mki = None
            for extra in fields[1:]:
                if ":" in extra:
                    mki = extra
                elif lifetime is not None:
                    raise SdpError(f"two key lifetimes in {param!r}")
                else:
                    lifetime = extra
            keys.append(InlineKey(fields[0], lifetime, mki))
        return keys

    @property
    def key_salt(self) -> bytes:
        """The base64-decoded key||salt of the (first) inline key; raises `SdpError` if it is not valid."""
        return _b64decode(self.inline_keys[0].key_salt_b64)

    @property
    def lifetime(self) -> str | None:
        """The lifetime suffix (``2^20``) if present. We accept and ignore it."""
        try:
            return self.inline_keys[0].lifetime
        except SdpError:
            return None

    @property
    def has_mki(self) -> bool:
        """True if any key carries an MKI suffix (``|1:4``). We refuse those."""
        try:
            return any(k.mki is not None for k in self.inline_keys)
        except SdpError:
            return False

    def problem(self, suites: list[str] | None = None) -> str | None:
        """Why we cannot use this attribute, or None if we can (RFC 4568 §6.3)."""
        if suites is not None and self.suite not in suites:
            return f"suite {self.suite} not supported"
        if self.suite not in SRTP_KEY_LENGTHS:
            return f"suite {self.suite} unknown"
        if self.session_params:
            return "session parameters not supported"
        try:
            keys = self.inline_keys
            key = _b64decode(keys[0].key_salt_b64)
        except SdpError as exc:
            return str(exc)
        if len(keys) != 1:
            return "several keys not supported"
        if keys[0].mki is not None:
            return "MKI not supported"
        if keys[0].lifetime is not None and not _LIFETIME.fullmatch(keys[0].lifetime):
            return f"bad key lifetime {keys[0].lifetime!r}"
        if len(key) != SRTP_KEY_LENGTHS[self.suite]:
            return f"key length {len(key)} does not fit {self.suite}"
        return None


@dataclass
class Candidate:
    """An ICE candidate (RFC 8839 §5.1)."""

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    type: str
    related_address: str | None = None
    related_port: int | None = None
    extensions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Candidate:
        """Parse an attribute value, with or without the ``candidate:`` prefix."""
        if value.startswith("candidate:"):
            value = value[len("candidate:") :]
        parts = value.split()
        if len(parts) < 8 or parts[6] != "typ":
            raise SdpError("a=candidate needs foundation, component, transport, priority, address, port, typ")
        candidate = cls(
            foundation=parts[0],
            component=_number(parts[1], "component id", 256),
            transport=parts[2],
            priority=_number(parts[3], "priority", 2**32 - 1),
            address=parts[4],
            port=_port(parts[5]),
            type=parts[7],
        )
        rest = parts[8:]
        if len(rest) % 2:
            raise SdpError("a=candidate extension without a value")
        for name, val in zip(rest[::2], rest[1::2], strict=True):
            if name == "raddr" and candidate.related_address is None:
                candidate.related_address = val
            elif name == "rport" and candidate.related_port is None:
                candidate.related_port = _port(val)
            else:
                candidate.extensions.append((name, val))
        return candidate

    def __str__(self) -> str:
        parts = [
            self.foundation,
            str(self.component),
            self.transport,
            str(self.priority),
            self.address,
            str(self.port),
            "typ",
            self.type,
        ]
        if self.related_address is not None:
            parts += ["raddr", self.related_address]
        if self.related_port is not None:
            parts += ["rport", str(self.related_port)]
        for name, val in self.extensions:
            parts += [name, val]
        return " ".join(parts)


@dataclass
class IceParameters:
    """ICE attributes of one side (RFC 8839 §5)."""

    ufrag: str
    pwd: str
    candidates: list[Candidate] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    lite: bool = False
    end_of_candidates: bool = False


@dataclass
class DtlsParameters:
    """DTLS-SRTP attributes of one side (RFC 8122 §5, RFC 5763)."""

    fingerprints: list[tuple[str, str]]
    setup: str | None = None


@dataclass
class Origin:
    """The o= line (RFC 8866 §5.2)."""

    username: str = "-"
    sess_id: int = 0
    sess_version: int = 0
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "0.0.0.0"

    def __str__(self) -> str:
        fields = (self.username, self.sess_id, self.sess_version, self.nettype, self.addrtype, self.address)
        return " ".join(map(str, fields))


@dataclass
class Timing:
    """A t= line and its r= lines (RFC 8866 §5.9, §5.10); 0 0 is a permanent session."""

    start: int = 0
    stop: int = 0
    repeats: list[str] = field(default_factory=list)


@dataclass
class MediaDescription:
    """One m= section (RFC 8866 §5.14) with the attributes a softphone cares about modelled."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    codecs: list[Codec] = field(default_factory=list)
    port_count: int | None = None
    title: str | None = None
    connection: str | None = None
    connection_addrtype: str | None = None
    bandwidth: list[tuple[str, int]] = field(default_factory=list)
    encryption_key: str | None = None
    direction: str = "sendrecv"
    ptime: int | None = None
    maxptime: int | None = None
    rtcp_mux: bool = False
    rtcp: tuple[int, str | None] | None = None
    crypto: list[Crypto] = field(default_factory=list)
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    mid: str | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    # -- helpers

    def add_codec(self, codec: Codec) -> None:
        """Append a codec and its payload type to ``formats``."""
        self.codecs.append(codec)
        self.formats.append(str(codec.payload_type))

    def codec(self, payload_type: int) -> Codec | None:
        return next((c for c in self.codecs if c.payload_type == payload_type), None)

    @property
    def is_rtp(self) -> bool:
        return "RTP/" in self.proto.upper()

    @property
    def audio_codecs(self) -> list[Codec]:
        """Codecs other than telephone-event, in format order."""
        return [c for c in self.codecs if not c.is_telephone_event]

    @property
    def telephone_events(self) -> list[Codec]:
        return [c for c in self.codecs if c.is_telephone_event]

    @property
    def telephone_event(self) -> Codec | None:
        """The first telephone-event format (RFC 4733), if any."""
        events = self.telephone_events
        return events[0] if events else None

    def telephone_event_for(self, clock_rate: int) -> Codec | None:
        """telephone-event at ``clock_rate`` if offered, else at 8000, else any (RFC 4733 §2.1)."""
        events = self.telephone_events
        for rate in (clock_rate, 8000):
            for event in events:
                if event.clock_rate == rate:
                    return event
        return events[0] if events else None

    def attribute(self, name: str) -> str | None:
        """The value of the first unmodelled attribute called ``name`` (``""`` for a flag)."""
        for key, value in self.attributes:
            if key == name:
                return "" if value is None else value
        return None

    def effective_connection(self, session: SessionDescription) -> str | None:
        """The c= address for this stream (media level, else session level), without a /ttl suffix."""
        address = self.connection if self.connection is not None else session.connection
        return None if address is None else _bare_address(address)

    def ice_parameters(self, session: SessionDescription) -> IceParameters | None:
        """ICE credentials and candidates, media level falling back to session level (RFC 8839 §5.4)."""
        ufrag = self.ice_ufrag if self.ice_ufrag is not None else session.ice_ufrag
        pwd = self.ice_pwd if self.ice_pwd is not None else session.ice_pwd
        if ufrag is None or pwd is None:
            return None
        return IceParameters(
            ufrag=ufrag,
            pwd=pwd,
            candidates=list(self.candidates),
            options=list(self.ice_options or session.ice_options),
            lite=session.ice_lite,
            end_of_candidates=self.end_of_candidates,
        )

    def dtls_parameters(self, session: SessionDescription) -> DtlsParameters | None:
        """Fingerprints and setup role, media level falling back to session level (RFC 8122 §5)."""
        fingerprints = self.fingerprints or session.fingerprints
        if not fingerprints:
            return None
        setup = self.setup if self.setup is not None else session.setup
        return DtlsParameters(list(fingerprints), setup)

    # -- serialising

    def lines(self, default_direction: str = "sendrecv") -> list[str]:
        """The section's lines; the direction is always written for RTP, else only if not the default."""
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        out = [f"m={' '.join([self.kind, port, self.proto, *self.formats])}"]
        if self.title is not None:
            out.append(f"i={self.title}")
        if self.connection is not None:
            addrtype = self.connection_addrtype or _addrtype_for(self.connection)
            out.append(f"c=IN {addrtype} {self.connection}")
        out += [f"b={kind}:{value}" for kind, value in self.bandwidth]
        if self.encryption_key is not None:
            out.append(f"k={self.encryption_key}")
        if self.rtcp is not None:
            rtcp_port, rtcp_address = self.rtcp
            if rtcp_address is None:
                out.append(f"a=rtcp:{rtcp_port}")
            else:
                out.append(f"a=rtcp:{rtcp_port} IN {_addrtype_for(rtcp_address)} {rtcp_address}")
        if self.ice_ufrag is not None:
            out.append(f"a=ice-ufrag:{self.ice_ufrag}")
        if self.ice_pwd is not None:
            out.append(f"a=ice-pwd:{self.ice_pwd}")
        if self.ice_options:
            out.append(f"a=ice-options:{' '.join(self.ice_options)}")
        out += [f"a=fingerprint:{hash_name} {value}" for hash_name, value in self.fingerprints]
        if self.setup is not None:
            out.append(f"a=setup:{self.setup}")
        if self.mid is not None:
            out.append(f"a=mid:{self.mid}")
        if self.is_rtp or self.direction != default_direction:
            out.append(f"a={self.direction}")
        if self.rtcp_mux:
            out.append("a=rtcp-mux")
        out += [f"a=crypto:{crypto}" for crypto in self.crypto]
        for codec in self.codecs:
            out.append(f"a=rtpmap:{codec.payload_type} {codec.rtpmap}")
            if codec.fmtp:
                out.append(f"a=fmtp:{codec.payload_type} {codec.fmtp}")
            elif codec.fmtp is not None:
                out.append(f"a=fmtp:{codec.payload_type}")
        if self.ptime is not None:
            out.append(f"a=ptime:{self.ptime}")
        if self.maxptime is not None:
            out.append(f"a=maxptime:{self.maxptime}")
        out += [_attribute_line(name, value) for name, value in self.attributes]
        out += [f"a=candidate:{candidate}" for candidate in self.candidates]
        if self.end_of_candidates:
            out.append("a=end-of-candidates")
        return out


def _attribute_line(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


@dataclass
class SessionDescription:
    """A whole session description (RFC 8866 §5)."""

    origin: Origin = field(default_factory=Origin)
    session_name: str = "-"
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    connection: str | None = None
    connection_addrtype: str | None = None
    bandwidth: list[tuple[str, int]] = field(default_factory=list)
    timing: list[Timing] = field(default_factory=lambda: [Timing()])
    zone: str | None = None
    encryption_key: str | None = None
    direction: str | None = None
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: list[str] = field(default_factory=list)
    ice_lite: bool = False
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    groups: list[tuple[str, list[str]]] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)

    @property
    def bundle(self) -> list[str]:
        """The mids of the first a=group:BUNDLE (RFC 8843), or an empty list."""
        return next((mids for semantics, mids in self.groups if semantics == "BUNDLE"), [])

    def attribute(self, name: str) -> str | None:
        """The value of the first unmodelled session attribute called ``name`` (``""`` for a flag)."""
        for key, value in self.attributes:
            if key == name:
                return "" if value is None else value
        return None

    def lines(self) -> list[str]:
        out = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        if self.information is not None:
            out.append(f"i={self.information}")
        if self.uri is not None:
            out.append(f"u={self.uri}")
        out += [f"e={email}" for email in self.emails]
        out += [f"p={phone}" for phone in self.phones]
        if self.connection is not None:
            addrtype = self.connection_addrtype or _addrtype_for(self.connection)
            out.append(f"c=IN {addrtype} {self.connection}")
        out += [f"b={kind}:{value}" for kind, value in self.bandwidth]
        for timing in self.timing:
            out.append(f"t={timing.start} {timing.stop}")
            out += [f"r={repeat}" for repeat in timing.repeats]
        if self.zone is not None:
            out.append(f"z={self.zone}")
        if self.encryption_key is not None:
            out.append(f"k={self.encryption_key}")
        out += [f"a=group:{' '.join([semantics, *mids])}" for semantics, mids in self.groups]
        if self.ice_lite:
            out.append("a=ice-lite")
        if self.ice_ufrag is not None:
            out.append(f"a=ice-ufrag:{self.ice_ufrag}")
        if self.ice_pwd is not None:
            out.append(f"a=ice-pwd:{self.ice_pwd}")
        if self.ice_options:
            out.append(f"a=ice-options:{' '.join(self.ice_options)}")
        out += [f"a=fingerprint:{hash_name} {value}" for hash_name, value in self.fingerprints]
        if self.setup is not None:
            out.append(f"a=setup:{self.setup}")
        if self.direction is not None:
            out.append(f"a={self.direction}")
        out += [_attribute_line(name, value) for name, value in self.attributes]
        for media in self.media:
            out += media.lines(self.direction or "sendrecv")
        return out

    def serialize(self) -> bytes:
        """The description as UTF-8 text with CRLF line endings."""
        return ("\r\n".join(self.lines()) + "\r\n").encode("utf-8")

    def __bytes__(self) -> bytes:
        return self.serialize()


# --------------------------------------------------------------------------------------------
# parser


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse_connection(value: str) -> tuple[str, str]:
    parts = value.split()
    if len(parts) != 3:
        raise SdpError("c= needs <nettype> <addrtype> <address>")
    if parts[0] != "IN":
        raise SdpError(f"unsupported network type {parts[0]!r}")
    return parts[1], parts[2]


def _parse_bandwidth(value: str) -> tuple[str, int]:
    kind, sep, amount = value.partition(":")
    if not sep or not _TOKEN.fullmatch(kind):
        raise SdpError("b= needs <bwtype>:<bandwidth>")
    return kind, _number(amount, "bandwidth")


def _parse_origin(value: str) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise SdpError("o= needs 6 fields: username sess-id sess-version nettype addrtype address")
    return Origin(
        username=parts[0],
        sess_id=_number(parts[1], "sess-id"),
        sess_version=_number(parts[2], "sess-version"),
        nettype=parts[3],
        addrtype=parts[4],
        address=parts[5],
    )


def _parse_timing(value: str) -> Timing:
    parts = value.split()
    if len(parts) != 2:
        raise SdpError("t= needs <start-time> <stop-time>")
    return Timing(_number(parts[0], "start time"), _number(parts[1], "stop time"))


def _parse_media_line(value: str) -> MediaDescription:
    parts = value.split()
    if len(parts) < 3:
        raise SdpError("m= needs <media> <port> <proto> <fmt> ...")
    kind, port_text, proto, formats = parts[0], parts[1], parts[2], parts[3:]
    if not _TOKEN.fullmatch(kind):
        raise SdpError(f"bad media type {kind!r}")
    port_text, slash, count_text = port_text.partition("/")
    port = _port(port_text)
    port_count = _number(count_text, "number of ports", _MAX_PORT) if slash else None
    if not _TOKEN.fullmatch(proto.replace("/", "")):
        raise SdpError(f"bad transport protocol {proto!r}")
    if not formats and port != 0:
        raise SdpError("m= has no formats")
    media = MediaDescription(kind=kind, port=port, proto=proto, formats=formats, port_count=port_count)
    if media.is_rtp:  # normalised so that a=rtpmap:8 matches a format written 08
        media.formats = [str(_number(fmt, "payload type", _MAX_PT)) for fmt in formats]
    return media


def _parse_rtpmap(text: str) -> tuple[str, int, int]:
    """``<encoding name>/<clock rate>[/<parameters>]``, the rtpmap value after the payload type."""
    pieces = text.strip().split("/")
    if len(pieces) not in (2, 3) or not pieces[0]:
        raise SdpError("a=rtpmap needs <payload type> <encoding name>/<clock rate>[/<parameters>]")
    clock_rate = _number(pieces[1], "clock rate")
    channels = _number(pieces[2], "channel count", 255) if len(pieces) == 3 else 1
    return pieces[0], clock_rate, channels


def _parse_ptime(value: str, what: str) -> int:
    """Packet time in ms; some agents write ``20.0``."""
    whole, dot, frac = value.partition(".")
    if dot and not (frac == "" or _DIGITS.fullmatch(frac)):
        raise SdpError(f"{what} is not a number: {value!r}")
    return _number(whole, what, 60_000)


def _parse_rtcp(value: str) -> tuple[int, str | None]:
    parts = value.split()
    if len(parts) == 1:
        return _port(parts[0]), None
    if len(parts) == 4 and parts[1] == "IN":
        return _port(parts[0]), parts[3]
    raise SdpError("a=rtcp needs <port> [IN <addrtype> <address>]")


def _parse_fingerprint(value: str) -> tuple[str, str]:
    parts = value.split()
    if len(parts) != 2:
        raise SdpError("a=fingerprint needs <hash-function> <fingerprint>")
    return parts[0], parts[1]


def _need(name: str, value: str | None) -> str:
    if value is None:
        raise SdpError(f"a={name} needs a value")
    return value


class _Parser:
    def __init__(self) -> None:
        self.sdp: SessionDescription | None = None
        self.media: MediaDescription | None = None
        self.explicit_direction: list[bool] = []
        self.rtpmaps: dict[str, tuple[str, int, int]] = {}  # a=rtpmap and a=fmtp of the current m= section,
        self.fmtps: dict[str, str] = {}  # turned into codecs when the section ends
        self.saw_origin = False
        self.saw_timing = False

    def line(self, kind: str, value: str) -> None:
        if self.sdp is None:
            if kind != "v":
                raise SdpError("the description must start with v=")
            self.sdp = SessionDescription(version=_number(value, "version"), timing=[])
            if self.sdp.version != 0:
                raise SdpError(f"unsupported SDP version {value}")
            return
        sdp = self.sdp
        if self.media is not None and kind in _SESSION_ONLY_TYPES:
            raise SdpError(f"{kind}= is not allowed in a media description")
        if kind == "v":
            raise SdpError("duplicate v=")
        if kind == "o":
            if self.saw_origin:
                raise SdpError("duplicate o=")
            sdp.origin = _parse_origin(value)
            self.saw_origin = True
        elif kind == "s":
            sdp.session_name = value
        elif kind == "i":
            if self.media is not None:
                self.media.title = value
            else:
                sdp.information = value
        elif kind == "u":
            sdp.uri = value
        elif kind == "e":
            sdp.emails.append(value)
        elif kind == "p":
            sdp.phones.append(value)
        elif kind == "c":
            addrtype, address = _parse_connection(value)
            if self.media is not None:
                self.media.connection, self.media.connection_addrtype = address, addrtype
            else:
                sdp.connection, sdp.connection_addrtype = address, addrtype
        elif kind == "b":
            (self.media.bandwidth if self.media is not None else sdp.bandwidth).append(
                _parse_bandwidth(value)
            )
        elif kind == "t":
            sdp.timing.append(_parse_timing(value))
            self.saw_timing = True
        elif kind == "r":
            if not sdp.timing:
                raise SdpError("r= without t=")
            sdp.timing[-1].repeats.append(value)
        elif kind == "z":
            sdp.zone = value
        elif kind == "k":
            if self.media is not None:
                self.media.encryption_key = value
            else:
                sdp.encryption_key = value
        elif kind == "m":
            self.finish_media()
            self.media = _parse_media_line(value)
            sdp.media.append(self.media)
            self.explicit_direction.append(False)
        elif kind == "a":
            name, sep, rest = value.partition(":")
            if not _TOKEN.fullmatch(name):
                raise SdpError(f"bad attribute name {name!r}")
            attr_value = rest if sep else None
            if self.media is not None:
                self.media_attribute(self.media, name, attr_value)
            else:
                self.session_attribute(sdp, name, attr_value)

    def session_attribute(self, sdp: SessionDescription, name: str, value: str | None) -> None:
        if name in DIRECTIONS:
            sdp.direction = name
        elif name == "ice-ufrag":
            sdp.ice_ufrag = _need(name, value)
        elif name == "ice-pwd":
            sdp.ice_pwd = _need(name, value)
        elif name == "ice-options":
            sdp.ice_options = _need(name, value).split()
        elif name == "ice-lite":
            sdp.ice_lite = True
        elif name == "fingerprint":
            sdp.fingerprints.append(_parse_fingerprint(_need(name, value)))
        elif name == "setup":
            sdp.setup = _need(name, value)
        elif name == "group":
            parts = _need(name, value).split()
            if not parts:
                raise SdpError("a=group needs a semantics")
            sdp.groups.append((parts[0], parts[1:]))
        else:
            sdp.attributes.append((name, value))

    def media_attribute(self, media: MediaDescription, name: str, value: str | None) -> None:
        if name in DIRECTIONS:
            media.direction = name
            self.explicit_direction[-1] = True
        elif name in ("rtpmap", "fmtp") and media.is_rtp:
            fmt_text, _, rest = _need(name, value).partition(" ")
            fmt = str(_number(fmt_text, "payload type", _MAX_PT))
            if name == "rtpmap":
                try:
                    rtpmap = _parse_rtpmap(rest)
                except SdpError:
                    # "a=rtpmap:31 LPC" (RFC 4475 §3.1.1.3) has no clock rate: an attribute we cannot read,
                    # for a format we would not use anyway, is kept as it is rather than refusing the offer
                    media.attributes.append((name, value))
                    return
                if fmt in media.formats:
                    self.rtpmaps[fmt] = rtpmap
                else:
                    media.attributes.append((name, value))
            elif fmt in media.formats:
                self.fmtps[fmt] = rest.strip()
            else:
                media.attributes.append((name, value))
        elif name == "ptime":
            media.ptime = _parse_ptime(_need(name, value), "ptime")
        elif name == "maxptime":
            media.maxptime = _parse_ptime(_need(name, value), "maxptime")
        elif name == "rtcp-mux":
            media.rtcp_mux = True
        elif name == "rtcp":
            media.rtcp = _parse_rtcp(_need(name, value))
        elif name == "crypto":
            media.crypto.append(Crypto.parse(_need(name, value)))
        elif name == "ice-ufrag":
            media.ice_ufrag = _need(name, value)
        elif name == "ice-pwd":
            media.ice_pwd = _need(name, value)
        elif name == "ice-options":
            media.ice_options = _need(name, value).split()
        elif name == "candidate" and value is not None:
            try:
                media.candidates.append(Candidate.parse(value))
            except SdpError:
                media.attributes.append((name, value))  # an odd candidate is ignored, not fatal
        elif name == "end-of-candidates":
            media.end_of_candidates = True
        elif name == "fingerprint":
            media.fingerprints.append(_parse_fingerprint(_need(name, value)))
        elif name == "setup":
            media.setup = _need(name, value)
        elif name == "mid":
            media.mid = _need(name, value)
        else:
            media.attributes.append((name, value))

    def finish_media(self) -> None:
        media = self.media
        if media is None or not media.is_rtp:
            return
        seen: set[str] = set()
        for fmt in media.formats:
            if fmt in seen:
                continue
            seen.add(fmt)
            known = self.rtpmaps.get(fmt) or STATIC_PAYLOAD_TYPES.get(int(fmt))
            if known is not None:
                name, clock_rate, channels = known
                media.codecs.append(Codec(int(fmt), name, clock_rate, channels, self.fmtps.pop(fmt, None)))
        for fmt, params in self.fmtps.items():  # fmtp of a format with no known codec: keep as it was
            media.attributes.append(("fmtp", f"{fmt} {params}" if params else fmt))
        self.rtpmaps = {}
        self.fmtps = {}

    def finish(self) -> SessionDescription:
        self.finish_media()
        if self.sdp is None:
            raise SdpError("empty description: missing v= line")
        if not self.saw_origin:
            raise SdpError("missing o= line")
        if not self.sdp.timing:
            self.sdp.timing.append(Timing())
        default = self.sdp.direction or "sendrecv"
        for media, explicit in zip(self.sdp.media, self.explicit_direction, strict=True):
            if not explicit:
                media.direction = default
        return self.sdp


def parse_sdp(data: bytes | str) -> SessionDescription:
    """Parse a session description; raises `SdpError` (and nothing else) if it is malformed."""
    text = _decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = _Parser()
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip(" \t\r")
        if not line:
            continue
        shown = line if len(line) <= 80 else line[:77] + "..."
        kind = line[0]
        if len(line) < 2 or line[1] != "=" or not ("a" <= kind <= "z"):
            raise SdpError(f"line {lineno}: expected <type>=<value>, got {shown!r}")
        if kind not in _KNOWN_TYPES:
            continue  # RFC 8866 §5: unknown types are ignored
        try:
            parser.line(kind, line[2:])
        except SdpError as exc:
            raise SdpError(f"line {lineno} ({shown!r}): {exc}") from None
    return parser.finish()


# --------------------------------------------------------------------------------------------
# offer/answer


@dataclass(frozen=True)
class CodecSpec:
    """A codec we can encode and decode: its SDP form and payload type preferences."""

    name: str
    clock_rate: int
    channels: int = 1
    static_pt: int | None = None
    dynamic_pt: int | None = None
    fmtp: str | None = None

    def codec(self, payload_type: int) -> Codec:
        return Codec(payload_type, self.name, self.clock_rate, self.channels, self.fmtp)

    def matches(self, codec: Codec) -> bool:
        return self.codec(codec.payload_type).same_format(codec)


CODEC_SPECS: dict[str, CodecSpec] = {
    "opus": CodecSpec("opus", 48000, 2, dynamic_pt=111, fmtp="minptime=10;useinbandfec=1"),
    "g722": CodecSpec("G722", 8000, static_pt=9),
    "pcmu": CodecSpec("PCMU", 8000, static_pt=0),
    "pcma": CodecSpec("PCMA", 8000, static_pt=8),
}
_TELEPHONE_EVENT_PTS = {8000: 101, 48000: 110}
_TELEPHONE_EVENT_FMTP = "0-16"


@dataclass
class LocalMedia:
    """What we can do and where we receive: the local side of offer/answer."""

    address: str
    port: int
    rtcp_port: int | None = None
    """None: RTCP on port + 1 (no a=rtcp line) or on the RTP port with rtcp-mux."""
    codecs: list[str] = field(default_factory=lambda: ["opus", "G722", "PCMU", "PCMA"])
    dtmf: bool = True
    srtp: str = "optional"
    """off: RTP/AVP, no keys; optional: RTP/AVP with a=crypto (best-effort SRTP); required: RTP/SAVP."""
    crypto_suites: list[str] = field(
        default_factory=lambda: ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
    )
    ptime: int = 20
    direction: str = "sendrecv"
    rtcp_mux: bool = True
    accept_dtls: bool = False
    """Answer UDP/TLS/RTP/SAVPF offers (DTLS-SRTP is then the caller's business); needs dtls_fingerprints."""
    dtls_fingerprints: list[tuple[str, str]] = field(default_factory=list)
    profile: str = "classic"
    """What offers use: classic (RTP/AVP or RTP/SAVP, SDES keys) or webrtc (UDP/TLS/RTP/SAVPF with DTLS-SRTP,
    ICE, rtcp-mux and BUNDLE: RFC 8829 §5.2, RFC 8842).  Answers always follow the offer's profile."""
    ssrc: int | None = None
    """Our RTP SSRC and RTCP CNAME, announced with a=ssrc (RFC 5576) in WebRTC descriptions."""
    cname: str | None = None
    msid: tuple[str, str] | None = None
    """(stream id, track id) for a=msid (RFC 8830) in WebRTC descriptions: a browser's track gets a stream."""
    ice: IceParameters | None = None
    """Our ICE credentials and candidates, put in offers and in answers to ICE offers."""
    prefer_local_order: bool = False
    """Answerer: pick by our codec order instead of the offerer's (RFC 3264 §6.1 suggests the offerer's)."""

    def __post_init__(self) -> None:
        for name in self.codecs:
            if name.lower() not in CODEC_SPECS:
                raise ValueError(f"unsupported codec {name!r}; known: {', '.join(CODEC_SPECS)}")
        if self.srtp not in ("off", "optional", "required"):
            raise ValueError(f"srtp must be off, optional or required, not {self.srtp!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"bad direction {self.direction!r}")
        for suite in self.crypto_suites:
            if suite not in SRTP_KEY_LENGTHS:
                raise ValueError(f"unknown crypto suite {suite!r}")
        if self.srtp != "off" and not self.crypto_suites:
            raise ValueError("SRTP needs at least one crypto suite")
        if self.accept_dtls and not self.dtls_fingerprints:
            raise ValueError("accept_dtls needs dtls_fingerprints")
        if self.profile not in ("classic", "webrtc"):
            raise ValueError(f"profile must be classic or webrtc, not {self.profile!r}")
        if self.profile == "webrtc" and (not self.accept_dtls or self.ice is None or self.srtp == "off"):
            raise ValueError("the webrtc profile needs DTLS fingerprints, ICE and SRTP")
        if not 0 <= self.port <= _MAX_PORT:
            raise ValueError(f"bad port {self.port}")
        if self.rtcp_port is not None and not 0 < self.rtcp_port <= _MAX_PORT:
            raise ValueError(f"bad RTCP port {self.rtcp_port}")

    @property
    def specs(self) -> list[CodecSpec]:
        return [CODEC_SPECS[name.lower()] for name in self.codecs]


@dataclass
class SdpSession:
    """The o= line of one SIP session, and our SDES keys.

    Each description we send goes through `stamp`: the origin stays the same for the whole session
    and its version grows by one whenever the description differs from the previous one (RFC 3264 §8).

    Every offer and answer carries fresh SDES keys unless ``reuse_keys`` is set (RFC 4568 §7.1.4
    allows both). Reusing a key is only safe if the SRTP context, with its rollover counter, lives
    on; a context rebuilt with an old key after a sequence number wrap would reuse key stream.
    """

    username: str = "-"
    session_id: int = field(default_factory=lambda: secrets.randbelow(2**62) + 1)
    version: int = 1
    address: str | None = None
    """The o= address; None: the c= address of the first description stamped."""
    session_name: str = "-"
    reuse_keys: bool = False
    _last: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _keys: dict[str, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    def origin(self) -> Origin:
        address = self.address or "0.0.0.0"
        return Origin(self.username, self.session_id, self.version, "IN", _addrtype_for(address), address)

    def stamp(self, description: SessionDescription) -> SessionDescription:
        """Give ``description`` our origin, bumping the version if it changed since the last one."""
        if self.address is None:
            self.address = description.connection or next(
                (m.connection for m in description.media if m.connection), "0.0.0.0"
            )
        description.origin = self.origin()
        body = description.serialize()
        if self._last is not None and body != self._last:
            self.version += 1
            description.origin = self.origin()
            body = description.serialize()
        self._last = body
        return description

    def key(self, suite: str, key_factory: Callable[[int], bytes] = secrets.token_bytes) -> bytes:
        """Our key||salt for ``suite``: a fresh one, or with ``reuse_keys`` the one used before."""
        if self.reuse_keys and suite in self._keys:
            return self._keys[suite]
        key = key_factory(SRTP_KEY_LENGTHS[suite])
        if len(key) != SRTP_KEY_LENGTHS[suite]:
            raise ValueError(f"key factory gave {len(key)} bytes for {suite}")
        self._keys[suite] = key
        return key

    def rekey(self) -> None:
        """Forget the kept keys (with ``reuse_keys``): the next description carries new ones."""
        self._keys.clear()


@dataclass
class Negotiated:
    """The outcome of offer/answer for the audio stream, from our point of view."""

    codec: Codec
    """The codec we send, as the remote declared it (its payload type and fmtp)."""
    send_pt: int
    recv_pt: int
    telephone_event_send_pt: int | None
    telephone_event_recv_pt: int | None
    telephone_event_rate: int | None
    remote_address: str
    remote_port: int
    remote_rtcp: tuple[str, int] | None
    """Where to send RTCP; None with rtcp-mux (RTCP goes to the RTP address)."""
    rtcp_mux: bool
    direction: str
    """What we may do: sendrecv, sendonly, recvonly or inactive."""
    held: bool
    """The remote put us on hold (a=sendonly, a=inactive or c=0.0.0.0): it does not want our media."""
    ptime: int
    profile: str
    srtp: bool
    local_crypto: Crypto | None
    """We encrypt with our key."""
    remote_crypto: Crypto | None
    """We decrypt with the remote's key."""
    recv_codecs: list[Codec] = field(default_factory=list)
    """Every codec the remote may send us, with the payload type it will carry (ours)."""
    ice: IceParameters | None = None
    dtls: DtlsParameters | None = None
    """The peer's DTLS-SRTP fingerprints and setup (UDP/TLS/RTP/SAVPF only)."""
    dtls_role: str | None = None
    """Our DTLS role from the a=setup exchange (RFC 5763 §5): client (we start the handshake) or server."""
    media_index: int = 0
    mid: str | None = None


def create_offer(
    local: LocalMedia,
    *,
    session: SdpSession,
    key_factory: Callable[[int], bytes] = secrets.token_bytes,
) -> SessionDescription:
    """An offer with one audio stream (RFC 3264 §5).

    For hold, offer again with ``dataclasses.replace(local, direction="sendonly")``: the session
    keeps the origin and bumps the version.
    """
    webrtc = local.profile == "webrtc"
    profile = _DTLS_PROFILE if webrtc else "RTP/SAVP" if local.srtp == "required" else "RTP/AVP"
    media = MediaDescription(kind="audio", port=local.port, proto=profile, formats=[])
    used: set[int] = set()
    next_dynamic = 96

    def dynamic(preferred: int | None) -> int:
        nonlocal next_dynamic
        if preferred is not None and preferred not in used:
            return preferred
        while next_dynamic in used:
            next_dynamic += 1
        return next_dynamic

    rates: list[int] = []
    for spec in local.specs:
        pt = spec.static_pt if spec.static_pt is not None else dynamic(spec.dynamic_pt)
        used.add(pt)
        media.add_codec(spec.codec(pt))
        if spec.clock_rate not in rates:
            rates.append(spec.clock_rate)
    if local.dtmf:
        for rate in sorted(set(rates) | {8000}):
            pt = dynamic(_TELEPHONE_EVENT_PTS.get(rate))
            used.add(pt)
            media.add_codec(Codec(pt, TELEPHONE_EVENT, rate, 1, _TELEPHONE_EVENT_FMTP))
    if local.srtp != "off" and not webrtc:
        media.crypto = [
            Crypto.with_key(tag, suite, session.key(suite, key_factory))
            for tag, suite in enumerate(local.crypto_suites, 1)
        ]
    media.ptime = local.ptime
    media.direction = local.direction
    media.rtcp_mux = local.rtcp_mux or webrtc
    if local.rtcp_port is not None and not media.rtcp_mux:
        media.rtcp = (local.rtcp_port, None)
    _add_local_ice(media, local)
    description = SessionDescription(
        session_name=session.session_name, connection=local.address, media=[media]
    )
    if webrtc:
        # RFC 8842 §5.2: the offerer lets the answerer pick the DTLS role
        media.fingerprints = list(local.dtls_fingerprints)
        media.setup = "actpass"
        media.mid = WEBRTC_MID
        _add_webrtc_attributes(media, local, rtcp_rsize=True)
        description.groups = [("BUNDLE", [WEBRTC_MID])]  # RFC 8843: browsers bundle everything
    return session.stamp(description)


def _add_webrtc_attributes(media: MediaDescription, local: LocalMedia, *, rtcp_rsize: bool) -> None:
    """rtcp-rsize (RFC 5506), msid (RFC 8830) and ssrc (RFC 5576): what a browser's description carries.

    Without a=msid a browser's track event has no stream; without a=ssrc it still accepts our RTP (the
    first unsignalled SSRC), but names it only once the first packet arrives.
    """
    if rtcp_rsize:
        media.attributes.append(("rtcp-rsize", None))
    if local.msid is not None:
        media.attributes.append(("msid", " ".join(local.msid)))
    if local.ssrc is not None:
        media.attributes.append(("ssrc", f"{local.ssrc} cname:{local.cname or AGENT}"))
        if local.msid is not None:
            media.attributes.append(("ssrc", f"{local.ssrc} msid:{' '.join(local.msid)}"))


def _add_local_ice(media: MediaDescription, local: LocalMedia) -> None:
    if local.ice is None:
        return
    media.ice_ufrag = local.ice.ufrag
    media.ice_pwd = local.ice.pwd
    media.ice_options = list(local.ice.options)
    media.candidates = list(local.ice.candidates)
    media.end_of_candidates = local.ice.end_of_candidates


def _rejected(offered: MediaDescription) -> MediaDescription:
    """The answer to a stream we refuse: same m= line with port 0 (RFC 3264 §6)."""
    formats = list(offered.formats) or (["0"] if offered.is_rtp else ["*"])
    return MediaDescription(
        kind=offered.kind, port=0, proto=offered.proto, formats=formats, direction="inactive", mid=offered.mid
    )


def _profile_kind(proto: str, local: LocalMedia) -> str:
    """'plain', 'sdes' or 'dtls' for a transport protocol we can do; NegotiationError otherwise."""
    upper = proto.upper()
    if upper in _RTP_PROFILES_PLAIN:
        return "plain"
    if upper in _RTP_PROFILES_SDES and local.srtp != "off":
        return "sdes"
    if upper == _DTLS_PROFILE and local.accept_dtls and local.srtp != "off":
        return "dtls"
    raise NegotiationError(WARN_INCOMPATIBLE_PROTOCOL, f"Transport protocol {proto} not supported")


def _remote_direction(session: SessionDescription, media: MediaDescription) -> str:
    """The remote's direction, where c=0.0.0.0 (RFC 2543 hold; RFC 3264 §8.4) means: send it nothing.

    With ICE, 0.0.0.0 is only a placeholder (RFC 8839 §4.2.4), not hold.
    """
    direction = media.direction
    if _is_null_address(media.effective_connection(session)) and media.ice_parameters(session) is None:
        direction = intersect_directions(direction, "sendonly")
    return direction


def _remote_transport(
    session: SessionDescription, media: MediaDescription, rtcp_mux: bool
) -> tuple[str, int, tuple[str, int] | None]:
    address = media.effective_connection(session)
    if address is None:
        raise SdpError("no c= line for the audio stream")
    if rtcp_mux:
        return address, media.port, None
    if media.rtcp is not None:
        rtcp_port, rtcp_address = media.rtcp
        return address, media.port, (rtcp_address or address, rtcp_port)
    return address, media.port, (address, media.port + 1)


def _choose_crypto(offered: MediaDescription, local: LocalMedia) -> Crypto | None:
    return next((c for c in offered.crypto if c.problem(local.crypto_suites) is None), None)


def _no_crypto_error(offered: MediaDescription, what: str) -> NegotiationError:
    # Crypto lines we cannot use are attributes not understood (306); no key at all is a
    # policy mismatch no 30x code names, so 399 with a plain explanation.
    if offered.crypto:
        return NegotiationError(WARN_ATTRIBUTE_NOT_UNDERSTOOD, "No supported crypto attribute")
    return NegotiationError(WARN_MISC, what)


def _answer_stream(
    offer: SessionDescription,
    index: int,
    offered: MediaDescription,
    local: LocalMedia,
    session: SdpSession,
    key_factory: Callable[[int], bytes],
) -> tuple[MediaDescription, Negotiated]:
    kind = _profile_kind(offered.proto, local)

    # codec: the offerer's order unless asked otherwise; one codec plus telephone-event
    specs = local.specs
    choices = [(codec, spec) for codec in offered.audio_codecs for spec in specs if spec.matches(codec)]
    if local.prefer_local_order:
        choices.sort(key=lambda pair: specs.index(pair[1]))
    if not choices:
        raise NegotiationError(WARN_INCOMPATIBLE_FORMAT, "Incompatible media format")
    remote_codec, spec = choices[0]
    our_codec = Codec(
        remote_codec.payload_type, remote_codec.name, spec.clock_rate, remote_codec.channels, spec.fmtp
    )
    remote_event = offered.telephone_event_for(remote_codec.clock_rate) if local.dtmf else None

    # keys
    remote_crypto = local_crypto = None
    dtls: DtlsParameters | None = None
    if kind == "dtls":
        dtls = offered.dtls_parameters(offer)
        if dtls is None:
            raise NegotiationError(WARN_ATTRIBUTE_NOT_UNDERSTOOD, "DTLS fingerprint missing")
    elif kind == "sdes" or (local.srtp != "off" and offered.crypto):
        remote_crypto = _choose_crypto(offered, local)
        if remote_crypto is None and (kind == "sdes" or local.srtp == "required"):
            raise _no_crypto_error(offered, "SRTP required" if kind == "plain" else "SDES key missing")
        if remote_crypto is not None:
            local_crypto = Crypto.with_key(
                remote_crypto.tag, remote_crypto.suite, session.key(remote_crypto.suite, key_factory)
            )
    elif local.srtp == "required":
        raise _no_crypto_error(offered, "SRTP required")

    remote_direction = _remote_direction(offer, offered)
    direction = intersect_directions(mirror_direction(remote_direction), local.direction)
    rtcp_mux = offered.rtcp_mux and (local.rtcp_mux or kind == "dtls")
    address, port, rtcp = _remote_transport(offer, offered, rtcp_mux)

    answer = MediaDescription(kind="audio", port=local.port, proto=offered.proto, formats=[])
    answer.add_codec(our_codec)
    if remote_event is not None:
        answer.add_codec(replace(remote_event))
    answer.direction = direction
    answer.ptime = offered.ptime if offered.ptime is not None else local.ptime
    answer.rtcp_mux = rtcp_mux
    if local.rtcp_port is not None and not rtcp_mux:
        answer.rtcp = (local.rtcp_port, None)
    if local_crypto is not None:
        answer.crypto = [local_crypto]
    answer.mid = offered.mid
    remote_ice = offered.ice_parameters(offer)
    if remote_ice is not None:
        _add_local_ice(answer, local)
    if dtls is not None:
        answer.fingerprints = list(local.dtls_fingerprints)
        answer.setup = "passive" if dtls.setup == "active" else "active"  # RFC 5763 §5
        _add_webrtc_attributes(answer, local, rtcp_rsize=offered.attribute("rtcp-rsize") is not None)

    negotiated = Negotiated(
        codec=replace(remote_codec),
        send_pt=remote_codec.payload_type,
        recv_pt=our_codec.payload_type,
        telephone_event_send_pt=remote_event.payload_type if remote_event else None,
        telephone_event_recv_pt=remote_event.payload_type if remote_event else None,
        telephone_event_rate=remote_event.clock_rate if remote_event else None,
        remote_address=address,
        remote_port=port,
        remote_rtcp=rtcp,
        rtcp_mux=rtcp_mux,
        direction=direction,
        held=not _dir_flags(remote_direction)[1],
        ptime=offered.ptime or local.ptime,
        profile=offered.proto,
        srtp=local_crypto is not None or dtls is not None,
        local_crypto=local_crypto,
        remote_crypto=remote_crypto,
        recv_codecs=[replace(our_codec)],
        ice=remote_ice,
        dtls=dtls,
        dtls_role=None if dtls is None else "client" if answer.setup == "active" else "server",
        media_index=index,
        mid=offered.mid,
    )
    return answer, negotiated


def create_answer(
    offer: SessionDescription,
    local: LocalMedia,
    *,
    session: SdpSession,
    key_factory: Callable[[int], bytes] = secrets.token_bytes,
) -> tuple[SessionDescription, Negotiated]:
    """Answer ``offer`` (RFC 3264 §6): accept the first usable audio stream, refuse the rest.

    Raises `NegotiationError` (488 with a Warning) when no stream can be accepted, and `SdpError`
    when the accepted stream has no connection address.
    """
    answer_media: list[MediaDescription] = []
    negotiated: Negotiated | None = None
    failure: NegotiationError | None = None
    for index, offered in enumerate(offer.media):
        if negotiated is None and offered.kind == "audio" and offered.port != 0:
            try:
                media, negotiated = _answer_stream(offer, index, offered, local, session, key_factory)
            except NegotiationError as exc:
                failure = failure or exc
            else:
                answer_media.append(media)
                continue
        answer_media.append(_rejected(offered))
    if negotiated is None:
        raise failure or NegotiationError(WARN_MEDIA_TYPE_NOT_AVAILABLE, "Media type not available")
    answer = SessionDescription(
        session_name=session.session_name, connection=local.address, media=answer_media
    )
    if negotiated.mid is not None and negotiated.mid in offer.bundle:
        answer.groups = [("BUNDLE", [negotiated.mid])]
    return session.stamp(answer), negotiated


def negotiate_answer(offer: SessionDescription, answer: SessionDescription, local: LocalMedia) -> Negotiated:
    """The offerer's side: what the answer to our ``offer`` means for us (RFC 3264 §7)."""
    if len(answer.media) != len(offer.media):
        raise NegotiationError(
            WARN_MISC, f"Answer has {len(answer.media)} m= lines, the offer had {len(offer.media)}"
        )
    pair = next(
        (
            (index, ours, theirs)
            for index, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True))
            if ours.kind == "audio" and ours.port != 0 and theirs.port != 0
        ),
        None,
    )
    if pair is None:
        raise NegotiationError(WARN_MEDIA_TYPE_NOT_AVAILABLE, "Audio stream refused")
    index, ours, theirs = pair
    if theirs.proto.upper() != ours.proto.upper():
        raise NegotiationError(WARN_INCOMPATIBLE_PROTOCOL, f"Answer changed the profile to {theirs.proto}")
    kind = _profile_kind(ours.proto, local)

    # codecs: the answer lists what the answerer receives, first preferred (RFC 3264 §7)
    pairs = [
        (their_codec, our_codec)
        for their_codec in theirs.audio_codecs
        for our_codec in ours.audio_codecs
        if our_codec.same_format(their_codec)
    ]
    if not pairs:
        raise NegotiationError(WARN_INCOMPATIBLE_FORMAT, "Incompatible media format")
    send_codec, recv_codec = pairs[0]
    send_event = theirs.telephone_event_for(send_codec.clock_rate) if local.dtmf else None
    recv_event = None
    if send_event is not None:
        recv_event = next((e for e in ours.telephone_events if e.clock_rate == send_event.clock_rate), None)
        if recv_event is None:
            send_event = None  # the answerer named a telephone-event rate we did not offer

    remote_crypto = local_crypto = None
    dtls: DtlsParameters | None = None
    if kind == "dtls":
        dtls = theirs.dtls_parameters(answer)
        if dtls is None:
            raise NegotiationError(WARN_ATTRIBUTE_NOT_UNDERSTOOD, "DTLS fingerprint missing")
    elif ours.crypto and theirs.crypto:
        remote_crypto = theirs.crypto[0]
        local_crypto = next(
            (c for c in ours.crypto if c.tag == remote_crypto.tag and c.suite == remote_crypto.suite), None
        )
        if local_crypto is None or remote_crypto.problem(local.crypto_suites) is not None:
            raise NegotiationError(WARN_ATTRIBUTE_NOT_UNDERSTOOD, "Crypto attribute not understood")
    elif kind == "sdes" or local.srtp == "required":
        raise NegotiationError(WARN_MISC, "SRTP required")

    remote_direction = _remote_direction(answer, theirs)
    direction = intersect_directions(ours.direction, mirror_direction(remote_direction))
    rtcp_mux = ours.rtcp_mux and theirs.rtcp_mux
    address, port, rtcp = _remote_transport(answer, theirs, rtcp_mux)
    return Negotiated(
        codec=replace(send_codec),
        send_pt=send_codec.payload_type,
        recv_pt=recv_codec.payload_type,
        telephone_event_send_pt=send_event.payload_type if send_event else None,
        telephone_event_recv_pt=recv_event.payload_type if recv_event else None,
        telephone_event_rate=send_event.clock_rate if send_event else None,
        remote_address=address,
        remote_port=port,
        remote_rtcp=rtcp,
        rtcp_mux=rtcp_mux,
        direction=direction,
        held=not _dir_flags(remote_direction)[1],
        ptime=theirs.ptime or local.ptime,
        profile=ours.proto,
        srtp=local_crypto is not None or dtls is not None,
        local_crypto=local_crypto,
        remote_crypto=remote_crypto,
        recv_codecs=[replace(our) for _, our in pairs],
        ice=theirs.ice_parameters(answer),
        dtls=dtls,
        # we offered actpass; an answer without a=setup means active (RFC 4145 §4)
        dtls_role=None if dtls is None else "client" if dtls.setup == "passive" else "server",
        media_index=index,
        mid=theirs.mid or ours.mid,
    )
