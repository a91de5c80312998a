"""The dialer: which account to call from, what to call, suggestions from contacts and history."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.dialplan import looks_dialable
from .controller import PhoneController, display_address
from .theme import call_button_style, icon, muted_color

DIRECT = ""  # the account combo's value for "no account: peer to peer"
ROLE_URI = Qt.ItemDataRole.UserRole


class Dialer(QWidget):
    """Type or paste a number or SIP address; Enter or the Call button dials."""

    dial_requested = Signal(str, object)  # text, account id or None

    def __init__(self, controller: PhoneController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        from_row = QHBoxLayout()
        self.from_label = QLabel(self.tr("Call &from:"), self)
        self.account = QComboBox(self)
        self.account.setAccessibleName(self.tr("Call from account"))
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(12)
        self.account.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.from_label.setBuddy(self.account)
        from_row.addWidget(self.from_label)
        from_row.addWidget(self.account, 1)
        layout.addLayout(from_row)

        entry = QHBoxLayout()
        self.input = QLineEdit(self)
        self.input.setPlaceholderText(self.tr("Name, number or SIP address"))
        self.input.setAccessibleName(self.tr("Number or address to call"))
        self.input.setToolTip(self.tr("Type a name to search, or a number or SIP address to call (Ctrl+L)"))
        self.input.setClearButtonEnabled(True)
        self.input.setMinimumHeight(34)
        font = self.input.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.input.setFont(font)
        self.input.returnPressed.connect(self.dial)
        self.input.textChanged.connect(self._text_changed)
        self.input.installEventFilter(self)
        self.call_button = QPushButton(icon("phone", "white"), self.tr("Call"), self)
        self.call_button.setAccessibleName(self.tr("Call"))
        self.call_button.setToolTip(self.tr("Call (Enter)"))
        self.call_button.setStyleSheet(call_button_style())
        self.call_button.setMinimumHeight(34)
        self.call_button.setIconSize(QSize(18, 18))
        self.call_button.clicked.connect(self.dial)
        entry.addWidget(self.input, 1)
        entry.addWidget(self.call_button)
        layout.addLayout(entry)
        # why Call is greyed out, in words, right under it
        self.reason = QLabel(self)
        self.reason.setWordWrap(True)
        self.reason.setAccessibleName(self.tr("Why this cannot be called"))
        self.reason.setStyleSheet(f"color: {muted_color(self)};")
        self.reason.hide()
        layout.addWidget(self.reason)
        self._known_accounts: set[str] = set()

        self.suggestions = QListWidget(self)
        self.suggestions.setAccessibleName(self.tr("Matching contacts and calls"))
        self.suggestions.setMaximumHeight(150)
        self.suggestions.itemActivated.connect(self._suggestion_chosen)
        self.suggestions.hide()
        layout.addWidget(self.suggestions)

        self.account.currentIndexChanged.connect(lambda _i: self._text_changed(self.input.text()))
        self.refresh_accounts()
        self._text_changed("")
        controller.accounts_changed.connect(self.refresh_accounts)
        controller.account_state_changed.connect(lambda _id: self.refresh_accounts())

    # -- accounts --
    def refresh_accounts(self) -> None:
        current = self.account.currentData() if self.account.count() else None
        accounts = self.controller.account_list()
        added = {status.id for status in accounts} - self._known_accounts
        self._known_accounts = {status.id for status in accounts}
        self.account.blockSignals(True)
        self.account.clear()
        for status in accounts:
            suffix = "" if status.state == "registered" else "  " + self.tr("(not registered)")
            self.account.addItem(status.title + suffix, status.id)
        self.account.addItem(self.tr("Direct call (no account)"), DIRECT)
        # an account just added (the wizard, the account dialog) is what the user wants to call from
        wanted = current if current is not None and not added else self.controller.default_account()
        index = self.account.findData(wanted if wanted is not None else DIRECT)
        self.account.setCurrentIndex(max(0, index))
        self.account.blockSignals(False)
        self._update_call_button(self.input.text())

    def selected_account(self) -> str | None:
        value = self.account.currentData()
        return None if value in (None, DIRECT) else str(value)

    # -- typing --
    def _text_changed(self, text: str) -> None:
        self.update_suggestions(text)
        self._update_call_button(text)

    def _update_call_button(self, text: str) -> None:
        callable_ = self._dialable(text) or self.suggestions.count() > 0
        self.call_button.setEnabled(callable_)
        reason = "" if callable_ or not text.strip() else self.why_not_dialable(text.strip())
        self.reason.setText(reason)
        self.reason.setVisible(bool(reason))
        self.call_button.setToolTip(reason or self.tr("Call (Enter)"))

    def why_not_dialable(self, text: str) -> str:
        if self.selected_account() is None and looks_dialable(text, user_names=True):
            if self.controller.accounts:
                return self.tr(
                    "To call “{name}”, choose your account in “Call from”; a direct call needs a "
                    "full address such as {name}@192.0.2.10."
                ).format(name=text)
            return self.tr(
                "To call “{name}”, add your SIP account first (Phone → Add account); a direct "
                "call needs a full address such as {name}@192.0.2.10."
            ).format(name=text)
        return self.tr("“{text}” is not a number or a SIP address.").format(text=text)

    def _dialable(self, text: str) -> bool:
        return looks_dialable(text, user_names=self.selected_account() is not None)

    def update_suggestions(self, text: str) -> None:
        self.suggestions.clear()
        hits = self.controller.history.search(text, limit=8) if len(text.strip()) >= 2 else []
        for hit in hits:
            name = hit.name or display_address(hit.uri)
            second = display_address(hit.uri)
            label = f"{name}  —  {second}" if name != second else name
            item = QListWidgetItem(icon("contact" if hit.kind == "contact" else "history"), label)
            item.setData(ROLE_URI, hit.uri)
            item.setToolTip(hit.uri)
            self.suggestions.addItem(item)
        self.suggestions.setVisible(bool(hits))
        if hits:
            row = self.suggestions.sizeHintForRow(0)
            self.suggestions.setFixedHeight(min(150, row * len(hits) + 2 * self.suggestions.frameWidth() + 2))

    def _suggestion_chosen(self, item: QListWidgetItem) -> None:
        uri = str(item.data(ROLE_URI))
        self.input.setText(uri)
        self.suggestions.hide()
        self.dial()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down and self.suggestions.isVisible():
                self.suggestions.setFocus()
                self.suggestions.setCurrentRow(0)
                return True
            if event.key() == Qt.Key.Key_Escape and self.input.text():
                self.input.clear()
                return True
        return super().eventFilter(watched, event)

    def press(self, key: str) -> None:
        """A key of the dial pad."""
        self.input.insert(key)
        self.input.setFocus()

    def backspace(self) -> None:
        self.input.backspace()

    def dial(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        if not looks_dialable(text) and self.suggestions.count():
            # a name typed: call the best match (a bare user name only when nothing matches)
            text = str(self.suggestions.item(0).data(ROLE_URI))
        self.dial_requested.emit(text, self.selected_account())

    def set_text(self, text: str) -> None:
        self.input.setText(text)
