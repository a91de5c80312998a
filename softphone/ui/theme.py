"""Look and feel: the system's light or dark scheme, SVG icons tinted to match, accent colours."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICONS = RESOURCES / "icons"

GREEN = "#2e9d48"
GREEN_HOVER = "#268a3e"
RED = "#d93a3a"
RED_HOVER = "#bf2f2f"
AMBER = "#d98e04"
BLUE = "#1e88e5"

ICON_SIZES = (16, 20, 24, 32, 48, 64)

STATE_COLORS = {
    "registered": GREEN,
    "registering": AMBER,
    "unregistering": AMBER,
    "failed": RED,
    "rejected": RED,
}


def is_dark(widget: QWidget | None = None) -> bool:
    palette = widget.palette() if widget is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def text_color(widget: QWidget | None = None) -> QColor:
    palette = widget.palette() if widget is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.WindowText)


@lru_cache(maxsize=512)
def _svg_bytes(name: str) -> bytes:
    path = ICONS / f"{name}.svg"
    try:
        return path.read_bytes()
    except OSError:
        return b""


def svg_pixmap(name: str, size: int, color: str | None = None, ratio: float = 1.0) -> QPixmap:
    """The icon rendered at ``size`` logical pixels; ``currentColor`` becomes ``color``."""
    data = _svg_bytes(name)
    if color is not None:
        data = data.replace(b"currentColor", color.encode())
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.fill(Qt.GlobalColor.transparent)
    if data:
        renderer = QSvgRenderer(QByteArray(data))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, pixmap.width(), pixmap.height()))
        painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def icon(name: str, color: str | QColor | None = None) -> QIcon:
    """A themed icon from resources/icons: drawn in the palette's text colour unless told otherwise."""
    if isinstance(color, QColor):
        color = color.name()
    if color is None:
        color = text_color().name()
    disabled = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    app = QGuiApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(svg_pixmap(name, size, color, ratio), QIcon.Mode.Normal)
        result.addPixmap(svg_pixmap(name, size, disabled.name(), ratio), QIcon.Mode.Disabled)
    return result


def state_dot(color: str, size: int = 12) -> QIcon:
    """A filled circle: an account's registration state at a glance."""
    result = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        painter.drawEllipse(1, 1, size - 2, size - 2)
        painter.end()
        result.addPixmap(pixmap)
    return result


def app_icon() -> QIcon:
    result = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        result.addPixmap(svg_pixmap("softphone", size))
    return result


def badge_icon(count: int, dnd: bool = False) -> QIcon:
    """The application icon with the number of missed calls (tray), or a do-not-disturb mark."""
    result = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        pixmap = svg_pixmap("softphone", size)
        if count or dnd:
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            radius = size * 0.28
            center_x, center_y = size - radius, radius
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(RED))
            painter.drawEllipse(QRectF(center_x - radius, center_y - radius, 2 * radius, 2 * radius))
            painter.setPen(QColor("white"))
            if dnd and not count:
                painter.fillRect(
                    QRectF(center_x - radius * 0.6, center_y - radius * 0.15, radius * 1.2, radius * 0.3),
                    QColor("white"),
                )
            else:
                font = painter.font()
                font.setPixelSize(max(6, int(radius * 1.3)))
                font.setBold(True)
                painter.setFont(font)
                text = str(count) if count < 10 else "9+"
                painter.drawText(
                    QRectF(center_x - radius, center_y - radius, 2 * radius, 2 * radius),
                    Qt.AlignmentFlag.AlignCenter,
                    text,
                )
            painter.end()
        result.addPixmap(pixmap)
    return result


def button_style(background: str, hover: str) -> str:
    return (
        f"QPushButton, QToolButton {{ background-color: {background}; color: white; border: none;"
        f" border-radius: 6px; padding: 6px 14px; font-weight: 600; }}"
        f"QPushButton:hover, QToolButton:hover {{ background-color: {hover}; }}"
        "QPushButton:disabled, QToolButton:disabled"
        " { background-color: palette(mid); color: palette(window); }"
        "QPushButton:focus, QToolButton:focus { outline: none; border: 2px solid palette(highlight); }"
    )


def call_button_style() -> str:
    return button_style(GREEN, GREEN_HOVER)


def hangup_button_style() -> str:
    return button_style(RED, RED_HOVER)


def apply_scheme(app: QApplication, scheme: str = "system") -> None:
    """Fusion, in the system's scheme or a forced light/dark one (``system``, ``light``, ``dark``)."""
    app.setStyle("Fusion")
    hints = app.styleHints()
    wanted = {
        "light": Qt.ColorScheme.Light,
        "dark": Qt.ColorScheme.Dark,
    }.get(scheme, Qt.ColorScheme.Unknown)
    try:
        if wanted == Qt.ColorScheme.Unknown:
            hints.unsetColorScheme()
        else:
            hints.setColorScheme(wanted)
    except AttributeError:  # Qt < 6.8: only the system's scheme
        pass
    if wanted == Qt.ColorScheme.Dark and app.palette().color(QPalette.ColorRole.Window).lightness() >= 128:
        app.setPalette(dark_palette())
    elif wanted == Qt.ColorScheme.Light and app.palette().color(QPalette.ColorRole.Window).lightness() < 128:
        app.setPalette(app.style().standardPalette())


def dark_palette() -> QPalette:
    """A dark palette for platforms whose theme plugin does not offer one (offscreen, Xvfb)."""
    palette = QPalette()
    window = QColor(40, 42, 46)
    base = QColor(30, 31, 34)
    text = QColor(230, 230, 232)
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(48, 50, 54))
    palette.setColor(QPalette.ColorRole.ToolTipBase, window)
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 140, 145))
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, QColor(52, 54, 58))
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.BrightText, QColor(255, 80, 80))
    palette.setColor(QPalette.ColorRole.Light, QColor(70, 72, 76))
    palette.setColor(QPalette.ColorRole.Midlight, QColor(60, 62, 66))
    palette.setColor(QPalette.ColorRole.Mid, QColor(80, 82, 86))
    palette.setColor(QPalette.ColorRole.Dark, QColor(20, 20, 22))
    palette.setColor(QPalette.ColorRole.Shadow, QColor(0, 0, 0))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(BLUE))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    palette.setColor(QPalette.ColorRole.Link, QColor(100, 170, 255))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 125))
    return palette


def muted_color(widget: QWidget | None = None) -> str:
    """Secondary text: between the text and the background colour."""
    palette = widget.palette() if widget is not None else QGuiApplication.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    back = palette.color(QPalette.ColorRole.Window)
    mixed = QColor(
        (text.red() * 3 + back.red() * 2) // 5,
        (text.green() * 3 + back.green() * 2) // 5,
        (text.blue() * 3 + back.blue() * 2) // 5,
    )
    return mixed.name()
