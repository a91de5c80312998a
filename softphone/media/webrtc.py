"""DTLS-SRTP (RFC 5763, RFC 5764) over our ICE transport: the keying half of the WebRTC media profile.

A WebRTC call (UDP/TLS/RTP/SAVPF) differs from an SDES one only in where the SRTP keys come from: a DTLS
handshake on the media path, authenticated by the certificate fingerprints exchanged in SDP.  Everything
else is our own pipeline, for every profile: :class:`~softphone.media.rtp.RtpSession` with our
:class:`~softphone.media.srtp.SrtpContext`, our jitter buffer, concealment and playout clock.  aiortc's
RTCPeerConnection is not used at all: its receive path (a fixed 16-packet buffer, no concealment, 0.5-1 s
of delay) is what the issue rules out, and it refuses SDES and plain RTP anyway.

The pieces, one datagram pipe (RFC 7983 demultiplexing on the first byte)::

    IceTransport --on_datagram--> DtlsSrtpTransport.receive_datagram
                                    20-63   DTLS records -> the handshake (pyOpenSSL, memory BIO)
                                    128-191 SRTP/SRTCP   -> on_rtp (RtpSession.receive_datagram)
    RtpSession.attach_transport(DtlsSrtpTransport.send_rtp) --> IceTransport.send

The handshake runs once ICE has a pair (once per call: the sender is a callable that follows an ICE
restart to the new pair, RFC 8842 §4); when it completes, the fingerprint of the peer's certificate is
checked against its a=fingerprint and the SRTP master keys are exported (RFC 5764 §4.2) into an
:class:`SrtpContext` handed to ``on_keys`` (the RtpSession's ``set_srtp``).  Until then nothing RTP goes
either way: :meth:`DtlsSrtpTransport.send_rtp` drops, received SRTP is dropped.

This module uses pyOpenSSL and cryptography (aiortc's own dependencies) through public API only; nothing
private of aiortc is touched.  Only AES_CM_128_HMAC_SHA1_80/_32 are offered in use_srtp, the suites our
srtp.py speaks; every browser accepts AES_CM_128_HMAC_SHA1_80.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL

from .srtp import SrtpContext, SrtpKey

__all__ = [
    "DtlsCertificate",
    "DtlsError",
    "DtlsSrtpTransport",
    "certificate_fingerprint",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int]

HANDSHAKE_TIMEOUT: Final = 15.0
MAX_EARLY_RECORDS: Final = 32  # DTLS records kept from before the handshake started
MAX_DATAGRAM: Final = 65536
# use_srtp profile (RFC 5764 §4.1.2) -> our SDES suite name, key and salt lengths
_SRTP_PROFILES: Final[dict[bytes, tuple[str, int, int]]] = {
    b"SRTP_AES128_CM_SHA1_80": ("AES_CM_128_HMAC_SHA1_80", 16, 14),
    b"SRTP_AES128_CM_SHA1_32": ("AES_CM_128_HMAC_SHA1_32", 16, 14),
}
_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "sha-1": hashes.SHA1,
    "sha-224": hashes.SHA224,
    "sha-256": hashes.SHA256,
    "sha-384": hashes.SHA384,
    "sha-512": hashes.SHA512,
}
# ECDSA certificates, as browsers use (RSA would need other suites); DTLS 1.2 AEAD first
_CIPHERS: Final = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
    b"ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"
)


class DtlsError(OSError):
    """The DTLS handshake failed, timed out, or the peer's certificate does not match its fingerprint."""


def certificate_fingerprint(certificate: x509.Certificate, algorithm: str = "sha-256") -> str:
    """The a=fingerprint value (RFC 8122 §5): upper-case hex pairs joined by colons."""
    factory = _HASHES.get(algorithm.lower())
    if factory is None:
        raise ValueError(f"unsupported fingerprint hash {algorithm!r}")
    return ":".join(f"{byte:02X}" for byte in certificate.fingerprint(factory()))


@dataclass(frozen=True)
class DtlsCertificate:
    """A self-signed ECDSA P-256 certificate for DTLS; its identity is only its fingerprint in our SDP."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, days: int = 30) -> DtlsCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, secrets.token_hex(8))])
        now = datetime.datetime.now(tz=datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))  # a peer's clock may be behind
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def fingerprint(self, algorithm: str = "sha-256") -> str:
        return certificate_fingerprint(self.certificate, algorithm)

    def ssl_context(self) -> SSL.Context:
        context = SSL.Context(SSL.DTLS_METHOD)
        context.set_options(SSL.OP_NO_TICKET)
        # Self-signed on both sides: any chain is accepted here, the fingerprint is checked afterwards.
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *_: True)
        context.use_certificate(self.certificate)
        context.use_privatekey(self.key)
        context.set_cipher_list(_CIPHERS)
        context.set_tlsext_use_srtp(b":".join(_SRTP_PROFILES))
        return context


def _is_dtls(first_byte: int) -> bool:
    return 20 <= first_byte <= 63  # RFC 7983 §7


def _is_rtp_or_rtcp(first_byte: int) -> bool:
    return 128 <= first_byte <= 191


def _is_client_hello(record: bytes) -> bool:
    """A DTLS handshake record (content type 22) whose message is a ClientHello (type 1, RFC 6347 §4.2)."""
    return len(record) > 13 and record[0] == 22 and record[13] == 1


class DtlsSrtpTransport:
    """One DTLS association on a datagram pipe, giving SRTP keys; it then carries SRTP both ways.

    States: ``new`` -> ``connecting`` -> ``connected``; ``failed`` (handshake error, timeout, fingerprint
    mismatch); ``closed`` (:meth:`close`, or the peer's close_notify).
    """

    def __init__(
        self,
        certificate: DtlsCertificate,
        *,
        send: Callable[[bytes], None],
        on_rtp: Callable[[bytes, Address, float | None], None] | None = None,
        on_keys: Callable[[SrtpContext], None] | None = None,
    ) -> None:
        self.certificate = certificate
        self._send = send
        self.on_rtp = on_rtp
        self.on_keys = on_keys
        self.state = "new"
        self.role: str | None = None
        self.srtp_profile: str | None = None
        self.cipher: str | None = None
        self._ssl: SSL.Connection | None = None
        self._early: list[bytes] = []
        self._wakeup = asyncio.Event()
        self._handshake: asyncio.Task[SrtpContext] | None = None
        self._retransmit: asyncio.Task[None] | None = None
        self.packets_dropped = 0  # SRTP both ways before the keys, or after close
        # Completed handshakes: one per association.  An ICE restart moves the association to the new pair
        # without a new handshake (RFC 8842 §4), so this stays 1 across restarts.
        self.handshakes = 0

    @property
    def fingerprint(self) -> tuple[str, str]:
        """Our (hash, value) for a=fingerprint."""
        return "sha-256", self.certificate.fingerprint("sha-256")

    # ------------------------------------------------------------------ data

    def receive_datagram(self, data: bytes, source: Address, arrival: float | None = None) -> None:
        """Everything that came over ICE that is not STUN (aioice answers STUN itself); ``arrival`` as
        ``IceTransport.on_datagram`` gives it."""
        if not data:
            return
        first = data[0]
        if _is_dtls(first):
            self._receive_dtls(data)
        elif _is_rtp_or_rtcp(first):
            if self.state == "connected" and self.on_rtp is not None:
                self.on_rtp(data, source, arrival)
            else:
                self.packets_dropped += 1

    def send_rtp(self, data: bytes) -> None:
        """SRTP/SRTCP from the RtpSession (its SrtpContext comes from on_keys): dropped until connected, so
        that no unprotected packet ever leaves."""
        if self.state != "connected":
            self.packets_dropped += 1
            return
        self._send(data)

    def _receive_dtls(self, data: bytes) -> None:
        ssl = self._ssl
        if ssl is None:
            if self.state == "new" and len(self._early) < MAX_EARLY_RECORDS:
                self._early.append(data)  # the peer finished ICE first and already said ClientHello
            return
        if self.state in ("closed", "failed"):
            return
        if self.role == "client" and _is_client_hello(data):
            return  # a stray one, see _run
        ssl.bio_write(data)
        if self.state == "connecting":
            self._wakeup.set()
            return
        # connected: alerts, close_notify, or the peer's last flight again (ours was lost: OpenSSL answers)
        try:
            ssl.recv(MAX_DATAGRAM)
        except SSL.ZeroReturnError:
            logger.info("DTLS: the peer closed the association")
            self.state = "closed"
        except SSL.WantReadError:
            pass
        except SSL.Error as exc:
            logger.debug("DTLS: bad record after the handshake: %s", exc)
        self._flush()

    def _flush(self) -> None:
        ssl = self._ssl
        if ssl is None:
            return
        while True:
            try:
                data = ssl.bio_read(MAX_DATAGRAM)
            except SSL.WantReadError:
                return
            except SSL.Error:
                return
            if not data:
                return
            self._send(data)

    # ------------------------------------------------------------------ handshake

    async def start(
        self, role: str, fingerprints: list[tuple[str, str]], *, timeout: float = HANDSHAKE_TIMEOUT
    ) -> SrtpContext:
        """Run the handshake as ``client`` or ``server`` (from a=setup), check the peer's certificate
        against ``fingerprints`` (a=fingerprint) and derive the SRTP keys; raises DtlsError.

        Call it once the pipe can carry datagrams (ICE connected)."""
        if self.state != "new":
            raise RuntimeError(f"cannot start DTLS in state {self.state}")
        if role not in ("client", "server"):
            raise ValueError(f"DTLS role must be client or server, not {role!r}")
        self.role = role
        self._handshake = asyncio.ensure_future(self._run(role, fingerprints, timeout))
        return await self._handshake

    async def _run(self, role: str, fingerprints: list[tuple[str, str]], timeout: float) -> SrtpContext:
        ssl = SSL.Connection(self.certificate.ssl_context(), None)
        if role == "client":
            ssl.set_connect_state()
        else:
            ssl.set_accept_state()
        self._ssl = ssl
        self.state = "connecting"
        for record in self._early:
            # A peer that answered a=setup:passive may still have sent a ClientHello before it chose its
            # role (rtpengine does, once its own ICE checks succeed after the offer); as the client, drop
            # it as browsers do, else OpenSSL fails the handshake with "unexpected message".
            if role == "client" and _is_client_hello(record):
                logger.info("DTLS: dropping a ClientHello from the peer, we are the client")
                continue
            ssl.bio_write(record)
        self._early.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._wakeup.clear()
            try:
                ssl.do_handshake()
                break
            except SSL.WantReadError:
                self._flush()
            except SSL.Error as exc:
                self._flush()  # the alert, if OpenSSL made one
                raise self._fail(f"DTLS handshake failed: {exc}") from None
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._fail(f"DTLS handshake timed out after {timeout:.0f} s")
            retransmit = ssl.DTLSv1_get_timeout()
            wait = remaining if retransmit is None else min(retransmit, remaining)
            try:
                await asyncio.wait_for(self._wakeup.wait(), max(wait, 0.001))
            except TimeoutError:
                if self.state != "connecting":
                    raise DtlsError(f"DTLS {self.state} during the handshake") from None
                ssl.DTLSv1_handle_timeout()  # our last flight again
                self._flush()
        self._flush()
        self._check_fingerprint(ssl, fingerprints)
        context = self._derive_keys(ssl)
        self.cipher = ssl.get_cipher_name()
        self.state = "connected"
        self.handshakes += 1
        logger.info("DTLS %s connected: %s, %s", role, self.cipher, self.srtp_profile)
        if self.on_keys is not None:
            self.on_keys(context)
        if ssl.DTLSv1_get_timeout() is not None:
            self._retransmit = asyncio.ensure_future(self._retransmit_last_flight(ssl))
        return context

    async def _retransmit_last_flight(self, ssl: SSL.Connection) -> None:
        """Keep answering for our last flight while OpenSSL still runs a timer for it."""
        while self.state == "connected":
            timeout = ssl.DTLSv1_get_timeout()
            if timeout is None:
                return
            await asyncio.sleep(timeout)
            with contextlib.suppress(SSL.Error):
                ssl.DTLSv1_handle_timeout()
            self._flush()

    def _fail(self, message: str) -> DtlsError:
        self.state = "failed"
        logger.error("%s", message)
        return DtlsError(message)

    def _check_fingerprint(self, ssl: SSL.Connection, fingerprints: list[tuple[str, str]]) -> None:
        """RFC 8122 §5: the certificate must match a fingerprint given with a hash function we know (one
        that matches is enough: a browser lists one per hash)."""
        certificate = ssl.get_peer_certificate(as_cryptography=True)
        if certificate is None:
            raise self._fail("DTLS: the peer sent no certificate")
        known = [(name.lower(), value) for name, value in fingerprints if name.lower() in _HASHES]
        if not known:
            raise self._fail("DTLS: no a=fingerprint with a hash function we know")
        for name, value in known:
            if certificate_fingerprint(certificate, name) == value.upper():
                return
        raise self._fail("DTLS: the peer's certificate does not match its a=fingerprint")

    def _derive_keys(self, ssl: SSL.Connection) -> SrtpContext:
        """RFC 5764 §4.2: client key, server key, client salt, server salt from the TLS exporter."""
        selected = ssl.get_selected_srtp_profile()
        if selected not in _SRTP_PROFILES:
            raise self._fail(f"DTLS: no usable SRTP protection profile negotiated ({selected!r})")
        suite, key_length, salt_length = _SRTP_PROFILES[selected]
        material = ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (key_length + salt_length))
        client_key, server_key = material[:key_length], material[key_length : 2 * key_length]
        salts = material[2 * key_length :]
        client_salt, server_salt = salts[:salt_length], salts[salt_length:]
        client = SrtpKey(suite, client_key + client_salt)
        server = SrtpKey(suite, server_key + server_salt)
        self.srtp_profile = suite
        if self.role == "client":
            return SrtpContext(tx=client, rx=server)
        return SrtpContext(tx=server, rx=client)

    # ------------------------------------------------------------------ closing

    async def close(self) -> None:
        """Say close_notify (when connected) and stop; the ICE transport is closed by its owner."""
        for task in (self._handshake, self._retransmit):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, DtlsError):
                    await task
        ssl = self._ssl
        if ssl is not None and self.state == "connected":
            with contextlib.suppress(SSL.Error):
                ssl.shutdown()
            self._flush()
        self.state = "closed"

    def stats(self) -> dict[str, Any]:
        return {
            "dtls_state": self.state,
            "dtls_role": self.role,
            "dtls_cipher": self.cipher,
            "srtp_profile": self.srtp_profile,
            "dtls_handshakes": self.handshakes,
        }
