"""Translation of user-facing strings and the QTranslator for the user's locale.

Every string the user sees goes through :func:`tr`. ``pylupdate5`` files bare ``tr("...")``
calls under the ``@default`` context, so :func:`tr` looks them up there; the French source is
``i18n/soilmoisture_fr.ts``, compiled to ``.qm`` by ``make translations``.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "@default"
I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"


def tr(text: str) -> str:
    """Translate ``text`` into the user's language (unchanged when no translation exists)."""
    return QCoreApplication.translate(CONTEXT, text)


def user_locale() -> str:
    """Two-letter language of the QGIS user interface (``locale/userLocale``), e.g. ``"fr"``."""
    value = QgsSettings().value("locale/userLocale", "") or QLocale().name()
    return str(value)[:2] or "en"


def install_translator(
    locale: str | None = None, directory: Path | None = None
) -> QTranslator | None:
    """Install the translator for ``locale`` (the user's by default) if a ``.qm`` exists.

    Args:
        locale: Two-letter language; the QGIS user interface's by default.
        directory: Folder of the ``.qm`` files; the plugin's ``i18n/`` by default.

    Returns:
        The installed translator (remove it with :func:`remove_translator`), or ``None`` when
        there is no translation for that language (English, the source language, needs none).

    """
    locale = locale or user_locale()
    qm = (directory or I18N_DIR) / f"soilmoisture_{locale}.qm"
    if not qm.exists():
        return None
    translator = QTranslator()
    if not translator.load(str(qm)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    """Undo :func:`install_translator`."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
