"""The licence notices of what the app carries: the Python distributions it imports and the libraries
inside their wheels (Qt, FFmpeg, OpenSSL, libsrtp, libopus, ...). Shown in Help -> About; written into
the installers by packaging/collect_licenses.py (a bundle has no package metadata to read them from).
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

NOTICES_FILE = "THIRD-PARTY-NOTICES.txt"

# what the bundle imports (PyInstaller's analysis follows the same imports)
DISTRIBUTIONS = (
    "PySide6-Essentials",
    "shiboken6",
    "qasync",
    "aiortc",
    "aioice",
    "av",
    "numpy",
    "sounddevice",
    "cffi",
    "pycparser",
    "pylibsrtp",
    "pyOpenSSL",
    "cryptography",
    "pyee",
    "google-crc32c",
    "ifaddr",
    "dnspython",
    "keyring",
    "jaraco.classes",
    "jaraco.functools",
    "jaraco.context",
    "more-itertools",
    "jeepney",
    "SecretStorage",
    "platformdirs",
    "websockets",
    "pywebrtc-audio",
    "typing_extensions",
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


def _field(meta: metadata.PackageMetadata, name: str) -> str:
    values = meta.get_all(name) or []
    return str(values[0]) if values else ""


def collect_notices() -> str:
    """The notices, from the installed distributions' metadata."""
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
        licence = _field(meta, "License-Expression") or _field(meta, "License")
        if len(licence) > 80 or not licence:  # some put the whole text there
            classifiers = [
                c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if "License" in c
            ]
            licence = ", ".join(classifiers) or (licence.splitlines() or [""])[0]
        parts.append(f"{meta['Name']} {dist.version}: {licence or 'see the text below'}")
        parts.append(f"  {_field(meta, 'Home-page') or _field(meta, 'Project-URL')}".rstrip())
        parts.extend("  " + line for text in _license_texts(dist) for line in text.splitlines())
        parts.append("")
    parts.append(EMBEDDED)
    text = "\n".join(parts) + "\n"
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " ")  # no form feeds from old COPYING files


def third_party_notices() -> str:
    """What a bundle carries in its licences folder, else collected from the installed packages."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        path = Path(bundle) / "licenses" / NOTICES_FILE
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            pass
    return collect_notices()
