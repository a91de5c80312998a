"""The 12-key pad: digits with their letters, for dialling and for DTMF during a call."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QWidget

KEYS = (
    ("1", ""),
    ("2", "ABC"),
    ("3", "DEF"),
    ("4", "GHI"),
    ("5", "JKL"),
    ("6", "MNO"),
    ("7", "PQRS"),
    ("8", "TUV"),
    ("9", "WXYZ"),
    ("*", ""),
    ("0", "+"),
    ("#", ""),
)


class DialPad(QWidget):
    """Emits ``pressed`` with the key ("0"-"9", "*", "#"); a long press on 0 gives "+"."""

    pressed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Dial pad"))
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.buttons: dict[str, QToolButton] = {}
        names = {"*": self.tr("Star"), "#": self.tr("Hash")}
        for index, (key, letters) in enumerate(KEYS):
            button = QToolButton(self)
            button.setText(f"{key}\n{letters}" if letters else f"{key}\n ")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.setMinimumSize(QSize(52, 40 if compact else 46))
            button.setMaximumHeight(48 if compact else 64)
            button.setAccessibleName(names.get(key, key))
            button.setToolTip(self.tr("Key {key}").format(key=key))
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            font = button.font()
            font.setPointSizeF(font.pointSizeF() * 1.1)
            button.setFont(font)
            if key == "0":
                button.setAutoRepeat(False)
                button.pressed.connect(self._zero_down)
                button.released.connect(self._zero_up)
            else:
                button.clicked.connect(lambda _=False, k=key: self.pressed.emit(k))
            layout.addWidget(button, index // 3, index % 3)
            self.buttons[key] = button
        self._zero_timer_id = 0
        self._zero_long = False

    def _zero_down(self) -> None:
        self._zero_long = False
        self._zero_timer_id = self.startTimer(600)

    def _zero_up(self) -> None:
        if self._zero_timer_id:
            self.killTimer(self._zero_timer_id)
            self._zero_timer_id = 0
        if not self._zero_long:
            self.pressed.emit("0")

    def timerEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.timerId() == self._zero_timer_id:
            self.killTimer(self._zero_timer_id)
            self._zero_timer_id = 0
            self._zero_long = True
            self.pressed.emit("+")

    @staticmethod
    def key_for(text: str) -> str | None:
        """The pad key for typed text, if it is one."""
        return text if len(text) == 1 and text in "0123456789*#" else None
