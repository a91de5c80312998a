"""Help -> About: version, licence, website, where the settings and history live, the third-party
notices, and a button that copies a diagnostics summary for a bug report."""

from __future__ import annotations

import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import HOMEPAGE, __version__
from ..core.history import data_dir
from ..core.notices import third_party_notices
from ..core.settings import config_dir
from .theme import app_icon


def diagnostics_summary() -> str:
    """What a bug report needs to say about this installation (no account names, no addresses)."""
    frozen = "installed bundle" if getattr(sys, "frozen", False) else "source checkout"
    app = QApplication.instance()
    platform_name = app.platformName() if isinstance(app, QApplication) else "?"
    return "\n".join(
        (
            f"Softphone {__version__} ({frozen})",
            f"Python {platform.python_version()}, Qt {qVersion()}, PySide6 {pyside_version}",
            f"System: {platform.platform()}, Qt platform {platform_name}",
            f"Settings: {config_dir()}",
            f"History: {data_dir()}",
            "Log: standard error (start with -v for details, --sip-trace for every SIP message)",
        )
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Softphone"))
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        self.summary = QLabel(
            self.tr(
                "<b>Softphone {version}</b><br>SIP and WebRTC calls from your desktop.<br>"
                "Licence: MIT<br><a href='{url}'>{url}</a>"
            ).format(version=__version__, url=HOMEPAGE)
        )
        self.summary.setOpenExternalLinks(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        head.addWidget(self.summary, 1)
        layout.addLayout(head)
        self.places = QLabel(
            self.tr(
                "Settings: {settings}<br>History: {history}<br>Log: standard error (-v, --sip-trace)"
            ).format(settings=config_dir(), history=data_dir())
        )
        self.places.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.places.setWordWrap(True)
        layout.addWidget(self.places)
        layout.addWidget(QLabel(self.tr("Third-party software:")))
        self.notices = QPlainTextEdit()
        self.notices.setReadOnly(True)
        self.notices.setPlainText(third_party_notices())
        self.notices.setMinimumHeight(160)
        layout.addWidget(self.notices, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton(self.tr("Copy diagnostics"))
        self.copy_button.setToolTip(self.tr("Copies the version, system and folders, for a bug report"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 480)  # fits 1280x720 at 125 % (1024x576 logical) with room to spare

    def copy_diagnostics(self) -> None:
        QApplication.clipboard().setText(diagnostics_summary())
        self.copy_button.setText(self.tr("Copied"))
