"""Translations: every visible text goes through ``tr()``; this loads the catalogue for the user's language.

Catalogues live in ``resources/translations/softphone_<lang>.qm`` (sources: the ``.ts`` files beside
them, refreshed by ``scripts/update-translations``).  The language is the system's (``QLocale``), or
``SOFTPHONE_LANG`` / ``--lang`` to override it (``en`` switches translations off).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parents[2] / "resources" / "translations"


def install_translations(app: QCoreApplication, language: str | None = None) -> list[QTranslator]:
    """Install our catalogue and Qt's own (standard buttons, dialogs); returns what was installed."""
    language = language or os.environ.get("SOFTPHONE_LANG") or None
    locale = QLocale(language) if language else QLocale.system()
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    if ours.load(locale, "softphone", "_", str(TRANSLATIONS)):
        app.installTranslator(ours)
        installed.append(ours)
        log.info("user interface language: %s", locale.name())
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed


def available_languages() -> list[str]:
    """The languages the app has a catalogue for ("de", ...), besides English, which needs none."""
    return sorted(path.stem.split("_", 1)[1] for path in TRANSLATIONS.glob("softphone_*.qm"))
