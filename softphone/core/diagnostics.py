"""The self-test: can this installation make a call? (``softphone --self-test``)

Each check loads one piece the way a call would and says what it found. It is what a user runs when
something is wrong, and what every packaging test runs first from the installed app, so a piece
that a bundler left out is named here rather than in a crash during the first call.
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .. import __version__

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_codecs() -> Check:
    """Every audio codec encodes and decodes a 20 ms frame (PyAV's FFmpeg, libopus)."""
    import numpy as np

    from ..media.audio import FRAME_SAMPLES, RATE
    from ..media.codecs import SUPPORTED_CODECS, make_codec

    tone = (8000 * np.sin(2 * np.pi * 1000 * np.arange(FRAME_SAMPLES) / RATE)).astype(np.int16)
    rates = {"PCMU": 8000, "PCMA": 8000, "G722": 8000, "opus": 48000}
    done, failed = [], []
    for name in SUPPORTED_CODECS:
        try:
            codec = make_codec(name, 96, rates[name], 2 if name == "opus" else 1)
            for _ in range(3):  # codecs with look-ahead give their first samples late
                pcm = codec.decode(codec.encode(tone))
            if pcm.shape != (FRAME_SAMPLES,):
                raise ValueError(f"decoded {pcm.shape} samples")
            done.append(name)
        except Exception as exc:
            failed.append(f"{name} ({_gist(exc)})")
    if failed:
        return Check("codecs", False, "cannot load " + ", ".join(failed))
    return Check("codecs", True, ", ".join(done))


def check_audio_devices() -> Check:
    """PortAudio loads and lists the sound devices (none at all is reported, not failed: calls then go
    on silent, as they do on a machine without a sound card)."""
    try:
        import sounddevice as sd  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:
        return Check("audio", False, f"PortAudio cannot be loaded: {exc}")
    from ..media.device_list import list_devices

    devices = list_devices()
    inputs = sum(1 for d in devices if d.inputs)
    outputs = sum(1 for d in devices if d.outputs)
    version = sd.get_portaudio_version()[1]
    if not devices:
        return Check("audio", True, f"{version}; no sound device found (calls will be silent)")
    return Check("audio", True, f"{version}; {inputs} input and {outputs} output device(s)")


def check_srtp() -> Check:
    """libsrtp protects and unprotects a packet (SDES keys, as a classic SIP call)."""
    from ..media.srtp import SrtpContext, SrtpKey

    key = SrtpKey.generate()
    sender, receiver = SrtpContext(tx=key, rx=key), SrtpContext(tx=key, rx=key)
    packet = bytes([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1]) + b"\x55" * 160
    if receiver.unprotect_rtp(sender.protect_rtp(packet)) != packet:
        return Check("srtp", False, "a protected packet did not come back the same")
    return Check("srtp", True, "AES_CM_128_HMAC_SHA1_80 round trip")


def check_dtls() -> Check:
    """A DTLS certificate can be made (OpenSSL, for DTLS-SRTP with WebRTC peers)."""
    from ..media.webrtc import DtlsCertificate

    certificate = DtlsCertificate.generate()
    return Check("dtls", True, "certificate sha-256 " + certificate.fingerprint("sha-256")[:23] + "...")


def check_echo_canceller() -> Check:
    from ..media.aec import make_echo_canceller

    canceller = make_echo_canceller("auto")
    name = str(getattr(canceller, "name", type(canceller).__name__))
    if name in ("none", "PassThrough"):
        return Check("echo canceller", False, "neither WebRTC AEC3 nor speexdsp could be loaded")
    return Check("echo canceller", True, name)


def check_keyring() -> Check:
    """Passwords go to the system keyring; where there is none, to a private file (said, not failed)."""
    from .secrets import keyring_available

    if keyring_available():
        import keyring

        backend = keyring.get_keyring()
        return Check("keyring", True, f"{type(backend).__module__}.{type(backend).__name__}")
    return Check("keyring", True, "no system keyring: passwords will be kept in a private file (mode 0600)")


CHECKS: tuple[Callable[[], Check], ...] = (
    check_codecs,
    check_audio_devices,
    check_srtp,
    check_dtls,
    check_echo_canceller,
    check_keyring,
)


def run_checks(extra: tuple[Callable[[], Check], ...] = ()) -> list[Check]:
    """Every check, each on its own: one that raises is a failed check, never the end of the test."""
    results = []
    for check in (*CHECKS, *extra):
        name = check.__name__.removeprefix("check_").replace("_", " ")
        try:
            results.append(check())
        except Exception as exc:
            log.debug("self-test %s", name, exc_info=True)
            results.append(Check(name, False, f"{type(exc).__name__}: {_gist(exc)}"))
    return results


def _gist(exc: BaseException) -> str:
    """One line of an exception's message: some (numpy's ImportError) are pages of advice, with the cause
    on the last line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def report(results: list[Check]) -> tuple[str, int]:
    """The text to print and the exit status (0 when every check passed)."""
    frozen = " (installed bundle)" if getattr(sys, "frozen", False) else ""
    head = f"softphone {__version__}{frozen}, Python {platform.python_version()}, {platform.platform()}"
    lines = [head, *(check.line() for check in results)]
    failed = [check.name for check in results if not check.ok]
    lines.append("missing or broken: " + ", ".join(failed) if failed else "all checks passed")
    return "\n".join(lines), 1 if failed else 0
