"""Call quality under packet loss and jitter: PESQ, delay and concealment, per codec and pair of peers.

Every call runs through the impairment relay of tests/peers/impair.py (SIP and RTP both go through it;
only RTP/RTCP is impaired: ``loss`` % random loss and ``jitter`` ms, i.e. each packet waits
``jitter`` +- ``jitter`` ms, uniformly, so packets reorder as with netem's ``delay J J``).  Both ends
play a known speech sample (Harvard sentences by espeak-ng, at the codec's rate) and record what they
hear, so one call measures both directions.  Pairs: the softphone engine (the headless CLI) against
baresip, against itself, and baresip against baresip as the reference.

Columns: ``PESQ-NB`` (P.862, 8 kHz) for every codec, ``PESQ-WB`` (P.862.2) for G722 and opus; ``corr``
the normalised correlation of the aligned speech; ``lag ms`` where the speech sits in the recording
(alignment by cross-correlation; both ends start their media at the 2xx, so this is about the one-way
delay: network, jitter buffer, codec); ``dropped`` RTP packets the relay dropped towards the receiver;
``concealed`` frames the receiver's jitter buffer concealed and ``late`` packets it discarded, from the
CLI's ``stats`` event (n/a for baresip, which does not report them; its recording skips lost packets
instead of concealing them, see tests/peers/baresip.py).

Run:  .venv/bin/python bench/quality.py                      (the full grid; about 25 minutes)
      .venv/bin/python bench/quality.py --codecs PCMU,opus --loss 0,10 --jitter 0,60 --seconds 8
Options write the table as CSV (--csv) and markdown (--markdown) and draw docs/quality.png (--plot;
needs matplotlib: pip install -e '.[bench]').  Not a test: it only measures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.peers.audio import AudioError, compare, load, speech_wav  # noqa: E402
from tests.peers.baresip import Baresip, baresip_available  # noqa: E402
from tests.peers.impair import Impairment, SipRelay  # noqa: E402
from tests.peers.softphone_cli import CliProcess, free_udp_port  # noqa: E402

CODECS = ("PCMU", "PCMA", "G722", "opus")
RATE = {"PCMU": 8000, "PCMA": 8000, "G722": 16000, "opus": 48000}
PAIRS = ("engine-baresip", "engine-engine", "baresip-baresip")
TRIM = 0.5  # seconds cut from both ends of a recording before scoring: call set-up and tear-down


@dataclass
class Row:
    sender: str
    receiver: str
    codec: str
    loss: float
    jitter_ms: float
    pesq_nb: float | None
    pesq_wb: float | None
    corr: float | None
    lag_ms: float | None
    dropped: int
    packets: int
    concealed: int | None
    played: int | None
    late: int | None
    jb_ms: float | None
    note: str = ""


# ------------------------------------------------------------------------------------------- peers


class EngineSide:
    """The softphone engine as one end: the headless CLI playing and recording WAV files."""

    name = "engine"

    def __init__(self, workdir: Path, codec: str, wav: Path, label: str) -> None:
        self.codec, self.wav = codec, wav
        self.record = workdir / f"{label}-heard.wav"
        self.cli: CliProcess | None = None
        self.port = free_udp_port()

    def media_args(self) -> list[str]:
        return ["--play", str(self.wav), "--record", str(self.record), "--codecs", self.codec]

    def listen(self) -> tuple[str, int]:
        self.cli = CliProcess("--listen", f"127.0.0.1:{self.port}", "answer", *self.media_args())
        self.cli.wait_event("started")
        return ("127.0.0.1", self.port)

    def call(self, uri: str, seconds: float) -> None:
        self.cli = CliProcess(
            "--listen", "127.0.0.1:0", "call", uri, *self.media_args(), "--duration", str(seconds)
        )
        self.cli.wait_event("answered", timeout=30)
        self.cli.wait(timeout=seconds + 30)

    def finish(self) -> None:
        if self.cli is not None:
            with contextlib.suppress(Exception):
                self.cli.wait_event("ended", timeout=20)
            with contextlib.suppress(Exception):
                self.cli.wait(timeout=15)
            self.cli.kill()

    def recording(self) -> Path | None:
        return self.record if self.record.exists() else None

    def stats(self) -> dict[str, Any]:
        if self.cli is None:
            return {}
        return next((e for e in reversed(self.cli.events) if e.get("event") == "stats"), {})


class BaresipSide:
    """baresip as one end (aufile source, sndfile recording)."""

    name = "baresip"

    def __init__(self, workdir: Path, codec: str, wav: Path, label: str) -> None:
        self.peer = Baresip(workdir / label, user=label, codecs=[codec], play_wav=wav, answer_mode="auto")
        self.peer.start()

    def listen(self) -> tuple[str, int]:
        return ("127.0.0.1", self.peer.sip_port)

    def call(self, uri: str, seconds: float) -> None:
        self.peer.dial(uri)
        self.peer.wait_event("CALL_ESTABLISHED", timeout=30)
        time.sleep(seconds)
        self.peer.hangup()
        self.peer.wait_event("CALL_CLOSED", timeout=20)

    def finish(self) -> None:
        with contextlib.suppress(Exception):
            self.peer.wait_event("CALL_CLOSED", timeout=20)
        self.peer.stop()

    def recording(self) -> Path | None:
        recs = self.peer.recordings()
        return recs[-1] if recs else None

    def stats(self) -> dict[str, Any]:
        return {}


Side = EngineSide | BaresipSide


def make_side(kind: str, workdir: Path, codec: str, wav: Path, label: str) -> Side:
    return (
        EngineSide(workdir, codec, wav, label)
        if kind == "engine"
        else BaresipSide(workdir, codec, wav, label)
    )


# ------------------------------------------------------------------------------------------- scoring


def score(
    reference: Path, recording: Path | None
) -> tuple[float | None, float | None, float | None, float | None]:
    """(PESQ-NB, PESQ-WB, correlation, lag ms) of a recording against the speech it carries."""
    if recording is None:
        return None, None, None, None
    try:
        samples, rate = load(recording)
        cut = int(TRIM * rate)
        if len(samples) <= 2 * cut + rate:
            return None, None, None, None
        lag = compare(reference, (samples, rate)).offset_ms
        match = compare(reference, (samples[cut:-cut], rate))
    except AudioError:
        return None, None, None, None
    return match.pesq_nb, match.pesq_wb, match.correlation, lag


def run_call(
    workdir: Path, pair: str, codec: str, loss: float, jitter: float, seconds: float, seed: int
) -> list[Row]:
    """One call through the relay; a row for each direction."""
    caller_kind, callee_kind = pair.split("-")
    wav = speech_wav(rate=RATE[codec], seconds=60)
    impairment = Impairment(loss=loss, delay_ms=jitter, jitter_ms=jitter)
    callee = make_side(callee_kind, workdir, codec, wav, "bob")
    caller: Side | None = None
    note = ""
    relay = SipRelay(callee.listen(), media=impairment, seed=seed)
    try:
        caller = make_side(caller_kind, workdir, codec, wav, "alice")
        caller.call(relay.uri("bob"), seconds)
    except Exception as exc:  # a call that fails is a result too
        note = f"call failed: {str(exc).splitlines()[0][:80]}"
    finally:
        for side in (caller, callee):
            if side is not None:
                side.finish()
        relay.close()
    rows = []
    for sender, receiver, direction in ((caller, callee, "a->b"), (callee, caller, "b->a")):
        if sender is None or receiver is None:
            continue
        counters = relay.counters("rtp", direction)
        nb, wb, corr, lag = score(wav, receiver.recording())
        stats = receiver.stats()
        rows.append(
            Row(
                sender=sender.name,
                receiver=receiver.name,
                codec=codec,
                loss=loss,
                jitter_ms=jitter,
                pesq_nb=nb,
                pesq_wb=wb if RATE[codec] >= 16000 else None,
                corr=corr,
                lag_ms=lag,
                dropped=counters.dropped,
                packets=counters.packets,
                concealed=stats.get("concealed_frames"),
                played=stats.get("played_frames"),
                late=stats.get("late_packets"),
                jb_ms=stats.get("jitter_buffer_ms"),
                note=note,
            )
        )
    return rows


# ------------------------------------------------------------------------------------------- output


def fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


HEADER = ["sender>receiver", "codec", "loss %", "jitter ms", "PESQ-NB", "PESQ-WB", "corr", "lag ms",
          "dropped", "concealed", "late", "jb ms", "note"]  # fmt: skip


def cells(row: Row) -> list[str]:
    concealed = "n/a"
    if row.concealed is not None:
        total = (row.played or 0) + row.concealed
        share = f" ({100.0 * row.concealed / total:.0f}%)" if total else ""
        concealed = f"{row.concealed}{share}"
    return [
        f"{row.sender}>{row.receiver}",
        row.codec,
        fmt(row.loss, 0),
        fmt(row.jitter_ms, 0),
        fmt(row.pesq_nb),
        fmt(row.pesq_wb),
        fmt(row.corr, 3),
        fmt(row.lag_ms, 0),
        f"{row.dropped}/{row.packets}",
        concealed,
        fmt(row.late),
        fmt(row.jb_ms, 0),
        row.note,
    ]


def table(rows: list[Row]) -> str:
    data = [HEADER] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in data) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in data
    )


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0]).keys()))
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))


def read_csv(path: Path) -> list[Row]:
    def value(name: str, text: str) -> Any:
        if name in ("sender", "receiver", "codec", "note"):
            return text
        if text == "":
            return None
        number = float(text)
        return int(number) if name in ("dropped", "packets", "concealed", "played", "late") else number

    with path.open(newline="") as fh:
        return [Row(**{k: value(k, v) for k, v in line.items()}) for line in csv.DictReader(fh)]


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codecs = [c for c in CODECS if any(r.codec == c for r in rows)]
    fig, axes = plt.subplots(1, len(codecs), figsize=(4.2 * len(codecs), 3.8), sharey=True, squeeze=False)
    for ax, codec in zip(axes[0], codecs, strict=True):
        wide = RATE[codec] >= 16000
        # engine>engine and baresip>baresip give two rows per call (one per direction): plot their mean
        series: dict[str, dict[float, list[float]]] = {}
        for r in rows:
            value = r.pesq_wb if wide else r.pesq_nb
            if r.codec == codec and value is not None:
                label = f"{r.sender}>{r.receiver}, {r.jitter_ms:.0f} ms"
                series.setdefault(label, {}).setdefault(r.loss, []).append(value)
        for label, by_loss in sorted(series.items()):
            losses = sorted(by_loss)
            means = [sum(by_loss[x]) / len(by_loss[x]) for x in losses]
            ax.plot(losses, means, marker="o", label=label)
        ax.set_title(f"{codec} ({'PESQ-WB' if wide else 'PESQ-NB'})")
        ax.set_xlabel("random RTP loss (%)")
        ax.grid(alpha=0.3)
        ax.set_ylim(1.0, 4.7)
    axes[0][0].set_ylabel("MOS-LQO")
    axes[0][-1].legend(fontsize=6, loc="lower left", title="sender>receiver, jitter", title_fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ------------------------------------------------------------------------------------------- main


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", default=",".join(CODECS), help="e.g. PCMU,opus")
    parser.add_argument("--loss", default="0,3,10", help="random RTP loss in percent, e.g. 0,10")
    parser.add_argument("--jitter", default="0,30,60", help="jitter in ms, e.g. 0,60")
    parser.add_argument("--pairs", default=",".join(PAIRS), help=f"caller-callee pairs among {PAIRS}")
    parser.add_argument("--seconds", type=float, default=8.0, help="conversation per call")
    parser.add_argument("--seed", type=int, default=1, help="seed of the relay's random loss and jitter")
    parser.add_argument("--csv", type=Path, help="write the rows as CSV here")
    parser.add_argument("--markdown", type=Path, help="write the table as markdown here")
    parser.add_argument("--plot", type=Path, nargs="?", const=ROOT / "docs" / "quality.png",
                        help="draw PESQ against loss (default path docs/quality.png)")  # fmt: skip
    parser.add_argument("--from-csv", type=Path, help="no calls: print and plot the rows of an earlier --csv")
    args = parser.parse_args(argv)
    if args.from_csv:
        return report(read_csv(args.from_csv), args)
    codecs = [c for c in args.codecs.split(",") if c]
    pairs = [p for p in args.pairs.split(",") if p]
    for codec in codecs:
        if codec not in RATE:
            parser.error(f"unknown codec {codec}")
    for pair in pairs:
        if pair not in PAIRS:
            parser.error(f"unknown pair {pair}")
    if any("baresip" in p for p in pairs) and not baresip_available():
        print("baresip is not installed: only engine-engine calls", file=sys.stderr)
        pairs = [p for p in pairs if "baresip" not in p]
    rows: list[Row] = []
    grid = [
        (p, c, lo, j) for c in codecs for lo in floats(args.loss) for j in floats(args.jitter) for p in pairs
    ]
    started = time.monotonic()
    with _workdir() as workdir:
        for n, (pair, codec, loss, jitter) in enumerate(grid, 1):
            call_dir = workdir / f"{n:03d}"
            call_dir.mkdir()
            new = run_call(call_dir, pair, codec, loss, jitter, args.seconds, args.seed)
            rows += new
            for row in new:
                print(
                    f"[{n}/{len(grid)} {time.monotonic() - started:.0f} s] " + " ".join(cells(row)),
                    flush=True,
                )
    print()
    return report(rows, args)


def report(rows: list[Row], args: argparse.Namespace) -> int:
    print(table(rows))
    if args.csv:
        write_csv(rows, args.csv)
    if args.markdown:
        args.markdown.write_text(markdown(rows))
    if args.plot:
        try:
            plot(rows, args.plot)
            print(f"plot: {args.plot}")
        except ImportError:
            print("matplotlib missing (pip install -e '.[bench]'): no plot", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        yield Path(tmp)


if __name__ == "__main__":
    sys.exit(main())
