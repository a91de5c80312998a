"""The Debian package as a user gets it (issue 10): built by ``make package`` (packaging/linux/build-deb),
installed with apt, run from the installed command, handed a sip: link under a real X session, upgraded,
removed. The bundle is built once per run (about 2.5 minutes); every test here uses it.

Needs root (apt-get install), and the tools ``scripts/install-debian-deps test`` installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import softphone
from tests.peers.desktop import fresh_user, wait_for_window, x_session

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
INSTALLED = Path("/usr/lib/softphone")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: needs root"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("dpkg-deb", "readelf", "lintian", "appstreamcli", "xdg-mime")),
        reason="packaging tools missing (scripts/install-debian-deps package)",
    ),
]


def run(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def apt(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return run("apt-get", "-y", "-q", "--no-install-recommends", *args, env=env)


@pytest.fixture(scope="module")
def deb() -> Iterator[Path]:
    """The package, built from this checkout; removed from the system afterwards."""
    built = run(
        ROOT / "packaging" / "linux" / "build-deb",
        env={**os.environ, "PY": str(ROOT / ".venv" / "bin" / "python")},
        timeout=1200,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    path = Path(built.stdout.strip().splitlines()[-1])
    print(built.stdout.strip().splitlines()[-2])  # the sizes
    assert path.is_file()
    yield path
    apt("purge", "softphone")


@pytest.fixture(scope="module")
def installed(deb: Path) -> Path:
    done = apt("install", f"./{deb.relative_to(ROOT)}") if deb.is_relative_to(ROOT) else apt("install", deb)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return Path("/usr/bin/softphone")


@pytest.fixture
def user_home(tmp_path: Path) -> dict[str, str]:
    return fresh_user(tmp_path)


def test_the_package_passes_lintian_and_its_metadata_validates(deb: Path) -> None:
    lint = run("lintian", "--fail-on", "error", deb, timeout=600)
    assert lint.returncode == 0, lint.stdout[-4000:]
    assert "E:" not in lint.stdout
    listing = run("dpkg-deb", "--contents", deb).stdout
    for path in (
        "./usr/bin/softphone",
        "./usr/share/applications/softphone.desktop",
        "./usr/share/metainfo/io.github.softphone.Softphone.metainfo.xml",
        "./usr/share/icons/hicolor/48x48/apps/softphone.png",
        "./usr/share/icons/hicolor/scalable/apps/softphone.svg",
        "./usr/lib/softphone/_internal/licenses/THIRD-PARTY-NOTICES.txt",
    ):
        assert path in listing, path
    metainfo = ROOT / "packaging" / "linux" / "io.github.softphone.Softphone.metainfo.xml"
    assert run("appstreamcli", "validate", "--no-net", metainfo).returncode == 0
    assert run("desktop-file-validate", ROOT / "packaging" / "linux" / "softphone.desktop").returncode == 0
    fields = run("dpkg-deb", "--field", deb, "Depends", "Installed-Size").stdout
    assert "libportaudio2" in fields
    size_mib = int(fields.split("Installed-Size:")[1].split()[0]) / 1024
    print(f".deb {deb.stat().st_size / 2**20:.1f} MiB, installed {size_mib:.0f} MiB")
    assert deb.stat().st_size < 80 * 2**20  # the download goal


def test_the_installed_command_reports_its_version_and_passes_its_self_test(
    installed: Path, user_home: dict[str, str]
) -> None:
    version = run(installed, "--version", env=user_home)
    assert version.returncode == 0 and version.stdout.strip() == f"softphone {softphone.__version__}"
    assert (
        run("softphone-cli", "--version", env=user_home).stdout.strip()
        == f"softphone-cli {softphone.__version__}"
    )
    test = run(installed, "--self-test", env={**user_home, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    print(test.stdout)
    assert test.returncode == 0, test.stdout + test.stderr[-2000:]
    assert "(installed bundle)" in test.stdout and "all checks passed" in test.stdout
    for piece in (
        "codecs: PCMU, PCMA, G722, opus",
        "audio: PortAudio",
        "srtp:",
        "dtls:",
        "qt: platform offscreen",
    ):
        assert piece in test.stdout


def test_the_self_test_names_what_is_missing(installed: Path, user_home: dict[str, str]) -> None:
    """No display: the Qt check fails with the reason, the others still run, the exit status says so."""
    test = run(installed, "--self-test", env=user_home, timeout=120)
    assert test.returncode != 0
    assert "FAIL qt: the Qt platform plugin did not load (no DISPLAY" in test.stdout
    assert "ok   codecs" in test.stdout and "missing or broken: qt" in test.stdout


def test_sip_links_open_the_softphone(installed: Path, user_home: dict[str, str]) -> None:
    for scheme in ("sip", "sips", "tel", "callto"):
        query = run("xdg-mime", "query", "default", f"x-scheme-handler/{scheme}", env=user_home)
        assert query.stdout.strip() == "softphone.desktop", (scheme, query.stdout, query.stderr)


def test_the_installed_app_starts_and_takes_a_sip_link_from_a_second_launch(
    installed: Path, user_home: dict[str, str], tmp_path: Path
) -> None:
    with x_session(user_home) as session:
        app = subprocess.Popen(
            [str(installed), "-v", "--listen", "127.0.0.1:0"], env=session,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_for_window(session, "Softphone")
            time.sleep(1.0)
            shot = tmp_path / "installed-app.png"
            assert run("import", "-window", "root", shot, env=session).returncode == 0
            assert shot.stat().st_size > 10_000
            second = run(installed, "sip:bob@example.com", env=session, timeout=30)
            assert second.returncode == 0, second.stdout + second.stderr
            assert "handed over to the running phone" in second.stdout + second.stderr
            time.sleep(1.0)
        finally:
            app.terminate()
            output, _ = app.communicate(timeout=30)
    assert "main window shown" in output
    assert "sip:bob@example.com" in output, output[-3000:]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_upgrade_and_removal_keep_the_users_data(
    deb: Path, installed: Path, user_home: dict[str, str], tmp_path: Path
) -> None:
    """The installed app writes its settings and history in the user's folders, never in its own; a newer
    package over this one, then removal, leave them as they were."""
    before = _files(INSTALLED)
    started = run(
        installed,
        "--quit-after",
        "3",
        "--listen",
        "127.0.0.1:0",
        env={**user_home, "QT_QPA_PLATFORM": "offscreen"},
        timeout=60,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert _files(INSTALLED) == before, "the app wrote into its install folder"
    home = Path(user_home["HOME"])
    data = _files(home)
    assert any("softphone" in name for name in data), data.keys()  # history, preferences
    stage = tmp_path / "newer"
    assert run("dpkg-deb", "--raw-extract", deb, stage).returncode == 0
    control = (stage / "DEBIAN" / "control").read_text()
    version = softphone.__version__
    (stage / "DEBIAN" / "control").write_text(control.replace(f"Version: {version}", f"Version: {version}+1"))
    newer = tmp_path / "softphone-newer.deb"
    assert run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", stage, newer).returncode == 0
    try:
        assert apt("install", newer).returncode == 0
        assert run("dpkg-query", "-W", "-f=${Version}", "softphone").stdout == f"{version}+1"
        assert _files(home) == data
        assert apt("remove", "softphone").returncode == 0
        assert not INSTALLED.exists() and not Path("/usr/bin/softphone").exists()
        assert _files(home) == data
    finally:
        apt("install", "--allow-downgrades", deb)  # back to the package the other tests expect
