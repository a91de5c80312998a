"""Windows that fit the screen: a 1366x768 laptop at 100 %, or 1280x720 at 125 % (1024x576 logical pixels).

Long content (the Advanced section of an account, the call window's panels) scrolls inside a
``ContentScroll``; the primary action (OK, Hang up) stays outside it, always visible. ``fit_to_screen``
sizes a window to what its content asks for, never larger than the screen's free area, and brings it
back on screen; called again when a section closes, the window shrinks back.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

# room for the window manager's title bar and borders, before the window is shown and they are known
FRAME_ALLOWANCE = QSize(16, 48)


class ContentScroll(QScrollArea):
    """A frameless vertical scroll area that asks for its content's full size, so that a window grows
    to show everything when the screen has room, and scrolls when it has not."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sizeHint(self) -> QSize:
        content = self.widget()
        if content is None:
            return super().sizeHint()
        hint = content.sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), hint.height())

    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        width = content.minimumSizeHint().width() if content is not None else 0
        return QSize(width + self.verticalScrollBar().sizeHint().width(), 80)


def available_size(widget: QWidget) -> QSize:
    """The largest window size (without its frame) that fits the free area of the widget's screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    free = screen.availableGeometry().size()
    frame = FRAME_ALLOWANCE
    if widget.isVisible():  # the real frame, once the window manager has said (never below the allowance)
        frame = frame.expandedTo(widget.frameGeometry().size() - widget.geometry().size())
    return QSize(max(200, free.width() - frame.width()), max(200, free.height() - frame.height()))


def fit_to_screen(widget: QWidget, preferred: QSize | None = None) -> None:
    """Resize to ``preferred`` (default: what the layout asks for), within the screen; keep it on screen."""
    layout = widget.layout()
    if layout is not None:
        for scroll in widget.findChildren(ContentScroll):
            scroll.updateGeometry()  # its content changed size: its hint did too
        layout.invalidate()
        layout.activate()
    wanted = (preferred or widget.sizeHint()).expandedTo(widget.minimumSizeHint())
    size = wanted.boundedTo(available_size(widget))
    widget.resize(size)
    if widget.isVisible():
        screen = widget.screen() or QGuiApplication.primaryScreen()
        free = screen.availableGeometry()
        frame = widget.frameGeometry()
        x = min(max(frame.x(), free.x()), free.right() - frame.width() + 1)
        y = min(max(frame.y(), free.y()), free.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            widget.move(max(x, free.x()), max(y, free.y()))
