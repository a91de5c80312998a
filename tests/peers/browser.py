"""A real browser as a test peer: headless Chromium running JsSIP over SIP-over-WebSocket.

:class:`BrowserPeer` starts Debian's Chromium (headless, its own throw-away profile) with a WAV file as
its fake microphone, loads ``tests/peers/browser/index.html`` (JsSIP from the npm registry, bundled by
``npm run build``) from a small HTTP server of its own, and drives the page over the Chrome DevTools
Protocol on a pipe (``--remote-debugging-pipe``: no debugging port to find or to secure).  What the far
end sends is recorded in the page from the remote track (AudioWorklet, PCM at 48 kHz, no re-encoding) and
uploaded to that HTTP server as a 16-bit WAV.

Chromium never gathers loopback ICE candidates, so calls with media run inside a network namespace of
:mod:`tests.peers.netns`: the browser is started there (``ip netns exec``) and its HTTP server listens on
the namespace's 127.0.0.1 (a secure context, so getUserMedia works without flags).  Host candidates
carry the namespace's real addresses (``WebRtcHideLocalIpsWithMdns`` off: no ``.local`` names).

Example::

    with two_hosts() as (_, a, b), BrowserPeer(tmp_path / "alice", netns=a, play_wav=speech) as alice:
        alice.register("alice", "alice-secret", kamailio.ws_url, domain=kamailio.domain)
        alice.call("sip:bob@10.200.0.1")
        alice.wait_for("confirmed")
        ...
        alice.hangup()
        heard = alice.recording()

Everything the page logs (console, exceptions, with ``sip_trace`` every SIP message JsSIP sends and
receives) goes to the ``tests.peers.browser.<name>`` logger and to ``<workdir>/console.log``.
Needs the ``chromium`` Debian package and ``npm ci && npm run build`` in ``tests/peers/browser``
(``make test`` does both); :func:`browser_unavailable_reason` says what is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.peers.netns import Netns

__all__ = ["PAGE_DIR", "BrowserError", "BrowserPeer", "browser_unavailable_reason", "chromium_binary"]

PAGE_DIR = Path(__file__).resolve().parent / "browser"
JSSIP_BUNDLE = PAGE_DIR / "build" / "jssip.js"
_STATIC = {
    "/": (PAGE_DIR / "index.html", "text/html"),
    "/index.html": (PAGE_DIR / "index.html", "text/html"),
    "/phone.js": (PAGE_DIR / "phone.js", "text/javascript"),
    "/recorder.js": (PAGE_DIR / "recorder.js", "text/javascript"),
    "/recorder-worklet.js": (PAGE_DIR / "recorder-worklet.js", "text/javascript"),
    "/build/jssip.js": (JSSIP_BUNDLE, "text/javascript"),
}
_UPLOAD_RE = re.compile(r"^/upload/([A-Za-z0-9._-]{1,80})$")
MAX_UPLOAD = 64 * 1024 * 1024
"""Largest recording accepted (about 11 minutes of 48 kHz 16-bit mono)."""


class BrowserError(RuntimeError):
    """Chromium failed to start, a DevTools command failed, or the page threw."""


def chromium_binary() -> str | None:
    """The Chromium executable: ``$CHROMIUM_BIN``, else Debian's real binary (not the wrapper script,
    which only adds flags from /etc/chromium.d), else whatever ``chromium`` is on PATH."""
    env = os.environ.get("CHROMIUM_BIN")
    if env:
        return env
    for candidate in ("/usr/lib/chromium/chromium",):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_unavailable_reason() -> str | None:
    """None when a BrowserPeer can start here, else why not (for pytest.skip)."""
    if chromium_binary() is None:
        return "Chromium not installed (apt-get install chromium)"
    if not JSSIP_BUNDLE.exists():
        return f"JsSIP not built: run `npm ci && npm run build` in {PAGE_DIR} (make test does it)"
    return None


# ------------------------------------------------------------------ DevTools protocol over a pipe


class _DevTools:
    """CDP client on the pipe pair of ``--remote-debugging-pipe``: NUL-terminated JSON messages, the
    browser reads fd 3 and writes fd 4.  Synchronous calls; events go to ``on_event`` on the reader
    thread."""

    def __init__(
        self, to_browser: int, from_browser: int, on_event: Callable[[dict[str, Any]], None]
    ) -> None:
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self._on_event = on_event
        self._next_id = 0
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self.closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = self._in.read(65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    self._dispatch(json.loads(raw))
        except (OSError, ValueError):
            pass
        finally:
            self.closed.set()
            with self._lock:
                for done, _ in self._pending.values():
                    done.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._lock:
                waiter = self._pending.pop(message["id"], None)
            if waiter is not None:
                waiter[1].append(message)
                waiter[0].set()
        else:
            self._on_event(message)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = 10,
    ) -> dict[str, Any]:
        done, box = threading.Event(), list[dict[str, Any]]()
        with self._lock:
            if self.closed.is_set():
                raise BrowserError(f"{method}: the browser has gone")
            self._next_id += 1
            message_id = self._next_id
            self._pending[message_id] = (done, box)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            self._out.write(json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"{method}: cannot write to the browser: {exc}") from exc
        if not done.wait(timeout):
            with self._lock:
                self._pending.pop(message_id, None)
            raise BrowserError(f"{method}: no answer within {timeout} s")
        if not box:
            raise BrowserError(f"{method}: the browser has gone")
        reply = box[0]
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def close(self) -> None:
        for f in (self._out, self._in):
            with contextlib.suppress(OSError):
                f.close()


# ------------------------------------------------------------------ HTTP server for the page


class _PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        uploads: Path,
        log: logging.Logger,
        static: dict[str, tuple[Path, str]] = _STATIC,
    ) -> None:
        self.uploads = uploads
        self.static = static
        self.log = log
        self.uploaded: dict[str, Path] = {}
        self.upload_done = threading.Condition()
        super().__init__(address, _PageHandler, bind_and_activate=False)


class _PageHandler(http.server.BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        entry = self.server.static.get(self.path.split("?", 1)[0])
        if entry is None or not entry[0].exists():
            self.send_error(404)
            return
        body = entry[0].read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", entry[1])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        match = _UPLOAD_RE.match(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if match is None or not 0 < length <= MAX_UPLOAD:
            self.send_error(400)
            return
        body = self.rfile.read(length)
        path = self.server.uploads / match.group(1)
        path.write_bytes(body)
        with self.server.upload_done:
            self.server.uploaded[match.group(1)] = path
            self.server.upload_done.notify_all()
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        self.server.log.debug("http: " + format, *args)


# ------------------------------------------------------------------ the peer


class BrowserPeer:
    """One headless Chromium tab running the JsSIP test page; see the module docstring.

    Call states reported by the page (:meth:`wait_for`): ``calling`` (INVITE sent), ``incoming``,
    ``progress`` (1xx), ``accepted`` (2xx sent or received), ``confirmed`` (ACK), ``ended``, ``failed``;
    registration states ``registered``, ``registration-failed``, ``unregistered``.
    """

    static_files: dict[str, tuple[Path, str]] = _STATIC
    """What the page server serves (URL path: file, content type); a subclass may add another page."""
    page_path = "/"
    """The page the tab opens."""

    def __init__(
        self,
        workdir: Path,
        *,
        netns: Netns | None = None,
        play_wav: Path | None = None,
        name: str = "browser",
        sip_trace: bool = True,
        ice_servers: list[dict[str, Any]] | None = None,
        ice_transport_policy: str = "all",
        extra_args: tuple[str, ...] = (),
        start_timeout: float = 30.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.netns = netns
        self.play_wav = play_wav
        self.name = name
        self.sip_trace = sip_trace
        self.ice_servers = ice_servers or []
        self.ice_transport_policy = ice_transport_policy
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.log = logging.getLogger(f"tests.peers.browser.{name}")
        if self.log.level == logging.NOTSET:
            # pytest shows captured records of failed tests; the root logger's WARNING would hide these
            self.log.setLevel(logging.INFO)
        self.events: list[dict[str, Any]] = []
        self._cursor = 0
        self._events_changed = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        self._devtools: _DevTools | None = None
        self._session: str | None = None
        self._server: _PageServer | None = None
        self._console: Any = None
        self._profile = self.workdir / "profile"
        self._uploads = self.workdir / "uploads"

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> BrowserPeer:
        reason = browser_unavailable_reason()
        if reason is not None:
            raise BrowserError(reason)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._uploads.mkdir(exist_ok=True)
        self._console = open(self.workdir / "console.log", "a", buffering=1)  # noqa: SIM115
        try:
            self._start_server()
            self._start_chromium()
            self._open_page()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self) -> None:
        # Sockets belong to the namespace of the thread that creates them: bind inside the browser's one,
        # on its loopback (a secure context for getUserMedia).
        with self.netns.entered() if self.netns is not None else contextlib.nullcontext():
            server = _PageServer(("127.0.0.1", 0), self._uploads, self.log, self.static_files)
            try:
                server.server_bind()
                server.server_activate()
            except OSError:
                server.server_close()
                raise
        self._server = server
        threading.Thread(target=server.serve_forever, name=f"{self.name}-http", daemon=True).start()

    @property
    def page_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.page_path}"

    def chromium_args(self) -> list[str]:
        binary = chromium_binary()
        assert binary is not None
        args = [
            binary,
            "--headless",
            "--no-sandbox",  # root in a container: the setuid/namespace sandbox is unavailable
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--disable-dev-shm-usage",
            "--password-store=basic",
            f"--user-data-dir={self._profile}",
            "--remote-debugging-pipe",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            # real host candidates instead of random .local names nobody here can resolve
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            # timers of a hidden headless tab would be throttled to 1 Hz otherwise
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
        ]
        if self.play_wav is not None:
            args.append(f"--use-file-for-fake-audio-capture={self.play_wav}")
        args.extend(self.extra_args)
        args.append("about:blank")
        return args

    def _start_chromium(self) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The child needs them as fds 3 and 4; move them out of that range first so the shell's
        # redirections cannot clobber one with another.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (to_browser_r, from_browser_w)]
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        script = f'exec "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-'
        # bash: dash takes only single-digit fds in redirections
        cmd = ["bash", "-c", script, "bash", *self.chromium_args()]
        if self.netns is not None:
            cmd = self.netns.command(*cmd)
        self.log.info("starting %s", " ".join(cmd))
        stderr = open(self.workdir / "chromium.log", "ab")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                pass_fds=high,
                start_new_session=True,
                cwd=self.workdir,
            )
        finally:
            stderr.close()
            for fd in high:
                os.close(fd)
        self._devtools = _DevTools(to_browser_w, from_browser_r, self._on_event)

    def _open_page(self) -> None:
        devtools = self._devtools
        assert devtools is not None
        deadline = time.monotonic() + self.start_timeout
        target = devtools.call("Target.createTarget", {"url": "about:blank"}, timeout=self.start_timeout)
        attached = devtools.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self._session = attached["sessionId"]
        for method, params in (
            ("Runtime.enable", {}),
            ("Log.enable", {}),
            ("Page.enable", {}),
            ("Runtime.addBinding", {"name": "__report"}),
        ):
            devtools.call(method, params, session=self._session)
        devtools.call("Page.navigate", {"url": self.page_url}, session=self._session)
        ready = self._wait_event(
            lambda e: e.get("type") == "page", deadline - time.monotonic(), consume=False
        )
        self.log.info("page ready, JsSIP %s", ready.get("jssip"))
        options = {
            "iceServers": self.ice_servers,
            "iceTransportPolicy": self.ice_transport_policy,
            "sipTrace": self.sip_trace,
        }
        self.evaluate(f"phone.configure({json.dumps(options)})")

    def stop(self) -> None:
        """Close the browser (kill it if it does not go), stop the HTTP server, delete the profile.
        The workdir with console.log, chromium.log and uploads/ stays."""
        if self._devtools is not None:
            with contextlib.suppress(BrowserError):
                self._devtools.call("Browser.close", timeout=3)
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            self._kill_stragglers()
            self._proc = None
        if self._devtools is not None:
            self._devtools.close()
            self._devtools = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._console is not None:
            self._console.close()
            self._console = None
        shutil.rmtree(self._profile, ignore_errors=True)

    def _kill_stragglers(self) -> None:
        """Chromium helpers that left the process group (zygotes may) still carry our profile path."""
        marker = f"--user-data-dir={self._profile}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline.split(b"\0"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)

    def __enter__(self) -> BrowserPeer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- events and logging

    def _write_console(self, line: str) -> None:
        self.log.info("%s", line)
        if self._console is not None:
            with contextlib.suppress(ValueError, OSError):
                self._console.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def _on_event(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.bindingCalled" and params.get("name") == "__report":
            try:
                event = json.loads(params["payload"])
            except ValueError:
                return
            if event.get("type") != "sdp":
                self._write_console(f"event {json.dumps(event)}")
            else:
                self._write_console(f"event sdp {event['originator']} {event['sdpType']}:\n{event['sdp']}")
            with self._events_changed:
                self.events.append(event)
                self._events_changed.notify_all()
        elif method == "Runtime.consoleAPICalled":
            parts = [str(a.get("value", a.get("description", a.get("type")))) for a in params.get("args", [])]
            # the debug module (JsSIP's logging) styles its output with %c and CSS arguments
            text = " ".join(p for p in parts if not p.startswith("color:"))
            self._write_console(f"console.{params.get('type')}: {text.replace('%c', '')}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text")
            self._write_console(f"exception: {description}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            self._write_console(f"log.{entry.get('level')}: {entry.get('text')} {entry.get('url', '')}")
        elif method in ("Inspector.detached", "Target.targetCrashed"):
            self._write_console(f"{method}: {params}")

    def _wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, *, consume: bool = True
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._events_changed:
            while True:
                for index in range(self._cursor, len(self.events)):
                    if predicate(self.events[index]):
                        if consume:
                            self._cursor = index + 1
                        return self.events[index]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._devtools is not None and self._devtools.closed.is_set()):
                    break
                self._events_changed.wait(min(remaining, 0.5))
        seen = [e.get("state", e.get("type")) for e in self.events[self._cursor :]]
        raise BrowserError(f"{self.name}: no matching event within {timeout} s; since the last one: {seen}")

    def wait_for(self, state: str, timeout: float = 15.0) -> dict[str, Any]:
        """The next reported state event ``state`` (events are consumed in order, like a log: states
        passed over on the way are skipped).  Fails after ``timeout``, or early when the call ends
        or fails while waiting for something else."""
        terminal = {"ended", "failed", "registration-failed"}

        def matches(event: dict[str, Any]) -> bool:
            if event.get("type") != "state":
                return False
            if event["state"] != state and event["state"] in terminal:
                raise BrowserError(f"{self.name}: waiting for {state!r} but got {event}")
            return bool(event["state"] == state)

        return self._wait_event(matches, timeout)

    def wait_event(self, type_: str, timeout: float = 15.0, **fields: Any) -> dict[str, Any]:
        """The next event of this type (``hold``, ``ice``, ``recording``, ...) with these field values;
        consumed like :meth:`wait_for`."""
        return self._wait_event(
            lambda e: e.get("type") == type_ and all(e.get(k) == v for k, v in fields.items()), timeout
        )

    def states(self) -> list[str]:
        """All state names reported so far, in order."""
        return [e["state"] for e in self.events if e.get("type") == "state"]

    def sdp(self, originator: str = "local", sdp_type: str = "offer") -> str:
        """The last SDP of this kind seen by JsSIP (``local``/``remote``, ``offer``/``answer``)."""
        for event in reversed(self.events):
            if (
                event.get("type") == "sdp"
                and event["originator"] == originator
                and event["sdpType"] == sdp_type
            ):
                return str(event["sdp"])
        raise BrowserError(f"{self.name}: no {originator} {sdp_type} SDP seen")

    # ---------------------------------------------------------------- the page's API

    def evaluate(self, expression: str, timeout: float = 10.0) -> Any:
        """Evaluate JavaScript in the page, awaiting a returned promise; returns its JSON value."""
        if self._devtools is None or self._session is None:
            raise BrowserError("browser not started")
        result = self._devtools.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=self._session,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{self.name}: {expression[:80]}: {description}")
        return result.get("result", {}).get("value")

    def register(
        self,
        user: str,
        password: str,
        ws_url: str,
        *,
        domain: str,
        display_name: str = "",
        timeout: float = 15,
    ) -> None:
        """Register ``sip:user@domain`` through the WebSocket server at ``ws_url``; returns once a 2xx
        answered the REGISTER (raises on a failure)."""
        args = json.dumps([ws_url, f"sip:{user}@{domain}", password, display_name])[1:-1]
        self.evaluate(f"phone.register({args})", timeout=timeout)

    def unregister(self, timeout: float = 5) -> None:
        self.evaluate("phone.unregister()", timeout=timeout)

    def call(self, uri: str) -> int:
        """Start a call to ``uri``; returns the page's call number (progress via :meth:`wait_for`)."""
        return int(self.evaluate(f"phone.call({json.dumps(uri)})"))

    def answer(self) -> int:
        """Answer the incoming call (wait for ``incoming`` first)."""
        return int(self.evaluate("phone.answer()"))

    def hold(self, timeout: float = 10) -> None:
        """Put the call on hold (re-INVITE with a=sendonly); returns once it was answered."""
        self.evaluate("phone.hold()", timeout=timeout)

    def resume(self, timeout: float = 10) -> None:
        """Take the call off hold (re-INVITE with a=sendrecv); returns once it was answered."""
        self.evaluate("phone.unhold()", timeout=timeout)

    def send_dtmf(self, digits: str, duration_ms: int = 100, gap_ms: int = 70) -> None:
        """Queue ``digits`` as RFC 4733 telephone-events (Chromium's RTCDTMFSender)."""
        self.evaluate(f"phone.sendDTMF({json.dumps(digits)}, {duration_ms}, {gap_ms})")

    def hangup(self) -> None:
        """CANCEL, reject or BYE, whatever the call's state asks for."""
        self.evaluate("phone.hangup()")

    def stats(self) -> dict[str, Any]:
        """A summary of the call's WebRTC statistics: codec, inbound/outbound RTP, selected ICE pair."""
        value = self.evaluate("phone.stats()")
        return dict(value) if value else {}

    def recorded_seconds(self) -> float:
        """How much of the current call is recorded so far (a position in :meth:`recording`)."""
        return float(self.evaluate("phone.recordedSeconds()"))

    def recording(self, timeout: float = 20.0) -> Path:
        """The WAV of what the page heard in the current (or last) call.  While the call is up, the
        recording is stopped now; after it ended, the page has uploaded it already or is doing so."""
        call = self.evaluate("phone.callId")
        name = f"recording-{call}.wav"
        assert self._server is not None
        if self.evaluate("phone.session !== null && !phone.session.isEnded()"):
            self.evaluate("phone.finishRecording()", timeout=timeout)
        deadline = time.monotonic() + timeout
        with self._server.upload_done:
            while name not in self._server.uploaded:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BrowserError(
                        f"{self.name}: no recording of call {call} uploaded within {timeout} s"
                    )
                self._server.upload_done.wait(remaining)
            return self._server.uploaded[name]
