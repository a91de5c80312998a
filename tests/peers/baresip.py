"""baresip (Debian's 1.0.0) as a real SIP/RTP peer for audio interop tests.

:class:`Baresip` writes a private ``config`` + ``accounts`` into a work
directory, runs ``baresip -f DIR`` as a plain foreground process bound to
127.0.0.1 only (fixed SIP port, private RTP port range) and drives it
through the ``ctrl_tcp`` module (JSON in netstrings).  It has no pytest
dependency.

Typical use (two users registered at a :class:`KamailioServer`)::

    wav = speech_wav(rate=8000, seconds=40)
    with Baresip(user="bob", registrar=k) as bob, \\
         Baresip(user="alice", registrar=k, play_wav=wav) as alice:
        alice.dial(k.aor("bob"))
        bob.wait_event("CALL_ESTABLISHED")
        time.sleep(8)
        alice.hangup()
        bob.wait_event("CALL_CLOSED")
        rec = bob.recordings()[-1]          # dump-*-dec.wav, what bob received

What it relies on in baresip 1.0.0 (measured on Debian 12):

* Audio source: ``aufile,<wav>``.  aufile itself does not resample: the WAV
  must be mono S16LE at exactly the source rate, which is the codec's rate
  unless ``ausrc_srate`` is set.  This class sets ``ausrc_srate`` (and
  ``ausrc_channels 1``) from the file, so any rate works -- but baresip's
  own resampler is poor when downsampling (a 16 kHz file over PCMU scored
  PESQ-NB 3.1 / correlation 0.88 versus 3.95 / 1.00 with an 8 kHz file), so
  play 8 kHz files for G.711, 16 kHz for G.722 and 48 kHz for Opus.
  aufile loads the whole file up front and paces itself (own thread,
  ptime 20 ms); the call is hung up ~1 s after the file has been played
  out, so pass a file longer than the call.  Without ``play_wav`` a cached
  10-minute file of silence is used.
* Audio sink: ``aubridge,<unique name>``.  aubridge only starts its clock
  thread when a *source* with the same device name exists too, so as a pure
  player it is a sink that is never pulled: ~1.5 % CPU per call.  (ALSA's
  ``null`` device has no clock and makes baresip spin a whole core, ~98 %; a
  missing player makes the decoder set-up fail and nothing is recorded.)
* Recording: the ``sndfile`` audio filter writes ``dump-<time>-enc.wav``
  (what we sent) and ``dump-<time>-dec.wav`` (what we received, decoded, at
  the decoder's rate/channels: 8 kHz mono PCMU, 16 kHz G.722, 48 kHz stereo
  Opus) into ``snd_path`` (``<workdir>/rec``).  1.0.0 decodes in the RTP
  receive path (not in the player), so the -dec file follows the received
  packets: a lost packet makes it shorter instead of inserting silence.
  The WAV header is finalised when the call ends.
* ``answermode=auto`` in the account answers at once; ``accept`` answers by
  hand.  Codecs are restricted per account with ``audio_codecs=`` entries
  NAME[/RATE[/CH]] where RATE defaults to 8000 and CH to 1, so Opus must be
  ``opus/48000/2`` and G.722 ``g722/16000/1`` (a bare ``opus`` is "audio
  codec not found" and the filter is silently dropped).  This class maps
  plain names (PCMU, PCMA, G722, opus, GSM).
* Media encryption per account ``mediaenc=``: ``srtp`` (RTP/AVP + a=crypto,
  best effort), ``srtp-mand`` (RTP/SAVP), ``srtp-mandf`` (RTP/SAVPF), all
  AES_CM_128_HMAC_SHA1_80 SDES; ``dtls_srtp`` (UDP/TLS/RTP/SAVPF,
  fingerprint, setup:actpass; media waits ~1 s for the handshake).
* ``ctrl_tcp`` answers ``{"command": "dial", "params": "sip:..", "token":
  ".."}`` with ``{"response": true, "ok": .., "data": .., "token": ..}`` and
  pushes ``{"event": true, "type": "CALL_ESTABLISHED", ...}`` events.
  Events that happen before the client connects (e.g. the first
  REGISTER_OK) are lost, so registration is checked with ``reginfo``.
  Commands: dial, accept, hangup, reginfo, listcalls, callstat, quit, ...
* ``menu``'s status line is switched off with ``statmode_default off``.
* baresip listens on UDP+TCP at the SIP port and TLS at SIP port + 1; its
  Contact user is ``<user>-0x<hex>``; SIGTERM de-registers; the DNS client
  also opens two wildcard UDP sockets (no traffic on loopback-only tests).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from tests.peers.kamailio import KamailioServer

__all__ = [
    "MEDIAENC",
    "MODULE_PATH",
    "Baresip",
    "BaresipError",
    "BaresipFactory",
    "baresip_available",
]

MODULE_PATH = Path(os.environ.get("BARESIP_MODULE_PATH", "/usr/lib/baresip/modules"))
MEDIAENC = ("srtp", "srtp-mand", "srtp-mandf", "dtls_srtp")

# Codec name as accepted by ``audio_codecs`` -> module providing it.
# ``audio_codecs`` entries are NAME[/RATE[/CHANNELS]] with RATE defaulting to 8000
# and CHANNELS to 1, so codecs registered at other rates need the full spec.
_CODECS = {
    "pcmu": ("g711", "pcmu"),
    "pcma": ("g711", "pcma"),
    "g722": ("g722", "g722/16000/1"),
    "opus": ("opus", "opus/48000/2"),
    "gsm": ("gsm", "gsm"),
}

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_counter = itertools.count(1)


class _PortTaken(Exception):
    """baresip could not bind a port that was free a moment before."""


class BaresipError(RuntimeError):
    """baresip failed to start, a command failed, or an event did not come."""


def baresip_available() -> bool:
    """True if the ``baresip`` binary and its module directory exist."""
    return shutil.which("baresip") is not None and (MODULE_PATH / "ctrl_tcp.so").exists()


def _port_free(host: str, port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def _free_port(host: str, *, pair: bool = False) -> int:
    """A port free for TCP and UDP (and, with ``pair``, port + 1 as well)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = int(t.getsockname()[1])
        if port >= 65535:
            continue
        if _port_free(host, port) and (not pair or _port_free(host, port + 1)):
            return port
    raise BaresipError("could not find a free port")


def _free_rtp_range(host: str, size: int) -> tuple[int, int]:
    """A random even-based UDP port range in 20000-59999 whose first ports are free."""
    for _ in range(100):
        base = random.randrange(20000, 60000 - size, 2)
        ok = True
        for p in range(base, base + min(size, 8)):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((host, p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base, base + size - 1
    raise BaresipError("could not find a free RTP port range")


def _wav_format(path: Path) -> tuple[int, int]:
    """(rate, channels) of a WAV file."""
    from tests.peers.audio import read_wav  # local import: numpy only when needed

    data = path.read_bytes()[:4096]
    i = data.find(b"fmt ")
    if i < 0:
        read_wav(path)  # raises a helpful error
        raise BaresipError(f"{path}: no fmt chunk")
    ch = int.from_bytes(data[i + 10 : i + 12], "little")
    rate = int.from_bytes(data[i + 12 : i + 16], "little")
    return rate, ch


class Baresip:
    """One baresip user agent (one account) for tests.

    Constructor arguments (all keyword-only except ``workdir``):

    ``workdir``     directory for config/accounts/log/recordings (a new temp
                    dir when None; removed by ``stop()`` unless given,
                    ``keep_workdir=True`` or env ``BARESIP_KEEP_WORKDIR=1``).
    ``user``        account user part (default ``"baresip"``).
    ``password``    digest password (default: ``registrar.users[user]``).
    ``registrar``   a started KamailioServer to register with (outbound proxy
                    = its ``transport`` port, ``regint``); None: no
                    registration, the AoR is ``sip:user@127.0.0.1:sip_port``.
    ``sip_port``    local SIP port (UDP+TCP; TLS on +1); default: a free one.
    ``play_wav``    mono 16-bit WAV to send (aufile); None: silence.
    ``record``      load ``sndfile`` (dump-*-dec.wav/-enc.wav in ``rec_dir``).
    ``codecs``      allowed audio codecs in preference order, e.g.
                    ``["PCMU"]``, ``["opus", "PCMU"]``, ``["G722"]``.
    ``srtp``        None or one of ``MEDIAENC`` (account ``mediaenc``).
    ``answer_mode`` ``"auto"``, ``"manual"`` or ``"early"``.
    ``ptime``       packet time in ms (account ``ptime``).
    ``transport``   ``"udp"`` or ``"tcp"`` towards the registrar.
    ``regint``      registration interval (s).
    ``display_name``, ``extra_config`` (extra config lines: mapping or
    lines), ``extra_account_params`` (appended to the account line, e.g.
    ``";rtp_timeout=5"``), ``sip_trace`` (``-s``), ``verbose`` (``-v``),
    ``start_timeout``, ``baresip_bin``.

    Attributes after ``start()``: ``aor``, ``sip_port``, ``ctrl_port``,
    ``rtp_ports``, ``workdir``, ``rec_dir``, ``log_path``, ``pid``.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        registrar: KamailioServer | None = None,
        sip_port: int | None = None,
        play_wav: str | os.PathLike[str] | None = None,
        record: bool = True,
        codecs: Sequence[str] = ("PCMU",),
        srtp: str | None = None,
        answer_mode: str = "auto",
        ptime: int = 20,
        transport: str = "udp",
        regint: int = 600,
        display_name: str | None = None,
        extra_config: Mapping[str, str] | Iterable[str] | None = None,
        extra_account_params: str = "",
        sip_trace: bool = False,
        verbose: bool = False,
        start_timeout: float = 10.0,
        keep_workdir: bool | None = None,
        baresip_bin: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if srtp is not None and srtp not in MEDIAENC:
            raise ValueError(f"srtp must be one of {MEDIAENC} or None")
        if answer_mode not in ("auto", "manual", "early"):
            raise ValueError("answer_mode must be auto, manual or early")
        if transport not in ("udp", "tcp"):
            raise ValueError("transport must be udp or tcp")
        self.user = user or "baresip"
        self.registrar = registrar
        if password is None and registrar is not None:
            password = registrar.users.get(self.user)
        self.password = password
        self.host = host
        self.sip_port = int(sip_port) if sip_port else 0
        self.play_wav = Path(play_wav) if play_wav is not None else None
        self.record = record
        self.codecs = [c.lower() for c in codecs]
        for c in self.codecs:
            if c.split("/")[0] not in _CODECS:
                raise ValueError(f"unknown codec {c!r} (known: {sorted(_CODECS)})")
        self.srtp = srtp
        self.answer_mode = answer_mode
        self.ptime = int(ptime)
        self.transport = transport
        self.regint = int(regint)
        self.display_name = display_name
        self.extra_config = extra_config
        self.extra_account_params = extra_account_params
        self.sip_trace = sip_trace
        self.verbose = verbose
        self.start_timeout = start_timeout
        self._own_workdir = workdir is None
        if keep_workdir is None:
            keep_workdir = os.environ.get("BARESIP_KEEP_WORKDIR", "") not in ("", "0")
        self.keep_workdir = keep_workdir
        b = baresip_bin or shutil.which("baresip")
        if not b:
            raise BaresipError("baresip binary not found on PATH")
        self.baresip_bin = b
        self.workdir: Path = Path(workdir) if workdir is not None else Path()
        self._workdir_arg = workdir
        self.ctrl_port = 0
        self.rtp_ports: tuple[int, int] = (0, 0)
        self._name = f"bs{os.getpid()}-{next(_counter)}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: BinaryIO | None = None
        self._log_start = 0  # where this launch's part of the log begins
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._consumed: set[int] = set()
        self._responses: dict[str, dict[str, Any]] = {}
        self._tokens = itertools.count(1)
        self._send_lock = threading.Lock()
        self._cpu_mark: float | None = None

    # ------------------------------------------------------------------ info

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def is_running(self) -> bool:
        return self.pid is not None

    @property
    def domain(self) -> str:
        return self.registrar.domain if self.registrar is not None else self.host

    @property
    def aor(self) -> str:
        """The account's address of record (what other peers dial)."""
        if self.registrar is not None:
            return f"sip:{self.user}@{self.registrar.domain}"
        return f"sip:{self.user}@{self.host}:{self.sip_port}"

    @property
    def contact_uri(self) -> str:
        """Direct URI of this UA (no registrar involved)."""
        return f"sip:{self.user}@{self.host}:{self.sip_port}"

    @property
    def rec_dir(self) -> Path:
        return self.workdir / "rec"

    @property
    def log_path(self) -> Path:
        return self.workdir / "baresip.log"

    def log_text(self) -> str:
        """stdout+stderr of baresip so far, ANSI colours removed."""
        if self._log_fh is not None:
            with contextlib.suppress(ValueError):
                self._log_fh.flush()
        p = self.log_path
        if not p.exists():
            return ""
        return _ANSI_RE.sub("", p.read_text(errors="replace"))

    def __repr__(self) -> str:
        return f"<Baresip {self.aor} sip={self.sip_port} ctrl={self.ctrl_port} pid={self.pid}>"

    # --------------------------------------------------------------- config

    def _silence_wav(self, rate: int) -> Path:
        from tests.peers.audio import CACHE_DIR, write_wav

        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        p = CACHE_DIR / f"silence-{rate}-600s.wav"
        if not p.exists():
            import numpy as np

            tmp = p.with_suffix(f".{os.getpid()}.tmp")
            write_wav(tmp, np.zeros(rate * 600), rate)
            os.replace(tmp, p)
        return p

    def _modules(self) -> list[str]:
        mods: list[str] = []
        for c in self.codecs:
            m = _CODECS[c.split("/")[0]][0]
            if m not in mods:
                mods.append(m)
        if self.record:
            mods.append("sndfile")
        mods += ["aufile", "aubridge"]
        if self.srtp in ("srtp", "srtp-mand", "srtp-mandf"):
            mods.append("srtp")
        elif self.srtp == "dtls_srtp":
            mods.append("dtls_srtp")
        return mods

    def render_config(self) -> str:
        """The ``config`` file contents (ports must be chosen already)."""
        src = self.play_wav if self.play_wav is not None else self._silence_wav(8000)
        rate, ch = _wav_format(Path(src))
        if ch != 1:
            raise BaresipError(f"{src}: play_wav must be mono (has {ch} channels)")
        if any(c in str(src) for c in " \t\n#"):
            raise BaresipError(f"unsupported characters in the WAV path {src}")
        sink = f"aubridge,{self._name}-sink"
        lines = [
            "# generated by tests/peers/baresip.py",
            "poll_method\t\tepoll",
            f"sip_listen\t\t{self.host}:{self.sip_port}",
            "call_local_timeout\t120",
            "call_max_calls\t\t4",
            f"audio_player\t\t{sink}",
            f"audio_alert\t\t{sink}",
            f"audio_source\t\taufile,{src}",
            f"ausrc_srate\t\t{rate}",
            "ausrc_channels\t\t1",
            "audio_level\t\tno",
            "ausrc_format\t\ts16",
            "auplay_format\t\ts16",
            "auenc_format\t\ts16",
            "audec_format\t\ts16",
            "audio_buffer\t\t20-160",
            "rtp_tos\t\t\t0",
            f"rtp_ports\t\t{self.rtp_ports[0]}-{self.rtp_ports[1]}",
            "rtcp_mux\t\tno",
            "jitter_buffer_delay\t5-10",
            "rtp_stats\t\tno",
            f"net_interface\t\t{self.host}",
            f"module_path\t\t{MODULE_PATH}",
        ]
        lines += [f"module\t\t\t{m}.so" for m in self._modules()]
        lines += [
            "module_tmp\t\taccount.so",
            "module_app\t\tmenu.so",
            "module_app\t\tctrl_tcp.so",
            f"ctrl_tcp_listen\t\t{self.host}:{self.ctrl_port}",
            "statmode_default\toff",
            "ringback_disabled\tyes",
            f"snd_path\t\t{self.rec_dir}",
            "opus_bitrate\t\t64000",
        ]
        extra = self.extra_config
        if isinstance(extra, Mapping):
            lines += [f"{k}\t\t{v}" for k, v in extra.items()]
        elif extra is not None:
            lines += list(extra)
        return "\n".join(lines) + "\n"

    def render_account(self) -> str:
        """The ``accounts`` file contents (one account)."""
        name = f'"{self.display_name}" ' if self.display_name else ""
        params = [f"answermode={self.answer_mode}", f"ptime={self.ptime}"]
        if self.codecs:
            specs = [c if "/" in c else _CODECS[c][1] for c in self.codecs]
            params.append("audio_codecs=" + ",".join(specs))
        if self.srtp:
            params.append(f"mediaenc={self.srtp}")
        if self.registrar is not None:
            r = self.registrar
            port = r.udp_port if self.transport == "udp" else r.tcp_port
            tp = "" if self.transport == "udp" else f";transport={self.transport}"
            uri = f"<sip:{self.user}@{r.domain}{tp}>"
            params.append(f'outbound="sip:{r.host}:{port}{tp}"')
            params.append(f"regint={self.regint}")
        else:
            uri = f"<sip:{self.user}@{self.host}:{self.sip_port}>"
            params.append("regint=0")
        if self.password is not None:
            if any(c in self.password for c in ';"\n\r '):
                raise ValueError("unsupported character in password")
            params.append(f"auth_pass={self.password}")
        return f"{name}{uri};" + ";".join(params) + self.extra_account_params + "\n"

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Baresip:
        """Write config/accounts, start baresip, wait until ready (and registered)."""
        if self.is_running():
            return self
        if self._workdir_arg is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="baresip-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rec_dir.mkdir(exist_ok=True)
        fixed_sip_port = bool(self.sip_port)
        for attempt in range(3):
            try:
                return self._launch(fixed_sip_port)
            except _PortTaken as exc:
                # another process bound a port between our check and baresip's bind (its ctrl_tcp then
                # fails, and a connection to that port would reach the other process): new ports, again
                if attempt == 2:
                    raise BaresipError(str(exc)) from None
        return self

    def _launch(self, fixed_sip_port: bool) -> Baresip:
        if not fixed_sip_port:
            self.sip_port = _free_port(self.host, pair=True)
        self.ctrl_port = _free_port(self.host)
        self.rtp_ports = _free_rtp_range(self.host, 40)
        (self.workdir / "config").write_text(self.render_config())
        (self.workdir / "accounts").write_text(self.render_account())
        (self.workdir / "contacts").write_text("")
        cmd = [self.baresip_bin, "-f", str(self.workdir)]
        if self.sip_trace:
            cmd.append("-s")
        if self.verbose:
            cmd.append("-v")
        self._log_start = len(self.log_text())
        self._log_fh = open(self.log_path, "ab")  # noqa: SIM115
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_err = ""
        start = self._log_start  # this launch's part of the log (a retry appends to it)
        while "baresip is ready." not in self.log_text()[start:]:
            if self._proc is None or self._proc.poll() is not None:
                raise BaresipError(f"baresip exited early:\n{self.log_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise BaresipError(f"baresip not ready:\n{self.log_text()[-4000:]}")
            time.sleep(0.02)
        if "Address already in use" in self.log_text()[start:]:
            raise _PortTaken(f"a port of baresip was taken:\n{self.log_text()[start:][-2000:]}")
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise BaresipError(f"baresip exited early:\n{self.log_text()[-4000:]}")
            try:
                sock = socket.create_connection((self.host, self.ctrl_port), timeout=1)
                break
            except OSError as e:
                last_err = str(e)
                time.sleep(0.02)
        else:
            raise BaresipError(f"ctrl_tcp not reachable: {last_err}\n{self.log_text()[-4000:]}")
        sock.settimeout(None)
        self._sock = sock
        self._reader = threading.Thread(target=self._read_loop, name=f"{self._name}-ctrl", daemon=True)
        self._reader.start()
        while "baresip is ready." not in self.log_text():
            if time.monotonic() > deadline:
                raise BaresipError(f"baresip not ready:\n{self.log_text()[-4000:]}")
            time.sleep(0.02)
        if self.registrar is not None:
            self.wait_registered(max(1.0, deadline - time.monotonic()))

    def wait_registered(self, timeout: float = 10.0) -> None:
        """Poll ``reginfo`` until the account shows ``OK``."""
        deadline = time.monotonic() + timeout
        data = ""
        while time.monotonic() < deadline:
            data = _ANSI_RE.sub("", self.command("reginfo").get("data") or "")
            if re.search(r"\bOK\b", data):
                return
            time.sleep(0.05)
        raise BaresipError(f"not registered after {timeout}s: {data!r}\n{self.log_text()[-4000:]}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop baresip (SIGTERM, then SIGKILL); remove a temp workdir we created."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    proc.wait(timeout=5)
            self._proc = None
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        if self._own_workdir and not self.keep_workdir and self.workdir != Path():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Baresip:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ ctrl_tcp

    def _read_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        buf = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while True:
                    colon = buf.find(b":")
                    if colon < 0:
                        break
                    try:
                        n = int(buf[:colon])
                    except ValueError:
                        buf = b""  # lost framing; should not happen
                        break
                    if len(buf) < colon + 1 + n + 1:
                        break
                    payload = buf[colon + 1 : colon + 1 + n]
                    buf = buf[colon + 1 + n + 1 :]  # skip the trailing ','
                    try:
                        msg = json.loads(payload)
                    except ValueError:
                        continue
                    self._dispatch(msg)
        except OSError:
            pass
        finally:
            with self._cond:
                self._cond.notify_all()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        with self._cond:
            if msg.get("response"):
                self._responses[str(msg.get("token"))] = msg
            elif msg.get("event"):
                msg["_time"] = time.monotonic()
                self._events.append(msg)
            self._cond.notify_all()

    def command(self, command: str, params: str = "", timeout: float = 5.0) -> dict[str, Any]:
        """Send a ctrl_tcp command; return the response dict (``ok``, ``data``)."""
        if self._sock is None:
            raise BaresipError("not started")
        token = f"t{next(self._tokens)}"
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        with self._send_lock:
            self._sock.sendall(b"%d:%s," % (len(body), body))
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BaresipError(f"no response to {command!r} within {timeout}s")
                self._cond.wait(left)
            return self._responses.pop(token)

    def _check(self, command: str, params: str = "") -> dict[str, Any]:
        r = self.command(command, params)
        if not r.get("ok"):
            raise BaresipError(f"{command} {params!r} failed: {r.get('data')!r}")
        return r

    def dial(self, uri: str) -> None:
        """Start an outgoing call to ``uri`` (``sip:bob@127.0.0.1``)."""
        self._check("dial", uri)

    def answer(self) -> None:
        """Accept the incoming call (answer_mode="manual")."""
        self._check("accept")

    def hangup(self) -> None:
        """Hang up the current call."""
        self._check("hangup")

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """All events received so far (optionally of one ``type``)."""
        with self._cond:
            return [e for e in self._events if type is None or e.get("type") == type]

    def wait_event(self, type: str, timeout: float = 10.0, **match: str) -> dict[str, Any]:
        """The oldest not yet waited-for event of ``type`` (e.g. CALL_INCOMING,
        CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK) whose fields
        equal ``match``; waits up to ``timeout`` s for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, e in enumerate(self._events):
                    if i in self._consumed or e.get("type") != type:
                        continue
                    if all(str(e.get(k)) == v for k, v in match.items()):
                        self._consumed.add(i)
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or (not self.is_running() and self._sock is None):
                    seen = [e.get("type") for e in self._events]
                    raise BaresipError(
                        f"{self.user}: no {type} event within {timeout}s (seen: {seen})\n"
                        f"{self.log_text()[-3000:]}"
                    )
                self._cond.wait(min(left, 0.2))

    # ------------------------------------------------------------ results

    def recordings(self, kind: str = "dec") -> list[Path]:
        """sndfile dumps, oldest first: ``kind="dec"`` received audio, ``"enc"`` sent audio."""
        if not self.rec_dir.exists():
            return []
        return sorted(self.rec_dir.glob(f"dump-*-{kind}.wav"), key=lambda p: (p.stat().st_mtime, p.name))

    def cpu_seconds(self) -> float:
        """utime + stime of the baresip process so far (seconds, from /proc/PID/stat)."""
        pid = self.pid
        if pid is None:
            raise BaresipError("not running")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BaresipFactory:
    """Starts :class:`Baresip` peers with work dirs under ``base_dir``; ``stop_all()`` ends them.

    ``factory(user="alice", registrar=k, play_wav=wav)`` returns a started
    peer in ``base_dir/<user>-<n>`` (kept after the test, so logs and
    recordings can be inspected).  ``peers`` lists all of them, e.g. for
    attaching their logs to a failing test report.
    """

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)
        self.peers: list[Baresip] = []

    def __call__(self, **kwargs: Any) -> Baresip:
        n = len(self.peers) + 1
        workdir = kwargs.pop("workdir", None) or self.base_dir / f"{kwargs.get('user') or 'baresip'}-{n}"
        peer = Baresip(workdir, **kwargs)
        self.peers.append(peer)
        return peer.start()

    def logs(self, tail: int = 6000) -> str:
        return "\n".join(f"----- {p!r} ({p.workdir})\n{p.log_text()[-tail:]}" for p in self.peers)

    def stop_all(self) -> None:
        for p in reversed(self.peers):
            with contextlib.suppress(Exception):
                p.stop()
