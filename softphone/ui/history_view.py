"""The call history (missed calls marked, call back on double click) and the contacts."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.history import CallRecord, Contact, ContactNumber, History
from .controller import display_address
from .theme import RED, icon, muted_color

ROLE_URI = Qt.ItemDataRole.UserRole
ROLE_ID = Qt.ItemDataRole.UserRole + 1
ROLE_RECORDING = Qt.ItemDataRole.UserRole + 2


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_when(timestamp: float, now: float | None = None) -> str:
    """``14:05`` today, ``Yesterday 14:05``, ``Mon 14:05`` this week, else the date."""
    now = now or time.time()
    then = time.localtime(timestamp)
    today = time.localtime(now)
    clock = time.strftime("%H:%M", then)
    days = (
        time.mktime(today[:3] + (0, 0, 0) + today[6:]) - time.mktime(then[:3] + (0, 0, 0) + then[6:])
    ) / 86400
    if days < 1:
        return clock
    if days < 2:
        return QGuiApplication.translate("HistoryView", "Yesterday {time}").format(time=clock)
    if days < 7:
        return time.strftime("%a ", then) + clock
    return time.strftime("%Y-%m-%d ", then) + clock


class HistoryView(QWidget):
    """Recent calls, newest first; double click (or Enter) calls back."""

    call_requested = Signal(str)
    add_contact_requested = Signal(str, str)  # uri, name

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.missed_only = QCheckBox(self.tr("&Missed only"), self)
        self.missed_only.setAccessibleName(self.tr("Show missed calls only"))
        self.missed_only.toggled.connect(self.refresh)
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setAccessibleName(self.tr("Clear the call history"))
        self.clear_button.clicked.connect(self._clear)
        top.addWidget(self.missed_only)
        top.addStretch(1)
        top.addWidget(self.clear_button)
        layout.addLayout(top)
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Call history"))
        self.list.setAlternatingRowColors(True)
        self.list.setUniformItemSizes(False)
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        layout.addWidget(self.list)
        self.empty = QLabel(self.tr("No calls yet."), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {muted_color(self)};")
        layout.addWidget(self.empty)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        records = self.history.calls(limit=300, missed_only=self.missed_only.isChecked())
        for record in records:
            self.list.addItem(self._item(record))
        self.empty.setVisible(not records)
        self.list.setVisible(bool(records))
        self.clear_button.setEnabled(bool(records))

    def _item(self, record: CallRecord) -> QListWidgetItem:
        name = record.remote_name or display_address(record.remote_uri)
        contact = self.history.find_contact(record.remote_uri)
        if contact is not None:
            name = contact.name
        when = format_when(record.started)
        if record.outcome == "answered":
            detail = format_duration(record.duration)
        else:
            detail = {
                "missed": self.tr("Missed"),
                "declined": self.tr("Declined"),
                "cancelled": self.tr("Cancelled"),
                "busy": self.tr("Busy"),
                "failed": self.tr("Failed"),
            }.get(record.outcome, record.outcome)
        direction = self.tr("Incoming") if record.direction == "incoming" else self.tr("Outgoing")
        if record.recording:
            detail += "  ·  " + self.tr("\u25cf recorded")
        item = QListWidgetItem(f"{name}\n{when}  ·  {detail}")
        item.setData(ROLE_RECORDING, record.recording)
        item.setData(ROLE_URI, record.remote_uri)
        item.setData(ROLE_ID, record.id)
        icon_name = "call-missed" if record.missed else f"call-{record.direction}"
        item.setIcon(icon(icon_name, RED if record.missed else None))
        item.setToolTip(f"{direction}: {record.remote_uri}" + (f"\n{record.reason}" if record.reason else ""))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{direction} {detail}: {name}, {when}")
        if record.missed:
            item.setForeground(QBrush(QColor(RED)))
            if not record.seen:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
        return item

    def _activated(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        uri = item.data(ROLE_URI)
        if uri:
            self.call_requested.emit(str(uri))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        uri = str(item.data(ROLE_URI))
        menu = QMenu(self)
        call = menu.addAction(icon("phone"), self.tr("Call back"))
        call.triggered.connect(lambda: self.call_requested.emit(uri))
        copy = menu.addAction(icon("copy"), self.tr("Copy address"))
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(uri))
        recording = item.data(ROLE_RECORDING)
        if recording:
            play = menu.addAction(icon("record"), self.tr("Play the recording"))
            play.triggered.connect(lambda: self.open_recording(str(recording)))
            folder = menu.addAction(self.tr("Show the recording in its folder"))
            folder.triggered.connect(lambda: self.open_recording(str(Path(str(recording)).parent)))
        if self.history.find_contact(uri) is None:
            add = menu.addAction(icon("add"), self.tr("Add to contacts…"))
            name = item.text().split("\n", 1)[0]
            add.triggered.connect(lambda: self.add_contact_requested.emit(uri, name))
        delete = menu.addAction(icon("delete"), self.tr("Delete"))
        delete.triggered.connect(lambda: self._delete(int(item.data(ROLE_ID))))
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def open_recording(self, path: str) -> bool:
        """Open a recording (or its folder) with the desktop's player; says so when the file is gone."""
        if not Path(path).exists():
            QMessageBox.information(
                self, self.tr("Recording"), self.tr("{path} is not there any more.").format(path=path)
            )
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _delete(self, record_id: int) -> None:
        self.history.delete_call(record_id)
        self.refresh()

    def _clear(self) -> None:
        self.history.clear_calls()
        self.refresh()


class ContactDialog(QDialog):
    """A contact with several numbers and SIP addresses."""

    LABELS = ("mobile", "work", "home", "sip", "other")

    def __init__(self, parent: QWidget | None = None, contact: Contact | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Edit contact") if contact and contact.id else self.tr("New contact"))
        self.contact = contact or Contact(name="")
        label_text = {
            "mobile": self.tr("Mobile"),
            "work": self.tr("Work"),
            "home": self.tr("Home"),
            "sip": self.tr("SIP"),
            "other": self.tr("Other"),
        }
        self.label_text = label_text
        form = QFormLayout()
        self.name = QLineEdit(self.contact.name, self)
        self.name.setAccessibleName(self.tr("Name"))
        self.organization = QLineEdit(self.contact.organization or "", self)
        self.organization.setAccessibleName(self.tr("Organisation"))
        form.addRow(self.tr("&Name:"), self.name)
        form.addRow(self.tr("&Organisation:"), self.organization)
        self.numbers = QTableWidget(0, 2, self)
        self.numbers.setAccessibleName(self.tr("Numbers and SIP addresses"))
        self.numbers.setHorizontalHeaderLabels([self.tr("Type"), self.tr("Number or SIP address")])
        self.numbers.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.numbers.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.numbers.verticalHeader().hide()
        self.numbers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for number in self.contact.numbers:
            self.add_number(number.label, number.uri)
        if not self.contact.numbers:
            self.add_number("mobile", "")
        buttons_row = QHBoxLayout()
        add = QPushButton(icon("add"), self.tr("Add number"), self)
        add.clicked.connect(lambda: self.add_number("other", ""))
        remove = QPushButton(icon("delete"), self.tr("Remove number"), self)
        remove.clicked.connect(self._remove_number)
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        self.note = QPlainTextEdit(self.contact.note or "", self)
        self.note.setAccessibleName(self.tr("Note"))
        self.note.setMaximumHeight(70)
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {RED};")
        self.error.hide()
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Numbers:"), self))
        layout.addWidget(self.numbers)
        layout.addLayout(buttons_row)
        layout.addWidget(QLabel(self.tr("Note:"), self))
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(box)
        self.resize(460, 420)

    def add_number(self, label: str, uri: str) -> None:
        row = self.numbers.rowCount()
        self.numbers.insertRow(row)
        combo = QComboBox(self.numbers)
        combo.setAccessibleName(self.tr("Number type"))
        for value in self.LABELS:
            combo.addItem(self.label_text[value], value)
        combo.setCurrentIndex(max(0, combo.findData(label)))
        self.numbers.setCellWidget(row, 0, combo)
        edit = QLineEdit(uri, self.numbers)
        edit.setAccessibleName(self.tr("Number or SIP address"))
        edit.setFrame(False)
        self.numbers.setCellWidget(row, 1, edit)

    def _remove_number(self) -> None:
        row = self.numbers.currentRow()
        if row < 0:
            row = self.numbers.rowCount() - 1
        if row >= 0:
            self.numbers.removeRow(row)

    def result_contact(self) -> Contact:
        numbers: list[ContactNumber] = []
        for row in range(self.numbers.rowCount()):
            combo = self.numbers.cellWidget(row, 0)
            edit = self.numbers.cellWidget(row, 1)
            assert isinstance(combo, QComboBox) and isinstance(edit, QLineEdit)
            if edit.text().strip():
                numbers.append(ContactNumber(str(combo.currentData()), edit.text().strip()))
        return Contact(
            name=self.name.text().strip(),
            numbers=numbers,
            organization=self.organization.text().strip() or None,
            note=self.note.toPlainText().strip() or None,
            favorite=self.contact.favorite,
            id=self.contact.id,
        )

    def accept(self) -> None:
        contact = self.result_contact()
        if not contact.name:
            self.error.setText(self.tr("Please enter a name."))
            self.error.show()
            return
        if not contact.numbers:
            self.error.setText(self.tr("Please enter at least one number or SIP address."))
            self.error.show()
            return
        super().accept()


class ContactsView(QWidget):
    """The address book: several numbers per contact, vCard import and export."""

    call_requested = Signal(str)
    changed = Signal()

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Search contacts"))
        self.filter.setAccessibleName(self.tr("Search contacts"))
        self.filter.setClearButtonEnabled(True)
        self.filter.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.filter.textChanged.connect(self.refresh)
        layout.addWidget(self.filter)
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Contacts"))
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        layout.addWidget(self.list)
        self.empty = QLabel(self.tr("No contacts yet. Add one, or import a vCard file."), self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {muted_color(self)};")
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        self.add_button = QPushButton(icon("add"), self.tr("Add"), self)
        self.add_button.setAccessibleName(self.tr("Add contact"))
        self.add_button.clicked.connect(lambda: self.edit_contact(None))
        self.import_button = QPushButton(self.tr("Import…"), self)
        self.import_button.setAccessibleName(self.tr("Import contacts from a vCard file"))
        self.import_button.clicked.connect(self.import_vcard)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setAccessibleName(self.tr("Export contacts as a vCard file"))
        self.export_button.clicked.connect(self.export_vcard)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(self.import_button)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self.dialog: ContactDialog | None = None
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        contacts = self.history.contacts(self.filter.text() or None)
        for contact in contacts:
            first = contact.numbers[0].uri if contact.numbers else ""
            more = len(contact.numbers) - 1
            second = display_address(first) + (self.tr("  (+{n} more)").format(n=more) if more > 0 else "")
            item = QListWidgetItem(f"{contact.name}\n{second}")
            item.setIcon(icon("contact"))
            item.setData(ROLE_ID, contact.id)
            item.setData(ROLE_URI, first)
            item.setToolTip("\n".join(f"{n.label}: {n.uri}" for n in contact.numbers))
            self.list.addItem(item)
        self.empty.setVisible(not contacts)
        self.list.setVisible(bool(contacts) or bool(self.filter.text()))
        self.export_button.setEnabled(bool(contacts))

    def _contact(self, item: QListWidgetItem) -> Contact | None:
        return self.history.contact(int(item.data(ROLE_ID)))

    def _activated(self, item: QListWidgetItem) -> None:
        contact = self._contact(item)
        if contact is None or not contact.numbers:
            return
        if len(contact.numbers) == 1:
            self.call_requested.emit(contact.numbers[0].uri)
            return
        menu = self._numbers_menu(contact)
        menu.popup(self.list.viewport().mapToGlobal(self.list.visualItemRect(item).center()))

    def _numbers_menu(self, contact: Contact, menu: QMenu | None = None) -> QMenu:
        menu = menu or QMenu(self)
        for number in contact.numbers:
            action = QAction(icon("phone"), f"{number.label}: {display_address(number.uri)}", menu)
            action.triggered.connect(lambda _=False, uri=number.uri: self.call_requested.emit(uri))
            menu.addAction(action)
        return menu

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        contact = self._contact(item)
        if contact is None:
            return
        menu = QMenu(self)
        self._numbers_menu(contact, menu)
        menu.addSeparator()
        menu.addAction(icon("edit"), self.tr("Edit…")).triggered.connect(lambda: self.edit_contact(contact))
        menu.addAction(icon("delete"), self.tr("Delete")).triggered.connect(lambda: self._delete(contact))
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def edit_contact(self, contact: Contact | None) -> ContactDialog:
        dialog = ContactDialog(self, contact)
        self.dialog = dialog

        def save() -> None:
            result = dialog.result_contact()
            if result.id is None:
                self.history.add_contact(result)
            else:
                self.history.update_contact(result)
            self.refresh()
            self.changed.emit()

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    def _delete(self, contact: Contact) -> None:
        if contact.id is not None:
            self.history.delete_contact(contact.id)
        self.refresh()
        self.changed.emit()

    def import_vcard(self, path: str | None = None) -> int:
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self, self.tr("Import contacts"), "", self.tr("vCard files (*.vcf *.vcard);;All files (*)")
            )
        if not path:
            return 0
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            count = self.history.import_vcards(text)
        except OSError as exc:
            self.empty.setText(self.tr("Cannot read {path}: {error}").format(path=path, error=exc))
            self.empty.show()
            return 0
        self.refresh()
        self.changed.emit()
        return count

    def export_vcard(self, path: str | None = None) -> bool:
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export contacts"), "contacts.vcf", self.tr("vCard files (*.vcf)")
            )
        if not path:
            return False
        from ..core.settings import write_atomically

        write_atomically(Path(path), self.history.export_vcards().encode("utf-8"))
        return True
