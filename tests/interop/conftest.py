"""Fixtures for interop tests against a real Kamailio (and SIPp as a client).

Fixtures:

``kamailio``        session-scoped, started :class:`KamailioServer`
                    (users alice/bob/carol, see ``tests.peers.kamailio``).
``fresh_kamailio``  function-scoped, a private server (own ports, empty
                    location table), e.g. for restart tests.
``make_kamailio``   function-scoped factory for servers with custom
                    KamailioServer options (stopped at teardown).
``sipp``            function-scoped :class:`SippRunner` running the
                    scenarios in ``tests/peers/sipp`` from ``tmp_path``.

Tests needing Kamailio are skipped only when the ``kamailio`` binary is
missing; tests needing SIPp are skipped when ``sipp`` is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.peers.kamailio import KamailioServer

SIPP_DIR = Path(__file__).resolve().parent.parent / "peers" / "sipp"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interop: test runs against real third-party SIP software (Kamailio, SIPp)"
    )


def _require_kamailio() -> None:
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio binary not found on PATH (apt-get install kamailio)")


@pytest.fixture(scope="session")
def kamailio() -> Iterator[KamailioServer]:
    """A Kamailio registrar/proxy shared by the whole test session."""
    _require_kamailio()
    server = KamailioServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_kamailio() -> Iterator[KamailioServer]:
    """A private Kamailio for one test (own ports, empty location table)."""
    _require_kamailio()
    server = KamailioServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_kamailio() -> Iterator[Callable[..., KamailioServer]]:
    """Factory for started servers with custom options, e.g.
    ``make_kamailio(nonce_expire=1, qop=False)``; all are stopped afterwards."""
    _require_kamailio()
    servers: list[KamailioServer] = []

    def make(**kwargs: Any) -> KamailioServer:
        server = KamailioServer(**kwargs)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Attach the tail of the Kamailio log to failing tests."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        funcargs = getattr(item, "funcargs", {})
        for name in ("kamailio", "fresh_kamailio"):
            server = funcargs.get(name)
            if isinstance(server, KamailioServer):
                rep.sections.append((f"{name} log (tail)", server.log_text()[-8000:]))


# --------------------------------------------------------------------- SIPp


@dataclass
class SippResult:
    returncode: int
    stdout: str
    stderr: str
    logs: str = ""  # <log> actions (-trace_logs)
    messages: str = ""  # sent/received SIP messages (-trace_msg)
    errors: str = ""  # unexpected messages (-trace_err)
    cmd: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def explain(self) -> str:
        return (
            f"sipp rc={self.returncode}\ncmd: {' '.join(self.cmd)}\n"
            f"--- errors ---\n{self.errors[-3000:]}\n--- logs ---\n{self.logs[-2000:]}\n"
            f"--- messages ---\n{self.messages[-6000:]}\n--- stderr ---\n{self.stderr[-2000:]}"
        )


class SippRunner:
    """Runs SIPp scenarios from tests/peers/sipp against a KamailioServer."""

    TRANSPORTS = {"udp": "u1", "tcp": "t1", "tls": "l1"}

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._n = 0

    def _cmd(
        self,
        scenario: str,
        *,
        remote: str | None,
        service: str,
        transport: str,
        user: str | None,
        password: str | None,
        local_port: int | None,
        keys: dict[str, str],
        timeout: float,
    ) -> tuple[list[str], str]:
        self._n += 1
        tag = f"{Path(scenario).stem}-{self._n}"
        scen = SIPP_DIR / scenario
        cmd = ["sipp"]
        if remote:
            cmd.append(remote)
        cmd += [
            "-sf", str(scen),
            "-s", service,
            "-m", "1",
            "-i", "127.0.0.1",
            "-t", self.TRANSPORTS[transport],
            "-timeout", f"{int(timeout)}s",
            "-timeout_error",
            "-nostdin",
            "-trace_err", "-error_file", str(self.workdir / f"{tag}.errors"),
            "-trace_logs", "-log_file", str(self.workdir / f"{tag}.logs"),
            "-trace_msg", "-message_file", str(self.workdir / f"{tag}.messages"),
        ]  # fmt: skip
        if user is not None:
            cmd += ["-au", user, "-ap", password or ""]
        if local_port:
            cmd += ["-p", str(local_port)]
        for k, v in keys.items():
            cmd += ["-key", k, str(v)]
        return cmd, tag

    def _result(self, cmd: list[str], tag: str, rc: int, out: str, err: str) -> SippResult:
        def read(ext: str) -> str:
            p = self.workdir / f"{tag}.{ext}"
            return p.read_text(errors="replace") if p.exists() else ""

        return SippResult(rc, out, err, read("logs"), read("messages"), read("errors"), cmd)

    def run(
        self,
        server: KamailioServer,
        scenario: str,
        *,
        service: str,
        transport: str = "udp",
        user: str | None = None,
        password: str | None = None,
        local_port: int | None = None,
        keys: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> SippResult:
        """Run a client scenario against ``server`` and wait for it."""
        port = {"udp": server.udp_port, "tcp": server.tcp_port, "tls": server.tls_port}[transport]
        all_keys = {"domain": server.domain, "expires": "600", **(keys or {})}
        cmd, tag = self._cmd(
            scenario,
            remote=f"{server.host}:{port}",
            service=service,
            transport=transport,
            user=user,
            password=password,
            local_port=local_port,
            keys=all_keys,
            timeout=timeout,
        )
        res = subprocess.run(
            cmd,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout + 10,
            stdin=subprocess.DEVNULL,
        )
        return self._result(cmd, tag, res.returncode, res.stdout, res.stderr)

    def spawn_uas(
        self, scenario: str, *, local_port: int, transport: str = "udp", timeout: float = 10
    ) -> SippProcess:
        """Start a server (UAS) scenario listening on ``local_port``."""
        cmd, tag = self._cmd(
            scenario,
            remote=None,
            service="uas",
            transport=transport,
            user=None,
            password=None,
            local_port=local_port,
            keys={},
            timeout=timeout,
        )
        proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return SippProcess(self, cmd, tag, proc)


class SippProcess:
    def __init__(self, runner: SippRunner, cmd: list[str], tag: str, proc: subprocess.Popen[str]) -> None:
        self.runner, self.cmd, self.tag, self.proc = runner, cmd, tag, proc

    def wait(self, timeout: float = 15) -> SippResult:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.runner._result(self.cmd, self.tag, self.proc.returncode, out, err)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def sipp(tmp_path: Path) -> SippRunner:
    if shutil.which("sipp") is None:
        pytest.skip("sipp binary not found on PATH (apt-get install sip-tester)")
    d = tmp_path / "sipp"
    d.mkdir()
    return SippRunner(d)


# ------------------------------------------------------------------ baresip
# (appended block: baresip peer + speech sample fixtures; see
# tests/peers/baresip.py and tests/peers/audio.py)

from tests.peers.audio import audio_tools_available, speech_wav  # noqa: E402
from tests.peers.baresip import BaresipFactory, baresip_available  # noqa: E402


@pytest.fixture
def make_baresip(tmp_path: Path) -> Iterator[BaresipFactory]:
    """Factory for started baresip peers, e.g.
    ``make_baresip(user="alice", registrar=kamailio, play_wav=wav, codecs=["PCMU"])``;
    work dirs (config, log, rec/dump-*.wav) under ``tmp_path/baresip``; all
    stopped at teardown.  Skips when baresip is not installed."""
    if not baresip_available():
        pytest.skip("baresip not installed (apt-get install baresip-core)")
    factory = BaresipFactory(tmp_path / "baresip")
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def speech_8k() -> Path:
    """60 s of looped speech (Harvard sentences, espeak-ng), mono 16-bit 8 kHz WAV (cached)."""
    if not audio_tools_available():
        pytest.skip("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    return speech_wav(rate=8000, seconds=60)


@pytest.fixture(scope="session")
def speech_16k() -> Path:
    """Like ``speech_8k`` at 16 kHz (G.722 / wide-band tests)."""
    if not audio_tools_available():
        pytest.skip("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    return speech_wav(rate=16000, seconds=60)


@pytest.fixture(scope="session")
def speech_48k() -> Path:
    """Like ``speech_8k`` at 48 kHz (Opus tests)."""
    if not audio_tools_available():
        pytest.skip("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    return speech_wav(rate=48000, seconds=60)


# ------------------------------------------------------------ end of baresip


# ------------------------------------------------------------------ SIPp UAS scenarios


@pytest.fixture
def start_uas(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start a SIPp UAS scenario (tests/peers/sipp_uas.py); stopped at teardown, traces in tmp_path."""
    from tests.peers.sipp_uas import SippUas

    servers: list[SippUas] = []

    def start(scenario: str, **kwargs: Any) -> SippUas:
        name = f"{Path(scenario).stem}-{len(servers) + 1}"
        uas = SippUas(scenario, workdir=tmp_path / "sipp", name=name, **kwargs)
        servers.append(uas.start())
        return uas

    try:
        yield start
    finally:
        for uas in servers:
            uas.stop()
