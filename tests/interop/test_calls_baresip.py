"""Real calls between softphone-cli and baresip (1.0.0) through the tests' Kamailio.

The softphone (``alice``) and baresip (``bob``) both register at Kamailio and
call each other through it; the audio is checked by content: the sender
plays the speech sample, the receiver records, and the recording is aligned
with the sample and scored (correlation, PESQ).

* softphone -> baresip, per codec (PCMU, PCMA, G722, opus); baresip -> softphone,
  per codec: speech arrives intact.
* SDES-SRTP (RTP/SAVP, AES_CM_128_HMAC_SHA1_80) both ways.
* ``--srtp required`` against a peer without SRTP: 488 one way, exit code 3
  the other.
* Hang-up from baresip (BYE) ends the softphone's call with "remote hangup", exit 0.
* RFC 4733 DTMF from the softphone arrives at baresip (CALL_DTMF_START), in order.

The scores go to stdout (``pytest -s``) and to a JSON file whose path is
printed at the end of the module (``SOFTPHONE_SCORES_JSON`` overrides it),
for the release note.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.audio import AudioMatch, compare, pesq_available
from tests.peers.baresip import BaresipFactory
from tests.peers.kamailio import KamailioServer
from tests.peers.softphone_cli import CliProcess

pytestmark = pytest.mark.interop

CALL_SECONDS = 5.0
CODECS = ["PCMU", "PCMA", "G722", "opus"]
# The speech sample is played at the codec's own rate (baresip's aufile resamples
# poorly, and it keeps the reference identical for both directions).
RATE = {"PCMU": 8000, "PCMA": 8000, "G722": 16000, "opus": 48000}
# PESQ-NB floors: G.711 must be near its ceiling (about 4.0 on this sample); the
# others are reported, with a sanity floor.  G.722 scores only ~3.0 in PESQ-WB
# even baresip to baresip (measured: NB 3.87, WB 3.02), so WB gets a lower floor.
PESQ_NB_FLOOR = {"PCMU": 3.5, "PCMA": 3.5, "G722": 3.0, "opus": 3.0}
PESQ_WB_FLOOR = {"G722": 2.7, "opus": 3.0}

_SCORES: dict[str, dict[str, Any]] = {}


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def scores_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the measured scores are written (after each call, and printed at the end)."""
    env = os.environ.get("SOFTPHONE_SCORES_JSON")
    path = Path(env) if env else tmp_path_factory.mktemp("call-scores") / "pesq_scores.json"
    yield path
    if _SCORES:
        print(f"\nsoftphone <-> baresip scores written to {path}")
        for name, s in sorted(_SCORES.items()):
            print(f"  {name}: PESQ-NB={s['pesq_nb']} PESQ-WB={s['pesq_wb']} corr={s['correlation']}")


def record_scores(path: Path, name: str, match: AudioMatch, **extra: Any) -> None:
    print(f"\n{name}: {match}")
    _SCORES[name] = {
        "pesq_nb": None if match.pesq_nb is None else round(match.pesq_nb, 3),
        "pesq_wb": None if match.pesq_wb is None else round(match.pesq_wb, 3),
        "correlation": round(match.correlation, 4),
        "offset_ms": round(match.offset_ms, 1),
        "rms_ratio": round(match.rms_ratio, 3),
        "overlap_s": round(match.overlap_s, 2),
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_SCORES, indent=2, sort_keys=True) + "\n")


def account(k: KamailioServer, user: str = "alice") -> list[str]:
    """Global CLI options for a softphone registered as ``user`` through Kamailio."""
    return [
        "--user", f"sip:{user}@{k.domain}",
        "--password-env", "SOFTPHONE_TEST_PASSWORD",
        "--proxy", f"sip:{k.host}:{k.udp_port};transport=udp",
        "--listen", "127.0.0.1:0",
        "--sip-trace",
    ]  # fmt: skip


def softphone(k: KamailioServer, *args: str, user: str = "alice") -> CliProcess:
    return CliProcess(*account(k, user), *args, password=k.users[user])


def speech(codec: str, speech_8k: Path, speech_16k: Path, speech_48k: Path) -> Path:
    return {8000: speech_8k, 16000: speech_16k, 48000: speech_48k}[RATE[codec]]


def explain(cli: CliProcess, peers: BaresipFactory, k: KamailioServer | None = None) -> str:
    """Everything useful when a call test fails: CLI events + SIP trace, baresip and Kamailio logs."""
    text = f"--- softphone events ---\n{cli.events}\n--- softphone stderr (tail) ---\n{cli.stderr[-6000:]}\n"
    text += f"--- baresip ---\n{peers.logs(4000)}\n"
    if k is not None:
        text += f"--- kamailio (tail) ---\n{k.log_text()[-3000:]}\n"
    return text


def check_audio(codec: str, match: AudioMatch, context: str) -> None:
    assert match.correlation > 0.85, f"{match}\n{context}"
    assert match.overlap_s >= CALL_SECONDS - 1.5, f"{match}\n{context}"
    if not pesq_available():
        return
    assert match.pesq_nb is not None, f"{match}\n{context}"
    assert match.pesq_nb >= PESQ_NB_FLOOR[codec], f"{match}\n{context}"
    if codec in PESQ_WB_FLOOR:
        assert match.pesq_wb is not None, f"{match}\n{context}"
        assert match.pesq_wb >= PESQ_WB_FLOOR[codec], f"{match}\n{context}"


def event(cli: CliProcess, name: str) -> dict[str, Any] | None:
    """The last event ``name`` seen so far (None if none)."""
    found = [e for e in cli.events if e.get("event") == name]
    return found[-1] if found else None


# ------------------------------------------------------------ audio per codec


@pytest.mark.parametrize("codec", CODECS)
def test_softphone_calls_baresip_speech_arrives(
    codec: str,
    kamailio: KamailioServer,
    make_baresip: BaresipFactory,
    speech_8k: Path,
    speech_16k: Path,
    speech_48k: Path,
    scores_file: Path,
) -> None:
    """softphone -> Kamailio -> baresip (auto-answer, records): the speech arrives intact."""
    wav = speech(codec, speech_8k, speech_16k, speech_48k)
    bob = make_baresip(user="bob", registrar=kamailio, codecs=[codec], answer_mode="auto")
    with softphone(
        kamailio, "call", bob.aor, "--play", str(wav), "--duration", str(CALL_SECONDS), "--codecs", codec
    ) as cli:
        answered = cli.wait_event("answered", timeout=15)
        assert answered["codec"].lower() == codec.lower(), explain(cli, make_baresip)
        assert answered["srtp"] is False
        rc = cli.wait(timeout=CALL_SECONDS + 15)
        assert rc == 0, explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
        ended = event(cli, "ended")
        assert ended is not None and ended["reason"] == "local hangup", explain(cli, make_baresip)
        stats = event(cli, "stats")
    recs = bob.recordings()
    assert len(recs) == 1, explain(cli, make_baresip)
    match = compare(wav, recs[0], max_offset=30.0)
    record_scores(
        scores_file,
        f"softphone->baresip {codec}",
        match,
        codec=codec,
        direction="softphone->baresip",
        reference_rate=RATE[codec],
        packets_sent=stats and stats.get("packets_sent"),
    )
    check_audio(codec, match, explain(cli, make_baresip))


@pytest.mark.parametrize("codec", CODECS)
def test_baresip_calls_softphone_speech_arrives(
    codec: str,
    kamailio: KamailioServer,
    make_baresip: BaresipFactory,
    speech_8k: Path,
    speech_16k: Path,
    speech_48k: Path,
    scores_file: Path,
    tmp_path: Path,
) -> None:
    """baresip -> Kamailio -> softphone (`answer --record`): the softphone's recording matches."""
    wav = speech(codec, speech_8k, speech_16k, speech_48k)
    heard = tmp_path / "heard.wav"
    with softphone(
        kamailio, "answer", "--record", str(heard), "--duration", str(CALL_SECONDS), "--codecs", codec
    ) as cli:
        cli.wait_event("registered", timeout=10)
        bob = make_baresip(user="bob", registrar=kamailio, codecs=[codec], play_wav=wav)
        bob.dial(f"sip:alice@{kamailio.domain}")
        incoming = cli.wait_event("incoming", timeout=15)
        assert "bob" in incoming["from"]
        answered = cli.wait_event("answered", timeout=10)
        assert answered["codec"].lower() == codec.lower(), explain(cli, make_baresip)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        ended = cli.wait_event("ended", timeout=CALL_SECONDS + 15)
        assert ended["reason"] == "local hangup", explain(cli, make_baresip)
        bob.wait_event("CALL_CLOSED", timeout=10)
        rc = cli.wait(timeout=15)
        assert rc == 0, explain(cli, make_baresip, kamailio)
    match = compare(wav, heard, max_offset=30.0)
    record_scores(
        scores_file,
        f"baresip->softphone {codec}",
        match,
        codec=codec,
        direction="baresip->softphone",
        reference_rate=RATE[codec],
    )
    check_audio(codec, match, explain(cli, make_baresip))


# ------------------------------------------------------------------- SDES-SRTP


def test_srtp_baresip_calls_softphone(
    kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path, scores_file: Path, tmp_path: Path
) -> None:
    """baresip offers RTP/SAVP (mediaenc=srtp-mand); the softphone answers with SRTP, audio decrypts."""
    heard = tmp_path / "heard.wav"
    with softphone(
        kamailio, "answer", "--record", str(heard), "--duration", str(CALL_SECONDS), "--codecs", "PCMU"
    ) as cli:
        cli.wait_event("registered", timeout=10)
        bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], play_wav=speech_8k, srtp="srtp-mand")
        bob.dial(f"sip:alice@{kamailio.domain}")
        answered = cli.wait_event("answered", timeout=15)
        assert answered["srtp"] is True, explain(cli, make_baresip)
        assert answered["profile"] == "RTP/SAVP", explain(cli, make_baresip)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        cli.wait_event("ended", timeout=CALL_SECONDS + 15)
        assert cli.wait(timeout=15) == 0, explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
    match = compare(speech_8k, heard, max_offset=30.0)
    record_scores(scores_file, "baresip->softphone PCMU SRTP", match, codec="PCMU", srtp=True)
    check_audio("PCMU", match, explain(cli, make_baresip))


def test_srtp_softphone_calls_baresip(
    kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path, scores_file: Path
) -> None:
    """softphone with --srtp required offers RTP/SAVP to baresip (srtp-mand); baresip decrypts the speech."""
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], srtp="srtp-mand")
    with softphone(
        kamailio, "call", bob.aor, "--play", str(speech_8k), "--duration", str(CALL_SECONDS),
        "--codecs", "PCMU", "--srtp", "required",
    ) as cli:  # fmt: skip
        answered = cli.wait_event("answered", timeout=15)
        assert answered["srtp"] is True, explain(cli, make_baresip)
        assert answered["profile"] == "RTP/SAVP", explain(cli, make_baresip)
        assert cli.wait(timeout=CALL_SECONDS + 15) == 0, explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
        stats = event(cli, "stats")
    # baresip's SRTP really decrypted what we sent: its recording is the speech.
    recs = bob.recordings()
    assert len(recs) == 1, explain(cli, make_baresip)
    match = compare(speech_8k, recs[0], max_offset=30.0)
    record_scores(scores_file, "softphone->baresip PCMU SRTP", match, codec="PCMU", srtp=True)
    check_audio("PCMU", match, explain(cli, make_baresip))
    # ... and ours decrypted what baresip sent (silence, but authenticated packets count).
    assert stats is not None and stats["packets_received"] > 100, stats


def test_srtp_best_effort_offer_from_baresip_is_taken_up(
    kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path, tmp_path: Path
) -> None:
    """baresip mediaenc=srtp: RTP/AVP + a=crypto (best effort); the softphone (optional) uses the keys."""
    heard = tmp_path / "heard.wav"
    with softphone(kamailio, "answer", "--record", str(heard), "--duration", "3", "--codecs", "PCMU") as cli:
        cli.wait_event("registered", timeout=10)
        bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], play_wav=speech_8k, srtp="srtp")
        bob.dial(f"sip:alice@{kamailio.domain}")
        answered = cli.wait_event("answered", timeout=15)
        assert answered["srtp"] is True, explain(cli, make_baresip)
        assert answered["profile"] == "RTP/AVP", explain(cli, make_baresip)
        assert cli.wait(timeout=20) == 0, explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
    match = compare(speech_8k, heard, max_offset=30.0)
    print(f"\nbaresip->softphone PCMU best-effort SRTP: {match}")
    assert match.correlation > 0.85, match


# ------------------------------------------------------- SRTP required, refused


def test_softphone_requiring_srtp_refuses_plain_rtp_offer_with_488(
    kamailio: KamailioServer, make_baresip: BaresipFactory
) -> None:
    """`answer --srtp required`: a plain RTP/AVP offer without a=crypto gets 488 Not Acceptable Here."""
    with softphone(kamailio, "answer", "--srtp", "required", "--codecs", "PCMU") as cli:
        cli.wait_event("registered", timeout=10)
        bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"])
        bob.dial(f"sip:alice@{kamailio.domain}")
        closed = bob.wait_event("CALL_CLOSED", timeout=15)
        ended = cli.wait_event("ended", timeout=10)
        assert ended["status"] == 488, explain(cli, make_baresip)
        assert ended["reason"].startswith("media not acceptable"), ended
        assert "488" in str(closed.get("param")), (closed, explain(cli, make_baresip))
        assert not bob.events("CALL_ESTABLISHED")
        assert event(cli, "answered") is None
        # the 488 carried a Warning saying why (RFC 3261 §20.43)
        assert "Warning:" in cli.stderr, explain(cli, make_baresip)
        cli.terminate()


def test_softphone_requiring_srtp_cannot_call_plain_baresip(
    kamailio: KamailioServer, make_baresip: BaresipFactory
) -> None:
    """`call --srtp required` to a baresip without SRTP: not answered, a clear reason, exit code 3."""
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    with softphone(kamailio, "call", bob.aor, "--srtp", "required", "--codecs", "PCMU", "--duration", "3") as cli:
        ended = cli.wait_event("ended", timeout=20)
        rc = cli.wait(timeout=15)
    context = explain(cli, make_baresip)
    assert rc == 3, context
    assert event(cli, "answered") is None, context
    assert ended["status"] == 488, context
    reason = ended["reason"].lower()
    assert "488" in reason or "srtp" in reason or "not acceptable" in reason, context
    assert not bob.events("CALL_ESTABLISHED") or bob.wait_event("CALL_CLOSED", timeout=10)


# ----------------------------------------------------------------- hang-ups


def test_bye_from_baresip_ends_outgoing_call(kamailio: KamailioServer, make_baresip: BaresipFactory) -> None:
    """softphone calls; baresip hangs up: the softphone reports "remote hangup" and exits 0."""
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    with softphone(kamailio, "call", bob.aor, "--codecs", "PCMU") as cli:
        cli.wait_event("answered", timeout=15)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        time.sleep(1.5)
        bob.hangup()
        ended = cli.wait_event("ended", timeout=10)
        assert ended["reason"] == "remote hangup", explain(cli, make_baresip)
        assert ended["duration"] >= 1.0
        assert cli.wait(timeout=15) == 0, explain(cli, make_baresip)
        stats = event(cli, "stats")
        assert stats is not None and stats["packets_received"] > 40, stats


def test_bye_from_baresip_ends_incoming_call(kamailio: KamailioServer, make_baresip: BaresipFactory) -> None:
    """baresip calls the softphone and hangs up: "remote hangup", exit 0."""
    with softphone(kamailio, "answer", "--codecs", "PCMU") as cli:
        cli.wait_event("registered", timeout=10)
        bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"])
        bob.dial(f"sip:alice@{kamailio.domain}")
        cli.wait_event("answered", timeout=15)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        time.sleep(1.5)
        bob.hangup()
        ended = cli.wait_event("ended", timeout=10)
        assert ended["reason"] == "remote hangup", explain(cli, make_baresip)
        assert cli.wait(timeout=15) == 0, explain(cli, make_baresip)


# --------------------------------------------------------------------- DTMF


def test_rfc4733_dtmf_from_softphone_reaches_baresip(
    kamailio: KamailioServer, make_baresip: BaresipFactory
) -> None:
    """`call --dtmf 123#`: baresip receives the telephone-events once each, in order (CALL_DTMF_START)."""
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    with softphone(kamailio, "call", bob.aor, "--codecs", "PCMU", "--dtmf", "123#", "--duration", "3") as cli:
        answered = cli.wait_event("answered", timeout=15)
        assert answered["dtmf"] is True, answered  # telephone-event negotiated
        assert cli.wait(timeout=20) == 0, explain(cli, make_baresip)
        bob.wait_event("CALL_CLOSED", timeout=10)
    digits = [str(e.get("param")) for e in bob.events("CALL_DTMF_START")]
    assert digits == ["1", "2", "3", "#"], (bob.events(), explain(cli, make_baresip))
    assert len(bob.events("CALL_DTMF_END")) == 4, bob.events()
