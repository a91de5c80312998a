"""A private Janus WebRTC gateway (Debian's ``janus``) with only its SIP plugin, as a test peer.

:class:`JanusServer` writes a configuration directory of its own (``janus.jcfg``, the SIP plugin's and
the HTTP transport's), points Janus at private plugin and transport folders that hold one symlink each
(``libjanus_sip.so``, ``libjanus_http.so``: nothing else is loaded, no event handlers, no loggers), and
runs ``janus`` in the foreground, optionally inside a network namespace of :mod:`tests.peers.netns`.
Debian's package enables a systemd unit; it is neither needed nor touched.

Two sides, two addresses:

- the browser side: the Janus API over plain HTTP (``api_url``, janus.js long-polls it) on ``api_ip``, and
  ICE candidates gathered only on ``ice_ip`` (``ice_enforce_list``; no STUN, no TURN, half-trickle);
- the SIP side: the SIP plugin's Sofia-SIP stack and its plain RTP/AVP (or SDES-SRTP) media bound to
  ``sip_ip``.

Example::

    with JanusServer(tmp_path / "janus", api_ip="10.200.51.1", ice_ip="10.200.51.1",
                     sip_ip="10.200.50.1", netns=a) as janus:
        janus.api_url       # http://10.200.51.1:<port>/janus, for new Janus({server: ...})

Janus's own log (debug level 4 by default, with timestamps) is ``<workdir>/janus.log``; the
configuration stays in ``<workdir>/conf`` for a look after a failure.  :func:`janus_unavailable_reason`
says what is missing (for pytest.skip).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.peers.netns import Netns

__all__ = ["JanusError", "JanusServer", "janus_binary", "janus_library_dir", "janus_unavailable_reason"]

_LIBRARY_GLOBS = ("/usr/lib/*/janus", "/usr/lib/janus", "/usr/lib64/janus", "/usr/local/lib/janus")
SIP_PLUGIN = "libjanus_sip.so"
HTTP_TRANSPORT = "libjanus_http.so"
API_PATH = "/janus"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class JanusError(RuntimeError):
    """Janus failed to start or to answer."""


def janus_binary() -> str | None:
    return (
        os.environ.get("JANUS_BIN")
        or shutil.which("janus")
        or ("/usr/bin/janus" if os.access("/usr/bin/janus", os.X_OK) else None)
    )


def janus_library_dir() -> Path | None:
    """The folder with ``plugins/`` and ``transports/`` of the installed Janus (``$JANUS_LIBDIR`` first)."""
    candidates = [Path(os.environ["JANUS_LIBDIR"])] if os.environ.get("JANUS_LIBDIR") else []
    for pattern in _LIBRARY_GLOBS:
        candidates.extend(sorted(Path("/").glob(pattern.lstrip("/"))))
    for candidate in candidates:
        if (candidate / "plugins" / SIP_PLUGIN).exists() and (
            candidate / "transports" / HTTP_TRANSPORT
        ).exists():
            return candidate
    return None


def janus_unavailable_reason() -> str | None:
    """None when a JanusServer can start here, else why not."""
    if janus_binary() is None:
        return "Janus not installed (apt-get install janus)"
    if janus_library_dir() is None:
        return f"Janus's {SIP_PLUGIN} or {HTTP_TRANSPORT} not found (set JANUS_LIBDIR)"
    return None


def _free_port(ip: str, kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def _port_ranges(count: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two adjacent UDP port ranges of ``count`` ports each (ICE towards browsers, the SIP leg's RTP).
    Each instance takes its own random slice: several may share one namespace (or the host's loopback)."""
    first = random.randrange(30000, 60000 - 2 * count, 2)
    return (first, first + count - 1), (first + count, first + 2 * count - 1)


class JanusServer:
    """One Janus process with the SIP plugin; see the module docstring.  A context manager."""

    def __init__(
        self,
        workdir: Path,
        *,
        api_ip: str = "127.0.0.1",
        ice_ip: str = "127.0.0.1",
        sip_ip: str = "127.0.0.1",
        netns: Netns | None = None,
        debug_level: int = 4,
        sip_user_agent: str = "Janus SIP plugin (softphone test peer)",
        start_timeout: float = 15.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.api_ip = api_ip
        self.ice_ip = ice_ip
        self.sip_ip = sip_ip
        self.netns = netns
        self.debug_level = debug_level
        self.sip_user_agent = sip_user_agent
        self.start_timeout = start_timeout
        self.api_port = 0
        self.ice_ports, self.sip_rtp_ports = _port_ranges(200)
        self.conf_dir = self.workdir / "conf"
        self.log_path = self.workdir / "janus.log"
        self._proc: subprocess.Popen[bytes] | None = None

    # ---------------------------------------------------------------- configuration

    @property
    def api_url(self) -> str:
        """The Janus API over HTTP (``server`` of janus.js's ``new Janus()``)."""
        return f"http://{self.api_ip}:{self.api_port}{API_PATH}"

    def _write_config(self) -> list[str]:
        """Writes the configuration folder; returns the command line."""
        binary, library = janus_binary(), janus_library_dir()
        if binary is None or library is None:
            raise JanusError(janus_unavailable_reason() or "Janus not usable")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        folders = {}
        for name, keep in (
            ("plugins", SIP_PLUGIN),
            ("transports", HTTP_TRANSPORT),
            ("events", None),
            ("loggers", None),
        ):
            folder = self.workdir / name
            folder.mkdir(exist_ok=True)
            if keep is not None and not (folder / keep).exists():
                (folder / keep).symlink_to(library / name / keep)
            folders[name] = folder
        with self.netns.entered() if self.netns is not None else contextlib.nullcontext():
            self.api_port = _free_port(self.api_ip, socket.SOCK_STREAM)
        ice_first, ice_last = self.ice_ports
        rtp_first, rtp_last = self.sip_rtp_ports
        # Janus's config format (libconfig) takes JSON strings and numbers as they are.
        q = json.dumps
        (self.conf_dir / "janus.jcfg").write_text(
            f"""general: {{
\tconfigs_folder = {q(str(self.conf_dir))}
\tplugins_folder = {q(str(folders["plugins"]))}
\ttransports_folder = {q(str(folders["transports"]))}
\tevents_folder = {q(str(folders["events"]))}
\tloggers_folder = {q(str(folders["loggers"]))}
\tdebug_level = {int(self.debug_level)}
\tdebug_timestamps = true
\tdebug_colors = false
\tinterface = {q(self.ice_ip)}
\tserver_name = "softphone-test-janus"
\tsession_timeout = 60
\thide_dependencies = false
\tprotected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]
}}
certificates: {{
}}
media: {{
\trtp_port_range = "{ice_first}-{ice_last}"
\tno_media_timer = 5
}}
nat: {{
\tnice_debug = false
\tfull_trickle = false
\tice_lite = false
\tice_tcp = false
\tice_enforce_list = {q(self.ice_ip)}
\tignore_mdns = true
}}
plugins: {{
}}
transports: {{
}}
loggers: {{
}}
events: {{
\tbroadcast = false
}}
"""
        )
        (self.conf_dir / "janus.plugin.sip.jcfg").write_text(
            f"""general: {{
\tlocal_ip = {q(self.sip_ip)}
\tlocal_media_ip = {q(self.sip_ip)}
\tsdp_ip = {q(self.sip_ip)}
\tkeepalive_interval = 0
\tbehind_nat = false
\tuser_agent = {q(self.sip_user_agent)}
\tregister_ttl = 300
\trtp_port_range = "{rtp_first}-{rtp_last}"
\tsip_timer_t1x64 = 32000
\tevents = false
}}
"""
        )
        (self.conf_dir / "janus.transport.http.jcfg").write_text(
            f"""general: {{
\tjson = "compact"
\tbase_path = {q(API_PATH)}
\thttp = true
\tport = {self.api_port}
\tip = {q(self.api_ip)}
\thttps = false
\tevents = false
}}
admin: {{
\tadmin_http = false
\tadmin_https = false
}}
cors: {{
}}
"""
        )
        return [binary, "--configs-folder", str(self.conf_dir), "--config", str(self.conf_dir / "janus.jcfg")]

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> JanusServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = self._write_config()
        if self.netns is not None:
            cmd = self.netns.command(*cmd)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise JanusError(f"janus exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                info = self.info(timeout=1.0)
            except (OSError, ValueError, JanusError) as exc:
                last_error = str(exc)
                time.sleep(0.2)
                continue
            if "janus.plugin.sip" not in info.get("plugins", {}):
                raise JanusError(f"Janus runs without its SIP plugin: {sorted(info.get('plugins', {}))}")
            return
        raise JanusError(f"Janus not ready within {self.start_timeout} s ({last_error}):\n{self.log_tail()}")

    def info(self, timeout: float = 5.0) -> dict[str, Any]:
        """The answer to the Janus API ``info`` request: version, plugins, transports, dependencies."""
        # urllib's sockets live in the calling thread's namespace: the API only listens inside Janus's one.
        with (
            self.netns.entered() if self.netns is not None else contextlib.nullcontext(),
            _NO_PROXY.open(f"{self.api_url}/info", timeout=timeout) as response,
        ):
            reply: dict[str, Any] = json.loads(response.read())
        if reply.get("janus") != "server_info":
            raise JanusError(f"unexpected info reply: {reply}")
        return reply

    def log_tail(self, chars: int = 8000) -> str:
        return self.log_text()[-chars:]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM Janus (it says goodbye to nothing: its SIP registrations just lapse), SIGKILL if it
        lingers; the workdir with the log and the configuration stays."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> JanusServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
