"""The platform parts of the installers that can be checked anywhere (issue 10): the per-user URL handler
keys of Windows (the app's and the NSIS installer's agree), xdg-mime on Linux, macOS's Info.plist and
entitlements, and the NSIS script compiling with Debian's makensis."""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from softphone.ui import autostart
from softphone.ui.url_handler import PROG_ID, SCHEMES, make_default, windows_url_keys

ROOT = Path(__file__).resolve().parents[2]
NSIS = ROOT / "packaging" / "windows" / "softphone.nsi"


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def set_value(self, key: str, name: str, data: str) -> None:
        self.values[(key, name)] = data


def test_windows_registration_writes_per_user_url_protocols_and_default_apps_capabilities() -> None:
    registry = FakeRegistry()
    exe = r"C:\Users\ann\AppData\Local\Programs\Softphone\softphone.exe"
    make_default("win32", registry=registry, executable=exe)
    for scheme in SCHEMES:
        assert registry.values[(rf"Software\Classes\{scheme}", "URL Protocol")] == ""
        assert registry.values[(rf"Software\Classes\{scheme}\shell\open\command", "")] == f'"{exe}" "%1"'
        assert registry.values[(r"Software\Softphone\Capabilities\URLAssociations", scheme)] == PROG_ID
    assert (
        registry.values[(r"Software\RegisteredApplications", "Softphone")]
        == r"Software\Softphone\Capabilities"
    )
    assert all(not key.startswith(("HKLM", "SOFTWARE\\WOW")) for key, _ in registry.values)  # no admin rights


def _nsis_values() -> set[tuple[str, str, str]]:
    """The (key, name, data) the installer writes, macros expanded for each scheme, $INSTDIR as a path."""
    text = NSIS.read_text()
    macro = re.search(r"!macro URL_SCHEME SCHEME\n(.*?)!macroend", text, re.S)
    assert macro is not None
    body = macro.group(1)
    section = text.split('Section "Softphone"', 1)[1].split("SectionEnd", 1)[0]
    lines = [
        line.replace("${SCHEME}", s) for s in SCHEMES for line in body.splitlines()
    ] + section.splitlines()
    url_keys = (
        "Software\\Classes\\",
        "Software\\Softphone\\Capabilities",
        "Software\\RegisteredApplications",
    )
    values = set()
    for line in lines:
        found = re.match(r"""\s*WriteRegStr HKCU "([^"]*)" "([^"]*)" (?:"([^"]*)"|'([^']*)')""", line)
        if found and found.group(1).startswith(url_keys):
            data = found.group(3) if found.group(3) is not None else found.group(4)
            values.add((found.group(1), found.group(2), data.replace("$INSTDIR", r"C:\App")))
    return values


def test_the_installer_writes_the_same_url_keys_as_the_apps_setting() -> None:
    expected = set(windows_url_keys(r"C:\App\softphone.exe"))
    assert expected == _nsis_values()


def test_the_installer_is_per_user_with_an_uninstaller_that_keeps_user_data() -> None:
    text = NSIS.read_text()
    assert "RequestExecutionLevel user" in text and "HKLM" not in text
    assert "$LOCALAPPDATA\\Programs\\Softphone" in text and "WriteUninstaller" in text
    assert "$SMPROGRAMS\\Softphone.lnk" in text
    uninstall = text.split('Section "Uninstall"', 1)[1]
    assert "APPDATA\\softphone" not in uninstall.replace("%APPDATA%\\softphone", "")  # only in the comment


@pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis not installed (apt-get install nsis)")
def test_the_nsis_script_compiles(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "softphone.exe").write_bytes(b"MZ stand-in for the PyInstaller executable")
    (bundle / "_internal" / "base_library.zip").write_bytes(b"PK")
    icons = tmp_path / "icons"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "packaging" / "render_icons.py"), str(icons)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "setup.exe"
    compiled = subprocess.run(
        ["makensis", "-V2", "-DVERSION=0.1.0", f"-DBUNDLE={bundle}", f"-DOUTFILE={out}",
         f"-DICON={icons / 'softphone.ico'}", str(NSIS)],
        capture_output=True, text=True, cwd=NSIS.parent, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]
    assert out.read_bytes()[:2] == b"MZ"


def test_linux_registration_uses_xdg_mime_for_each_scheme() -> None:
    calls: list[list[str]] = []

    def run(args: Sequence[str]) -> int:
        calls.append(list(args))
        return 0

    make_default("linux", run=run)
    assert calls == [["xdg-mime", "default", "softphone.desktop", f"x-scheme-handler/{s}"] for s in SCHEMES]


def test_linux_registration_says_when_xdg_mime_fails() -> None:
    with pytest.raises(OSError, match="x-scheme-handler/sip"):
        make_default("linux", run=lambda args: 4)


def test_the_desktop_entry_declares_every_scheme() -> None:
    entry = (ROOT / "packaging" / "linux" / "softphone.desktop").read_text()
    mime = next(line for line in entry.splitlines() if line.startswith("MimeType="))
    assert mime == "MimeType=" + "".join(f"x-scheme-handler/{s};" for s in SCHEMES)
    assert "Exec=softphone %u" in entry


def test_the_macos_app_declares_schemes_and_asks_for_microphone_and_camera() -> None:
    info = plistlib.loads((ROOT / "packaging" / "macos" / "Info.plist").read_bytes())
    schemes = {s for entry in info["CFBundleURLTypes"] for s in entry["CFBundleURLSchemes"]}
    assert schemes == set(SCHEMES)
    assert info["NSMicrophoneUsageDescription"] and info["NSCameraUsageDescription"]
    entitlements = plistlib.loads((ROOT / "packaging" / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.audio-input"] is True
    assert entitlements["com.apple.security.device.camera"] is True


def test_macos_signing_and_notarisation_are_skipped_with_a_message_without_credentials() -> None:
    script = (ROOT / "packaging" / "macos" / "build-dmg").read_text()
    assert "MACOS_SIGN_IDENTITY is not set" in script and "notarisation credentials are not set" in script


def test_the_login_item_of_an_installed_app_starts_the_app_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.frozen", True, raising=False)
    monkeypatch.setattr("sys.executable", "/usr/lib/softphone/softphone")
    assert autostart.command() == ["/usr/lib/softphone/softphone", "--hidden"]


def test_the_hosted_workflow_builds_and_self_tests_each_installer() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "installers.yml").read_text())
    assert set(workflow["jobs"]) == {"linux", "windows", "macos"}
    for name, job in workflow["jobs"].items():
        steps = "\n".join(str(step.get("run", "")) for step in job["steps"])
        assert "--self-test" in steps, name
        assert any("upload-artifact" in str(step.get("uses", "")) for step in job["steps"]), name
