"""Writes THIRD-PARTY-NOTICES.txt: the licence of every Python distribution the bundle carries, from
the installed packages' own metadata, and the notices of what those wheels carry inside (Qt, FFmpeg,
OpenSSL, libsrtp, libopus, PortAudio, WebRTC's audio processing).

    python packaging/collect_licenses.py build/licenses
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softphone.core.notices import NOTICES_FILE, collect_notices  # noqa: E402


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "licenses")
    out.mkdir(parents=True, exist_ok=True)
    (out / NOTICES_FILE).write_text(collect_notices(), encoding="utf-8")
    (out / "LICENSE").write_text((ROOT / "LICENSE").read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {out / NOTICES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
