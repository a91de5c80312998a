"""The AppImage's contents (issue 10): packaging/linux/build-appimage builds the self-contained bundle
into an AppDir. appimagetool and its type-2 runtime come only from the AppImage project (no Debian or
registry package carries them), so the hosted workflow packs the AppImage; here the AppDir is checked the
way the AppImage runs it: through its AppRun."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import softphone
from tests.packaging.test_deb import run
from tests.peers.desktop import fresh_user, wait_for_window, x_session

ROOT = Path(__file__).resolve().parents[2]
APPDIR = ROOT / "build" / "Softphone.AppDir"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        shutil.which("readelf") is None, reason="binutils missing (scripts/install-debian-deps)"
    ),
]


@pytest.fixture(scope="module")
def appdir() -> Iterator[Path]:
    built = run(
        ROOT / "packaging" / "linux" / "build-appimage",
        env={**os.environ, "PY": str(ROOT / ".venv" / "bin" / "python")},
        timeout=1200,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(built.stdout.strip().splitlines()[-2:])
    yield APPDIR


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    return fresh_user(tmp_path)


def test_the_appdir_has_what_an_appimage_needs(appdir: Path) -> None:
    assert os.access(appdir / "AppRun", os.X_OK)
    entry = (appdir / "softphone.desktop").read_text()
    assert "Icon=softphone" in entry and "x-scheme-handler/sip;" in entry
    assert (appdir / "softphone.png").is_file() and (appdir / ".DirIcon").exists()
    assert (appdir / "usr/share/metainfo/io.github.softphone.Softphone.appdata.xml").is_file()
    internal = appdir / "usr/lib/softphone/_internal"
    # self-contained: PortAudio and the libraries not every distribution has are inside
    assert (internal / "libportaudio.so.2").is_file()
    assert (internal / "libssl.so.3").is_file() or any(internal.glob("libssl*.so*"))
    # and what every desktop has (and must not be replaced) is not
    assert not any(internal.glob("libc.so*")) and not any(internal.glob("libGL*.so*"))


def test_the_appimage_runs_its_self_test_through_apprun(appdir: Path, clean_env: dict[str, str]) -> None:
    version = run(appdir / "AppRun", "--version", env=clean_env)
    assert version.stdout.strip() == f"softphone {softphone.__version__}"
    test = run(
        appdir / "AppRun", "--self-test", env={**clean_env, "QT_QPA_PLATFORM": "offscreen"}, timeout=120
    )
    print(test.stdout)
    assert test.returncode == 0, test.stdout + test.stderr[-2000:]
    assert "(installed bundle)" in test.stdout and "audio: PortAudio" in test.stdout


def test_the_appimage_window_starts_under_a_desktop(
    appdir: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    with x_session(clean_env) as session:
        app = subprocess.Popen(
            [str(appdir / "AppRun"), "--new-instance", "--listen", "127.0.0.1:0"], env=session,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_for_window(session, "Softphone")
            time.sleep(0.5)
            shot = tmp_path / "appimage.png"
            assert run("import", "-window", "root", shot, env=session).returncode == 0
            assert shot.stat().st_size > 10_000
        finally:
            app.terminate()
            output, _ = app.communicate(timeout=30)
    assert app.returncode == 0, output[-2000:]
    assert "SIGTERM received" in output
