"""Opens every window and dialog with every panel open and prints, as JSON, whether it fits the screen
and its primary action is in sight. Run by tests/ui/test_screen_fit.py in a child process per screen
(the offscreen platform's configfile sets the screen: one QApplication per screen size)."""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from tests.ui.helpers import make_window

ALICE = AccountConfig(aor="sip:alice@example.com")


def report(name: str, window: QWidget, primary: QAbstractButton) -> dict[str, Any]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    for _ in range(3):
        app.processEvents()
    free = window.screen().availableGeometry()
    frame = window.frameGeometry()
    # what of the primary button the window really shows (not scrolled away, not cut off)
    visible = primary.visibleRegion().boundingRect()
    top_left = primary.mapTo(window, visible.topLeft())
    in_window = window.rect().contains(top_left) and not visible.isEmpty()
    return {
        "name": name,
        "size": [window.width(), window.height()],
        "free": [free.width(), free.height()],
        # a title bar of 32 px on top of what the platform reports (the offscreen one reports almost none)
        "fits": free.contains(frame) and frame.height() + 32 <= free.height(),
        "primary_visible": primary.isVisible() and in_window and visible.height() >= primary.height() // 2,
    }


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    results = []
    main_window, controller, recorder = make_window([ALICE, AccountConfig(aor="sip:100@pbx.example.org")])
    main_window.show()
    controller.engine.emit(EngineEvent("registered", ALICE.id, {"expires": 600}))
    results.append(report("main window", main_window, main_window.dialer.call_button))

    from softphone.ui.account_dialog import AccountDialog

    dialog = AccountDialog(main_window)
    dialog.show()
    dialog.form.advanced.setChecked(True)
    results.append(report("add account, advanced open", dialog, dialog.buttons.buttons()[0]))
    dialog.form.advanced.setChecked(False)
    results.append(report("add account, advanced closed again", dialog, dialog.buttons.buttons()[0]))
    dialog.close()

    from PySide6.QtWidgets import QWizard

    from softphone.ui.wizard import PAGE_ACCOUNT, FirstRunWizard

    wizard = FirstRunWizard(controller, main_window)
    wizard.show()
    wizard.next()
    assert wizard.currentId() == PAGE_ACCOUNT
    wizard.account.form.advanced.setChecked(True)
    results.append(report("wizard, advanced open", wizard, wizard.button(QWizard.WizardButton.NextButton)))
    wizard.close()

    main_window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    call.connect("opus", srtp=True)
    call_window = main_window.call_windows[call.id]
    call_window.auto_close_ms = -1
    for button in (call_window.audio_button, call_window.quality_button, call_window.keypad_button):
        button.setChecked(True)
    results.append(
        report("call window, audio, quality and keypad open", call_window, call_window.hangup_button)
    )

    from softphone.ui.settings_dialog import SettingsDialog

    settings = SettingsDialog(controller, main_window)
    settings.show()
    ok = next(
        b for b in settings.findChildren(QAbstractButton) if b.text().replace("&", "") in ("OK", "Close")
    )
    tabs = settings.tabs if hasattr(settings, "tabs") else None
    for index in range(tabs.count() if tabs is not None else 1):
        if tabs is not None:
            tabs.setCurrentIndex(index)
        label = tabs.tabText(index) if tabs is not None else ""
        results.append(report(f"settings, {label.replace('&', '')}", settings, ok))
    settings.close()

    from softphone.ui.about_dialog import AboutDialog

    about = AboutDialog(main_window)
    about.show()
    results.append(report("about", about, about.copy_button))
    print(json.dumps(results))
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
