"""Account settings: who the user is at a provider, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sip.errors import ParseError
from ..sip.uri import SipUri, parse_sip_uri
from ..transport.websocket import url_endpoint

TRANSPORTS = ("udp", "tcp", "tls", "ws", "wss")


class AccountError(ValueError):
    """An account setting that cannot work, with a message for the user."""


FORWARD_MODES = ("off", "always", "busy", "no_answer")


@dataclass
class AccountConfig:
    """One SIP account. The password is never stored here on disk: see ``secrets``."""

    aor: str
    auth_user: str | None = None
    password: str | None = field(default=None, repr=False)
    display_name: str | None = None
    transport: str = "udp"
    proxy: str | None = None
    registrar: str | None = None
    expires: int = 600
    register: bool = True
    tls_verify: bool = True
    ca_file: str | None = None
    allow_direct_calls: bool = False
    keepalive_interval: float | None = None  # seconds; None picks per transport
    retry_base: float = 1.0  # first retry after a failure, doubled each time (RFC 5626 §4.5)
    retry_max: float = 60.0
    name: str | None = None
    ws_url: str | None = None  # ws(s)://host:port/path of the SIP WebSocket server (RFC 7118)
    # NAT traversal for this account's calls (RFC 8445 ICE, RFC 8489 STUN, RFC 8656 TURN)
    stun_server: str | None = None  # host[:port] or stun: URI
    turn_server: str | None = None  # host[:port], turn:host[:port][?transport=tcp] or turns: URI
    turn_username: str | None = None
    turn_password: str | None = field(default=None, repr=False)  # on disk only in the keyring
    ice_relay_only: bool = False  # offer only the relayed candidate (hides our addresses)
    ice: bool = False  # ICE on classic calls too (WebRTC calls always use it)
    media_profile: str = "auto"  # classic | webrtc | auto (webrtc for ws/wss, classic otherwise)
    auto_answer: bool = False  # answer incoming calls by itself, after auto_answer_delay seconds
    auto_answer_delay: float = 0.0
    forward: str = "off"  # off | always | busy | no_answer: redirect incoming calls (302) to forward_to
    forward_to: str | None = None  # a number, user name or SIP address
    forward_after: float = 20.0  # no_answer: seconds of ringing before the call is forwarded

    def __post_init__(self) -> None:
        if self.forward not in FORWARD_MODES:
            raise AccountError(f"unknown call forwarding {self.forward!r} ({', '.join(FORWARD_MODES)})")
        if self.forward != "off" and not (self.forward_to or "").strip():
            raise AccountError("call forwarding needs a number or address to forward to")
        if not self.aor.lower().startswith(("sip:", "sips:")):
            self.aor = "sip:" + self.aor
        try:
            uri = parse_sip_uri(self.aor)
        except ParseError as exc:
            raise AccountError(f"not a SIP address: {self.aor} ({exc.reason})") from None
        if uri.user is None:
            raise AccountError(f"the SIP address {self.aor} has no user part")
        self.transport = self.transport.lower()
        if self.transport not in TRANSPORTS:
            raise AccountError(f"unknown transport {self.transport!r}; use one of {', '.join(TRANSPORTS)}")
        if uri.secure and self.transport not in ("tls", "wss"):
            # sips: requires TLS on every hop (RFC 3261 §26.2.2)
            self.transport = "wss" if self.transport == "ws" else "tls"
        if self.media_profile not in ("classic", "webrtc", "auto"):
            raise AccountError(f"media profile must be classic, webrtc or auto, not {self.media_profile!r}")
        if self.ice_relay_only and not self.turn_server:
            raise AccountError("relay-only needs a TURN server")
        if self.expires < 0:
            raise AccountError("registration interval must be positive")
        if self.proxy is not None and not self.proxy.lower().startswith(("sip:", "sips:")):
            self.proxy = "sip:" + self.proxy
        if self.ws_url is not None:
            self.ws_url = self.ws_url.strip() or None
        if self.ws_url is not None and self.transport in ("ws", "wss"):
            try:
                scheme = url_endpoint(self.ws_url)[0]
            except ValueError as exc:
                raise AccountError(str(exc)) from None
            self.transport = scheme  # the URL says whether the WebSocket is secure

    @property
    def uri(self) -> SipUri:
        return parse_sip_uri(self.aor)

    @property
    def id(self) -> str:
        return self.name or self.uri.aor

    @property
    def username(self) -> str:
        return self.auth_user or (self.uri.user or "")

    @property
    def registrar_uri(self) -> SipUri:
        if self.registrar:
            text = self.registrar if ":" in self.registrar.split("@")[0] else "sip:" + self.registrar
            return parse_sip_uri(text)
        uri = self.uri
        return SipUri(host=uri.host, port=uri.port, scheme=uri.scheme)

    @property
    def proxy_uri(self) -> SipUri | None:
        return parse_sip_uri(self.proxy) if self.proxy else None

    @property
    def websocket_url(self) -> str | None:
        """Where a ws/wss account connects: ``ws_url``, else ws(s)://<proxy or registrar>:<port>/."""
        if self.transport not in ("ws", "wss"):
            return None
        if self.ws_url:
            return self.ws_url
        hop = self.proxy_uri or self.registrar_uri
        host = f"[{hop.host}]" if ":" in hop.host and not hop.host.startswith("[") else hop.host
        port = hop.port or (443 if self.transport == "wss" else 80)
        return f"{self.transport}://{host}:{port}/"

    def media_settings(self) -> dict[str, object]:
        """What this account changes in the media options of its calls (only what it sets)."""
        settings: dict[str, object] = {}
        if self.stun_server or self.turn_server or self.ice:
            settings["ice"] = True
        for name in ("stun_server", "turn_server", "turn_username", "turn_password"):
            value = getattr(self, name)
            if value:
                settings[name] = value
        if self.ice_relay_only:
            settings["ice_relay_only"] = True
        if self.media_profile != "auto":
            settings["profile"] = self.media_profile
        return settings

    def keepalive(self) -> float:
        if self.keepalive_interval is not None:
            return self.keepalive_interval
        # UDP NAT bindings often expire after 30 s; streams live longer (RFC 5626 §4.4.1).
        return 25.0 if self.transport == "udp" else 60.0
