"""A real Kamailio registrar/proxy as a test peer.

``KamailioServer`` renders ``tests/peers/kamailio/kamailio.cfg.tmpl`` into a
private temporary directory, generates a throw-away test CA plus a server
certificate for 127.0.0.1/localhost, picks free ports and runs ``kamailio``
as a plain foreground process.  It has no pytest dependency.

Typical use::

    with KamailioServer() as k:
        ...  # REGISTER alice/alice-secret at sip:127.0.0.1:<k.udp_port>
        assert "alice" in k.ul_dump()

Layout of the temp dir (``workdir``): ``kamailio.cfg``, ``tls.cfg``,
``ca.pem``/``ca.key`` (test CA), ``server.pem``/``server.key``,
``kamailio.log`` (stdout+stderr of kamailio), ``kamailio_ctl`` (kamcmd
socket) and ``kamailio.pid``.  The directory is removed by ``stop()``
unless ``keep_workdir=True`` (or env ``KAMAILIO_KEEP_WORKDIR=1``).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

__all__ = [
    "DEFAULT_USERS",
    "TEMPLATE_PATH",
    "KamailioError",
    "KamailioServer",
    "kamailio_available",
    "parse_ul_dump",
]

TEMPLATE_PATH = Path(__file__).resolve().parent / "kamailio" / "kamailio.cfg.tmpl"

DEFAULT_USERS: dict[str, str] = {
    "alice": "alice-secret",
    "bob": "bob-secret",
    "carol": "carol-secret",
}

_DEFAULT_MODPATHS = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib64/kamailio/modules",
    "/usr/lib/kamailio/modules",
    "/usr/local/lib64/kamailio/modules",
    "/usr/local/lib/kamailio/modules",
)

_USER_RE = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=-]+$")


class KamailioError(RuntimeError):
    """Kamailio failed to start, or a kamcmd call failed."""


def kamailio_available() -> bool:
    """True if the ``kamailio`` and ``kamcmd`` binaries are on PATH."""
    return shutil.which("kamailio") is not None and shutil.which("kamcmd") is not None


def _find_modpath(kamailio_bin: str) -> str:
    env = os.environ.get("KAMAILIO_MODPATH")
    if env:
        return env
    for cand in _DEFAULT_MODPATHS:
        if os.path.isfile(os.path.join(cand, "tm.so")):
            return cand
    # Fall back to asking kamailio itself (prints its default -L path).
    try:
        out = subprocess.run([kamailio_bin, "-h"], capture_output=True, text=True, timeout=5)
        m = re.search(r"-L path.*\(default:\s*([^)]+)\)", out.stdout + out.stderr)
        if m:
            return m.group(1).strip()
    except (OSError, subprocess.SubprocessError):
        pass
    raise KamailioError("cannot find the kamailio module directory (set KAMAILIO_MODPATH)")


def _free_ports(host: str, count: int) -> list[int]:
    """Return ``count`` distinct ports free for both TCP and UDP on ``host``."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        attempts = 0
        while len(ports) < count:
            attempts += 1
            if attempts > 200:
                raise KamailioError("could not find free ports")
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.bind((host, 0))
            port = t.getsockname()[1]
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind((host, port))
            except OSError:
                t.close()
                u.close()
                continue
            held += [t, u]
            if port in ports:
                continue
            ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


def _generate_certs(workdir: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """Create ca.pem, server.pem, server.key in ``workdir``.

    Uses the ``cryptography`` package when available, else the ``openssl``
    CLI.  The server certificate carries subjectAltNames for every entry of
    ``hosts`` (IP addresses become iPAddress SANs, names dNSName SANs).
    """
    try:
        return _generate_certs_cryptography(workdir, hosts)
    except ImportError:
        return _generate_certs_openssl(workdir, hosts)


def _generate_certs_cryptography(workdir: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "softphone tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"softphone test CA {uuid.uuid4().hex[:8]}"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    srv_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for h in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    srv_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(srv_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(srv_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    nokey = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    ca_file = workdir / "ca.pem"
    cert_file = workdir / "server.pem"
    key_file = workdir / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    (workdir / "ca.key").write_bytes(ca_key.private_bytes(pem, pkcs8, nokey))
    cert_file.write_bytes(srv_cert.public_bytes(pem))
    key_file.write_bytes(srv_key.private_bytes(pem, pkcs8, nokey))
    os.chmod(key_file, 0o600)
    os.chmod(workdir / "ca.key", 0o600)
    return ca_file, cert_file, key_file


def _generate_certs_openssl(workdir: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        raise KamailioError("neither the 'cryptography' package nor the openssl CLI is available")
    sans = []
    for h in hosts:
        try:
            ipaddress.ip_address(h)
            sans.append(f"IP:{h}")
        except ValueError:
            sans.append(f"DNS:{h}")
    ext = workdir / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyAgreement\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
        f"subjectAltName={','.join(sans)}\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    ca_file, ca_key = workdir / "ca.pem", workdir / "ca.key"
    cert_file, key_file, csr = workdir / "server.pem", workdir / "server.key", workdir / "server.csr"

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30)

    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(ca_key))
    run(
        "req", "-x509", "-new", "-key", str(ca_key), "-sha256", "-days", "2",
        "-subj", f"/O=softphone tests/CN=softphone test CA {uuid.uuid4().hex[:8]}",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        "-out", str(ca_file),
    )  # fmt: skip
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key_file))
    run("req", "-new", "-key", str(key_file), "-subj", f"/CN={hosts[0]}", "-out", str(csr))
    run(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_file), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", str(ext), "-out", str(cert_file),
    )  # fmt: skip
    os.chmod(key_file, 0o600)
    return ca_file, cert_file, key_file


def _cfg_str(value: str) -> str:
    """Check that a value can go into a Kamailio config string literal as is."""
    if any(c in value for c in '"\\\n\r'):
        raise ValueError(f"unsupported character in {value!r}")
    return value


class KamailioServer:
    """A Kamailio registrar + stateful proxy for interop tests.

    Attributes (valid after ``start()``; the ports stay fixed for the
    lifetime of the object, also across ``restart()``):

    ``host``, ``domain``, ``users``, ``udp_port``, ``tcp_port``,
    ``tls_port``, ``ws_port``, ``wss_port``, ``workdir``, ``config_path``,
    ``log_path``, ``ca_file``, ``cert_file``, ``key_file``, ``ctl_socket``,
    ``pid``, ``ws_url``, ``wss_url``.

    Methods: ``start()``, ``stop()`` (SIGTERM, wait, remove the temp dir --
    so ``ca_file``/``log_path`` vanish too), ``kill()`` (SIGKILL, keeps the
    temp dir), ``restart()`` (same ports, certs and nonce secret; empty
    location table), ``ul_dump()``, ``kamcmd(*args)``, ``set_user()``,
    ``remove_user()``, ``uri(transport)``, ``aor(user)``, ``log_text()``,
    ``check_config()``, ``is_running()``; also a context manager.

    ``rtpengine``: the ng control socket of an rtpengine (``udp:ip:port``,
    ``tests.peers.rtpengine.RtpEngine.ng_socket``).  With it, calls
    between a WebSocket (WebRTC) client and a UDP/TCP/TLS client have
    their media anchored at rtpengine, which converts UDP/TLS/RTP/SAVPF
    (DTLS-SRTP, ICE, rtcp-mux) to RTP/AVP and back (the template's
    ``WITH_RTPENGINE`` parts).  None (the default): media end to end.
    """

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        domain: str | None = None,
        debug: int = 2,
        qop: bool = True,
        nonce_expire: int = 300,
        start_timeout: float = 10.0,
        keep_workdir: bool | None = None,
        kamailio_bin: str | None = None,
        kamcmd_bin: str | None = None,
        rtpengine: str | None = None,
    ) -> None:
        self.host: str = host
        if rtpengine is not None and not re.fullmatch(r"udp6?:[0-9A-Za-z.:\[\]-]+:\d+", rtpengine):
            raise ValueError(f"rtpengine must be an ng socket like udp:127.0.0.1:2223, not {rtpengine!r}")
        self.rtpengine = rtpengine
        self.domain: str = domain or host
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        for u, p in self.users.items():
            if not _USER_RE.match(u):
                raise ValueError(f"unsupported user name {u!r}")
            _cfg_str(p)
        self.debug = debug
        self.qop = qop
        self.nonce_expire = int(nonce_expire)
        self.start_timeout = start_timeout
        if keep_workdir is None:
            keep_workdir = os.environ.get("KAMAILIO_KEEP_WORKDIR", "") not in ("", "0")
        self.keep_workdir = keep_workdir
        kb = kamailio_bin or shutil.which("kamailio")
        kc = kamcmd_bin or shutil.which("kamcmd")
        if not kb:
            raise KamailioError("kamailio binary not found on PATH")
        if not kc:
            raise KamailioError("kamcmd binary not found on PATH")
        self.kamailio_bin: str = kb
        self.kamcmd_bin: str = kc

        self.udp_port: int = 0
        self.tcp_port: int = 0
        self.tls_port: int = 0
        self.ws_port: int = 0
        self.wss_port: int = 0
        self.workdir: Path | None = None
        self.config_path: Path | None = None
        self.log_path: Path | None = None
        self.ca_file: Path | None = None
        self.cert_file: Path | None = None
        self.key_file: Path | None = None
        self.ctl_socket: Path | None = None
        # Nonce secret: constant for this object so nonces survive restart().
        self._auth_secret = secrets.token_hex(16)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: BinaryIO | None = None

    # ------------------------------------------------------------------ info

    @property
    def pid(self) -> int | None:
        """PID of the kamailio main process, or None when not running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def is_running(self) -> bool:
        return self.pid is not None

    @property
    def ws_url(self) -> str:
        """WebSocket URL for SIP over WS (RFC 7118), subprotocol "sip"."""
        return f"ws://{self.host}:{self.ws_port}/"

    @property
    def wss_url(self) -> str:
        """WebSocket over TLS (the test CA's certificate, ``ca_file``), subprotocol "sip"."""
        return f"wss://{self.host}:{self.wss_port}/"

    def uri(self, transport: str = "udp") -> str:
        """SIP URI of the proxy for a transport: udp, tcp, tls, ws, wss."""
        t = transport.lower()
        port = {
            "udp": self.udp_port,
            "tcp": self.tcp_port,
            "tls": self.tls_port,
            "ws": self.ws_port,
            "wss": self.wss_port,
        }[t]
        suffix = "" if t == "udp" else f";transport={t}"
        return f"sip:{self.host}:{port}{suffix}"

    def aor(self, user: str) -> str:
        """Address of record of ``user`` in this server's domain."""
        return f"sip:{user}@{self.domain}"

    def log_text(self) -> str:
        """Everything kamailio has written to stdout/stderr so far ('' if none)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def __repr__(self) -> str:
        return (
            f"<KamailioServer {self.host} udp={self.udp_port} tcp={self.tcp_port} "
            f"tls={self.tls_port} ws={self.ws_port} wss={self.wss_port} pid={self.pid}>"
        )

    # ------------------------------------------------------------- lifecycle

    def start(self) -> KamailioServer:
        """Render config/certs if needed, start kamailio, wait until ready."""
        if self.is_running():
            return self
        self._prepare()
        self._spawn()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM kamailio, wait for it, then remove the temp dir."""
        self._terminate(timeout)
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL kamailio (no graceful shutdown); keeps the temp dir."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self._reap_group(proc.pid)
        self._proc = None
        self._close_log()

    def restart(self, timeout: float = 5.0) -> None:
        """Stop and start again on the same ports with the same certs.

        The in-memory location table is empty afterwards.
        """
        self._terminate(timeout)
        self._prepare()
        self._spawn()

    def __enter__(self) -> KamailioServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # best effort, never raise
        try:
            if self._proc is not None and self._proc.poll() is None:
                self._signal_group(self._proc.pid, signal.SIGKILL)
        except Exception:
            pass

    # ---------------------------------------------------------------- kamcmd

    def kamcmd(self, *args: str, timeout: float = 5.0) -> str:
        """Run ``kamcmd -s unix:<ctl> <args>`` and return its stdout."""
        if self.ctl_socket is None:
            raise KamailioError("server not started")
        try:
            res = subprocess.run(
                [self.kamcmd_bin, "-s", f"unix:{self.ctl_socket}", *args],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise KamailioError(f"kamcmd {' '.join(args)} timed out") from e
        if res.returncode != 0 or res.stdout.startswith("error:"):
            detail = f"{res.stdout.strip()} {res.stderr.strip()}".strip()
            raise KamailioError(f"kamcmd {' '.join(args)} failed (rc={res.returncode}): {detail}")
        return res.stdout

    def ul_dump(self) -> dict[str, list[str]]:
        """Current registrations: AoR -> list of contact URIs.

        AoRs are user names (usrloc ``use_domain=0``), e.g. ``"alice"``.
        Contacts whose expiry has passed (awaiting the usrloc timer) are
        left out.
        """
        return parse_ul_dump(self.kamcmd("ul.dump"))

    def set_user(self, user: str, password: str) -> None:
        """Add or change a user at runtime (also kept for restarts)."""
        if not _USER_RE.match(user):
            raise ValueError(f"unsupported user name {user!r}")
        _cfg_str(password)
        self.users[user] = password
        if self.is_running():
            self.kamcmd("htable.sets", "users", f"s:{user}", f"s:{password}")
            self._render_config()

    def remove_user(self, user: str) -> None:
        """Delete a user at runtime (also for later restarts)."""
        self.users.pop(user, None)
        if self.is_running():
            self.kamcmd("htable.delete", "users", f"s:{user}")
            self._render_config()

    # -------------------------------------------------------------- internal

    def _prepare(self) -> None:
        if self.workdir is None or not self.workdir.exists():
            # Keep the path short: unix socket paths are limited to 108 bytes.
            self.workdir = Path(tempfile.mkdtemp(prefix="kam-"))
            self.ca_file, self.cert_file, self.key_file = _generate_certs(
                self.workdir, [self.host, "localhost"] + ([self.domain] if self.domain != self.host else [])
            )
        if not self.udp_port:
            ports = _free_ports(self.host, 5)
            self.udp_port, self.tcp_port, self.tls_port, self.ws_port, self.wss_port = ports
        self.ctl_socket = self.workdir / "kamailio_ctl"
        self.log_path = self.workdir / "kamailio.log"
        self.config_path = self.workdir / "kamailio.cfg"
        self._render_tls_config()
        self._render_config()

    def _render_tls_config(self) -> None:
        assert self.workdir is not None
        (self.workdir / "tls.cfg").write_text(
            "[server:default]\n"
            "method = TLSv1.2+\n"
            "verify_certificate = no\n"
            "require_certificate = no\n"
            f"private_key = {self.key_file}\n"
            f"certificate = {self.cert_file}\n"
            f"ca_list = {self.ca_file}\n"
            "\n"
            "[client:default]\n"
            "method = TLSv1.2+\n"
            "verify_certificate = no\n"
            "require_certificate = no\n"
        )

    def render_config_text(self) -> str:
        """The kamailio.cfg text for the current settings."""
        assert self.workdir is not None
        users_init = "\n".join(
            f'\t$sht(users=>{u}) = "{_cfg_str(p)}";' for u, p in sorted(self.users.items())
        )
        values = {
            "HOST": self.host,
            "DOMAIN": _cfg_str(self.domain),
            "UDP_PORT": str(self.udp_port),
            "TCP_PORT": str(self.tcp_port),
            "TLS_PORT": str(self.tls_port),
            "WS_PORT": str(self.ws_port),
            "WSS_PORT": str(self.wss_port),
            "RUNDIR": str(self.workdir),
            "MODPATH": _find_modpath(self.kamailio_bin),
            "AUTH_SECRET": self._auth_secret,
            "USERS_INIT": users_init,
            "DEBUG": str(int(self.debug)),
            "CHALLENGE_FLAGS": "1" if self.qop else "0",
            "STALE_CHALLENGE_FLAGS": "17" if self.qop else "16",
            "NONCE_EXPIRE": str(self.nonce_expire),
            "DEFINES": "#!define WITH_RTPENGINE" if self.rtpengine else "",
            "RTPENGINE_SOCK": self.rtpengine or "",
        }
        text = TEMPLATE_PATH.read_text()
        text = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], text)
        return text

    def _render_config(self) -> None:
        assert self.config_path is not None
        self.config_path.write_text(self.render_config_text())

    def check_config(self) -> str:
        """Run ``kamailio -c`` on the rendered config; raise on errors."""
        if self.config_path is None or not self.config_path.exists():
            self._prepare()
        res = subprocess.run(
            [self.kamailio_bin, "-c", "-f", str(self.config_path), "-Y", str(self.workdir), "-E"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            raise KamailioError(f"config check failed:\n{res.stdout}{res.stderr}")
        return res.stdout + res.stderr

    def _spawn(self) -> None:
        assert self.workdir is not None and self.log_path is not None
        self._close_log()
        log_fh: BinaryIO = open(self.log_path, "ab", buffering=0)  # noqa: SIM115
        self._log_fh = log_fh
        log_fh.write(f"\n===== starting kamailio at {time.strftime('%H:%M:%S')} =====\n".encode())
        log_offset = self.log_path.stat().st_size
        cmd = [
            self.kamailio_bin,
            "-f", str(self.config_path),
            "-DD", "-E",
            "-Y", str(self.workdir),
            "-P", str(self.workdir / "kamailio.pid"),
            "-m", "64", "-M", "8",
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            cwd=str(self.workdir),
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException as e:
            self.kill()
            log = self.log_text()
            tail = log[log_offset:][-6000:] if len(log) > log_offset else log[-6000:]
            if isinstance(e, KamailioError):
                raise KamailioError(f"{e}\n--- kamailio log ({self.log_path}) ---\n{tail}") from None
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        assert self._proc is not None
        need_tcp = [self.tcp_port, self.ws_port, self.wss_port]
        options_ok = ctl_ok = False
        last_err = "not ready"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise KamailioError(f"kamailio exited during startup with code {self._proc.returncode}")
            try:
                if need_tcp:
                    with socket.create_connection((self.host, need_tcp[0]), timeout=0.5):
                        pass
                    need_tcp.pop(0)
                    continue
                if not options_ok:
                    options_ok = self._udp_options_probe(timeout=0.3)
                    if not options_ok:
                        last_err = "no answer to OPTIONS over UDP"
                        continue
                if not ctl_ok:
                    self.kamcmd("core.uptime", timeout=2)
                    ctl_ok = True
                return
            except (OSError, KamailioError) as e:
                last_err = str(e)
                time.sleep(0.05)
        raise KamailioError(f"kamailio not ready after {self.start_timeout}s: {last_err}")

    def _udp_options_probe(self, timeout: float) -> bool:
        """Send OPTIONS sip:host:port over UDP; True on a 200 answer."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.host, 0))
            lport = s.getsockname()[1]
            branch = "z9hG4bK" + uuid.uuid4().hex
            msg = (
                f"OPTIONS sip:{self.host}:{self.udp_port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.host}:{lport};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@{self.domain}>;tag={uuid.uuid4().hex[:10]}\r\n"
                f"To: <sip:{self.host}:{self.udp_port}>\r\n"
                f"Call-ID: {uuid.uuid4().hex}@{self.host}\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            s.settimeout(timeout)
            s.sendto(msg.encode(), (self.host, self.udp_port))
            try:
                data, _ = s.recvfrom(65535)
            except (TimeoutError, ConnectionRefusedError):
                return False
            return data.startswith(b"SIP/2.0 200")

    def _terminate(self, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._reap_group(proc.pid)
        self._proc = None
        self._close_log()

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    @classmethod
    def _reap_group(cls, pgid: int) -> None:
        """Make sure no kamailio worker of our own process group survives."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)
        cls._signal_group(pgid, signal.SIGKILL)

    def _close_log(self) -> None:
        if self._log_fh is not None:
            try:
                self._log_fh.close()
            finally:
                self._log_fh = None

    def _cleanup(self) -> None:
        if self.workdir is not None and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------- ul.dump

_KV_RE = re.compile(r"^\s*([A-Za-z_-]+)\s*:\s*(.*?)\s*$")


def parse_ul_dump(text: str) -> dict[str, list[str]]:
    """Parse ``kamcmd ul.dump`` output into {AoR: [contact URI, ...]}.

    kamcmd prints nested structures as ``Key: value`` lines and ``Key: {``
    / ``}`` blocks.  Only ``AoR:`` and ``Address:`` lines matter; an
    ``Expires:`` line following an ``Address`` marks the contact expired
    when it is negative or "deleted"/"expired".
    """
    result: dict[str, list[str]] = {}
    aor: str | None = None
    pending: str | None = None  # last contact address seen

    for raw in text.splitlines():
        m = _KV_RE.match(raw)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2)
        if value.endswith("{") or value == "":
            continue
        value = value.strip().strip('"')
        if key == "aor":
            aor = value
            result.setdefault(aor, [])
            pending = None
        elif key in ("address", "contact") and aor is not None and ":" in value:
            pending = value
            if value not in result[aor]:
                result[aor].append(value)
        elif key == "expires" and aor is not None and pending is not None:
            v = value.lower()
            expired = v in ("deleted", "expired")
            if not expired:
                try:
                    expired = int(v) < 0
                except ValueError:
                    expired = False
            if expired and pending in result[aor]:
                result[aor].remove(pending)
            pending = None
    return {k: v for k, v in result.items() if v}
