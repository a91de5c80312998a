"""All text goes through tr(): a catalogue for the user's language changes what the windows say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from softphone.core.engine import Engine
from softphone.core.history import History
from softphone.ui.call_window import CallWindow
from softphone.ui.controller import CallInfo, PhoneController
from softphone.ui.i18n import TRANSLATIONS, install_translations
from softphone.ui.preferences import Preferences


@pytest.fixture
def german(qapp: QApplication) -> Iterator[None]:
    installed = install_translations(qapp, "de")
    yield
    for translator in installed:
        qapp.removeTranslator(translator)


def test_a_german_catalogue_ships_compiled() -> None:
    assert (TRANSLATIONS / "softphone_de.ts").exists()
    assert (TRANSLATIONS / "softphone_de.qm").stat().st_size > 1000


def test_the_call_window_speaks_german_with_the_german_catalogue(qtbot, german) -> None:  # type: ignore[no-untyped-def]
    controller = PhoneController(Engine(), [], History(":memory:"), Preferences(), persist=False)
    controller.calls["c1"] = CallInfo(
        id="c1",
        call=None,
        direction="incoming",
        remote_uri="sip:bob@example.com",
        remote_name="Bob",
        account=None,
        state="incoming",
    )
    window = CallWindow(controller, "c1")
    qtbot.addWidget(window)
    assert window.answer_button.text() == "&Annehmen"
    assert window.state_label.text() == "Eingehender Anruf"


def test_without_a_catalogue_the_windows_speak_english(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = PhoneController(Engine(), [], History(":memory:"), Preferences(), persist=False)
    controller.calls["c1"] = CallInfo(
        id="c1",
        call=None,
        direction="incoming",
        remote_uri="sip:bob@example.com",
        remote_name="Bob",
        account=None,
        state="incoming",
    )
    window = CallWindow(controller, "c1")
    qtbot.addWidget(window)
    assert window.answer_button.text() == "&Answer"
