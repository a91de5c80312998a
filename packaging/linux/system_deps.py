"""The Debian packages a bundle needs from the system: every shared library that an ELF file in the
bundle links (DT_NEEDED) and that the bundle does not carry, found with ldconfig and mapped to its
package with dpkg.

    python packaging/linux/system_deps.py BUNDLE_DIR   -> one package name a line
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False).stdout
    return [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]


def system_libraries() -> dict[str, str]:
    """soname -> path, for this machine's architecture (ldconfig's cache)."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, rest = line.strip().partition(" (")
        if "x86-64" in rest or "x86_64" in rest or "64bit" in rest or os.uname().machine not in ("x86_64",):
            found.setdefault(name, rest.rsplit("=> ", 1)[-1])
    return found


def main(argv: list[str]) -> int:
    bundle = Path(argv[1])
    carried = {p.name for p in bundle.rglob("*") if p.is_file() or p.is_symlink()}
    wanted: set[str] = set()
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as f:
            if f.read(4) != ELF_MAGIC:
                continue
        wanted.update(n for n in needed(path) if n not in carried)
    # PortAudio is loaded by name (ctypes), not linked
    wanted.add("libportaudio.so.2")
    libraries = system_libraries()
    packages: set[str] = set()
    missing = []
    for soname in sorted(wanted):
        path = libraries.get(soname)
        if path is None:
            missing.append(soname)
            continue
        owner = subprocess.run(
            ["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, check=False
        )
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
        if owner.returncode == 0:
            packages.add(owner.stdout.split(":", 1)[0].split(",")[0].strip())
        else:
            missing.append(soname)
    if missing:
        print("no package found for: " + ", ".join(missing), file=sys.stderr)
    print("\n".join(sorted(packages)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
