"""Writes THIRD-PARTY-NOTICES.txt: the licence of every Python distribution the bundle carries, from
the installed packages' own metadata, and the notices of what those wheels carry inside (Qt, FFmpeg,
OpenSSL, libsrtp, libopus, PortAudio, WebRTC's audio processing).

    python packaging/collect_licenses.py build/licenses
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# what the bundle imports (PyInstaller's analysis follows the same imports)
DISTRIBUTIONS = (
    "PySide6-Essentials", "shiboken6", "qasync", "aiortc", "aioice", "av", "numpy", "sounddevice", "cffi",
    "pycparser", "pylibsrtp", "pyOpenSSL", "cryptography", "pyee", "google-crc32c", "ifaddr", "dnspython",
    "keyring", "jaraco.classes", "jaraco.functools", "jaraco.context", "more-itertools", "jeepney",
    "SecretStorage", "platformdirs", "websockets", "pywebrtc-audio", "typing_extensions",
)

# libraries inside the wheels above, whose own notices the wheels do not always carry as files
EMBEDDED = """\
Libraries carried inside the wheels above
=========================================
- Qt 6 (PySide6-Essentials): GNU Lesser General Public License v3; Qt is kept as shared libraries
  (PySide6/Qt/lib), which you may replace with your own build. Source: https://download.qt.io/
- FFmpeg (PyAV's av.libs): GNU LGPL v2.1 or later, with GPL parts (x264, x265) as built by PyAV's wheels.
  Source: https://ffmpeg.org/ and https://github.com/PyAV-Org/pyav-ffmpeg
- libopus (PyAV): BSD 3-clause. libvpx (PyAV): BSD 3-clause.
- OpenSSL (cryptography, pylibsrtp): Apache License 2.0.
- libsrtp (pylibsrtp): BSD 3-clause.
- PortAudio (the system's libportaudio2 on Linux, bundled by sounddevice on Windows and macOS): MIT.
- WebRTC audio processing (pywebrtc-audio): BSD 3-clause.
- OpenBLAS (numpy.libs): BSD 3-clause.
"""


def _license_texts(dist: metadata.Distribution) -> list[str]:
    texts = []
    for file in dist.files or ():
        name = file.name.upper()
        if name.startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE")) or "/licenses/" in str(file).lower():
            try:
                raw = Path(str(dist.locate_file(file))).read_bytes()
                texts.append(f"--- {file.name} ---\n" + raw.decode("utf-8", errors="replace").strip())
            except OSError:
                continue
    return texts


def notices() -> str:
    parts = [
        "Third-party software in this softphone",
        "======================================",
        "",
        "The softphone itself: MIT licence (see LICENSE).",
        "",
    ]
    for name in DISTRIBUTIONS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        meta = dist.metadata
        licence = meta.get("License-Expression") or meta.get("License") or ""
        if len(licence) > 80 or not licence:  # some put the whole text there
            classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if "License" in c]
            licence = ", ".join(classifiers) or (licence.splitlines() or [""])[0]
        parts.append(f"{meta['Name']} {dist.version}: {licence or 'see the text below'}")
        parts.append(f"  {meta.get('Home-page') or meta.get('Project-URL', '') or ''}".rstrip())
        parts.extend("  " + line for text in _license_texts(dist) for line in text.splitlines())
        parts.append("")
    parts.append(EMBEDDED)
    text = "\n".join(parts) + "\n"
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " ")  # no form feeds from old COPYING files


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "licenses")
    out.mkdir(parents=True, exist_ok=True)
    (out / "THIRD-PARTY-NOTICES.txt").write_text(notices(), encoding="utf-8")
    (out / "LICENSE").write_text((ROOT / "LICENSE").read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {out / 'THIRD-PARTY-NOTICES.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
