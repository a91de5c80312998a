"""The main window: accounts with their live state, the dialer and pad, history and contacts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QContextMenuEvent,
    QFocusEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.account import AccountConfig
from ..core.engine import Engine
from ..core.history import History
from ..core.trace import TraceEntry
from .account_dialog import AccountDialog
from .call_window import SHORTCUT_ANSWER, SHORTCUT_HANGUP, CallWindow
from .controller import PhoneController
from .dialer import Dialer
from .dialpad import DialPad
from .history_view import ContactDialog, ContactsView, HistoryView, format_duration
from .preferences import Preferences
from .screen_fit import fit_to_screen
from .theme import AMBER, RED, STATE_COLORS, app_icon, icon, muted_color, state_dot

if TYPE_CHECKING:
    from .tray import Tray

ROLE_ID = Qt.ItemDataRole.UserRole


class AccountRow(QFrame):
    """One account: a state dot, its name, and its registration state in words (wrapped, never cut)."""

    edit_requested = Signal(str)
    menu_requested = Signal(str, QPoint)

    def __init__(self, account_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account_id = account_id
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.setSpacing(8)
        self.dot = QLabel(self)
        self.dot.setFixedSize(QSize(12, 12))
        layout.addWidget(self.dot, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.state = QLabel(self)
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        texts.addWidget(self.title)
        texts.addWidget(self.state)
        layout.addLayout(texts, 1)
        self.dot.setContentsMargins(0, 3, 0, 0)

    def set_status(self, title: str, state: str, color: str, error: bool) -> None:
        self.title.setText(title)
        self.state.setText(state)
        self.state.setStyleSheet(f"color: {RED};" if error else f"color: {muted_color(self)};")
        self.dot.setPixmap(state_dot(color).pixmap(QSize(10, 10)))
        self.setAccessibleName(f"{title}: {state}")
        self.setToolTip(self.tr("Double-click to edit; right-click for more"))

    def text(self) -> str:
        return f"{self.title.text()}   —   {self.state.text()}"

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.edit_requested.emit(self.account_id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.menu_requested.emit(self.account_id, event.globalPos())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.edit_requested.emit(self.account_id)
            return
        if event.key() == Qt.Key.Key_Menu:
            self.menu_requested.emit(self.account_id, self.mapToGlobal(self.rect().center()))
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.setFrameShape(QFrame.Shape.Box)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.setFrameShape(QFrame.Shape.NoFrame)
        super().focusOutEvent(event)


class MainWindow(QMainWindow):
    """Everything in one place; calls open their own windows."""

    def __init__(
        self,
        controller: PhoneController | Engine,
        accounts: list[AccountConfig] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(controller, Engine):  # a bare engine (tests, embedding): history in memory only
            controller = PhoneController(
                controller, accounts or [], History(":memory:"), Preferences(), persist=False
            )
        self.controller = controller
        self.engine = controller.engine
        self.call_windows: dict[str, CallWindow] = {}
        self.items: dict[str, AccountRow] = {}
        self.dialogs: list[QDialog] = []
        self.trace_window: QWidget | None = None
        self.settings_dialog: QDialog | None = None
        self.tray: Tray | None = None
        self.quitting = False
        self.quit_on_close = False  # the application's own window quits the app when closed
        self.request_quit: Callable[[], None] | None = None  # the app's orderly shutdown, if any
        self.setWindowTitle(self.tr("Softphone"))
        self.setWindowIcon(app_icon())
        self.setObjectName("MainWindow")

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(8)

        # accounts
        header = QHBoxLayout()
        accounts_label = QLabel(self.tr("Accounts"), self)
        font = accounts_label.font()
        font.setBold(True)
        accounts_label.setFont(font)
        header.addWidget(accounts_label)
        header.addStretch(1)
        self.add_button = QToolButton(self)
        self.add_button.setIcon(icon("add"))
        self.add_button.setText(self.tr("&Add account…"))
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setAccessibleName(self.tr("Add account"))
        self.add_button.setAutoRaise(True)
        self.add_button.clicked.connect(self.add_account)
        header.addWidget(self.add_button)
        layout.addLayout(header)
        self.account_list = QWidget(self)
        self.account_list.setAccessibleName(self.tr("Accounts"))
        self.account_rows = QVBoxLayout(self.account_list)
        self.account_rows.setContentsMargins(0, 0, 0, 0)
        self.account_rows.setSpacing(2)
        layout.addWidget(self.account_list)
        self.no_account = QLabel(
            self.tr("No account yet. You can still call SIP addresses directly, e.g. bob@192.0.2.10."), self
        )
        self.no_account.setWordWrap(True)
        self.no_account.setAccessibleName(self.tr("No account"))
        layout.addWidget(self.no_account)

        # dialer
        self.dialer = Dialer(controller, self)
        self.dialer.dial_requested.connect(self.dial)
        layout.addWidget(self.dialer)
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName(self.tr("Message"))
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setStyleSheet(f"border: 1px solid {AMBER}; border-radius: 6px; padding: 6px;")
        self.banner.hide()
        self._banner_timer = QTimer(self)
        self._banner_timer.setSingleShot(True)
        self._banner_timer.timeout.connect(self.banner.hide)
        layout.addWidget(self.banner)

        # active calls
        self.calls_bar = QWidget(self)
        self.calls_layout = QVBoxLayout(self.calls_bar)
        self.calls_layout.setContentsMargins(0, 0, 0, 0)
        self.calls_layout.setSpacing(4)
        self.calls_bar.hide()
        layout.addWidget(self.calls_bar)

        # keypad, history, contacts
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Keypad, history and contacts"))
        self.tabs.setDocumentMode(True)
        pad_page = QWidget(self)
        pad_layout = QVBoxLayout(pad_page)
        pad_layout.setContentsMargins(0, 8, 0, 0)
        self.dialpad = DialPad(pad_page)
        self.dialpad.pressed.connect(self.dialer.press)
        pad_layout.addWidget(self.dialpad)
        pad_layout.addStretch(1)
        self.history_view = HistoryView(controller.history, self)
        self.history_view.call_requested.connect(self.call_back)
        self.history_view.add_contact_requested.connect(self.add_contact_for)
        self.contacts_view = ContactsView(controller.history, self)
        self.contacts_view.call_requested.connect(self.call_back)
        self.contacts_view.changed.connect(self.history_view.refresh)
        self.tabs.addTab(pad_page, icon("dialpad"), self.tr("Keypad"))
        self.tabs.addTab(self.history_view, icon("history"), self.tr("History"))
        self.tabs.addTab(self.contacts_view, icon("contacts"), self.tr("Contacts"))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self._build_shortcuts()
        self.missed_label = QLabel(self)
        self.missed_label.setAccessibleName(self.tr("Missed calls"))
        self.statusBar().addPermanentWidget(self.missed_label)
        self.dnd_label = QLabel(self)
        self.dnd_label.setAccessibleName(self.tr("Do not disturb"))
        self.statusBar().addPermanentWidget(self.dnd_label)

        controller.accounts_changed.connect(self.refresh_accounts)
        controller.account_state_changed.connect(self.update_account)
        controller.call_added.connect(self.on_call_added)
        controller.call_changed.connect(self._update_calls_bar)
        controller.call_ended.connect(self._update_calls_bar)
        controller.history_changed.connect(self.history_view.refresh)
        controller.missed_count_changed.connect(self.update_missed)
        controller.message.connect(self.show_message)
        controller.error.connect(self.show_error)
        controller.dnd_changed.connect(self._dnd_changed)
        self.refresh_accounts()
        self.update_missed(controller.missed_count())
        self._dnd_changed(controller.do_not_disturb)
        fit_to_screen(self, QSize(420, 700))
        self._account_hint()
        controller.accounts_changed.connect(self._account_hint)

    def _account_hint(self) -> None:
        """The status bar's hint about accounts: only while there is none (it must not outlive the first)."""
        hint = self.tr("No account yet: add one to register.")
        if not self.controller.accounts:
            self.statusBar().showMessage(hint)
        elif self.statusBar().currentMessage() == hint:
            self.statusBar().clearMessage()

    # -- menus and shortcuts --
    def _build_menus(self) -> None:
        phone = self.menuBar().addMenu(self.tr("&Phone"))
        self.dial_action = QAction(icon("phone"), self.tr("&Dial…"), self)
        self.dial_action.setShortcut(QKeySequence("Ctrl+L"))
        self.dial_action.triggered.connect(self.focus_dialer)
        phone.addAction(self.dial_action)
        self.dnd_action = QAction(icon("dnd"), self.tr("Do &not disturb"), self)
        self.dnd_action.setCheckable(True)
        self.dnd_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.dnd_action.toggled.connect(self.controller.set_do_not_disturb)
        phone.addAction(self.dnd_action)
        phone.addSeparator()
        self.settings_action = QAction(icon("settings"), self.tr("&Settings…"), self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        phone.addAction(self.settings_action)
        self.trace_action = QAction(icon("trace"), self.tr("SIP &trace…"), self)
        self.trace_action.setShortcut(QKeySequence("Ctrl+T"))
        self.trace_action.triggered.connect(self.open_trace)
        phone.addAction(self.trace_action)
        phone.addSeparator()
        self.quit_action = QAction(icon("quit"), self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit)
        phone.addAction(self.quit_action)

        accounts = self.menuBar().addMenu(self.tr("&Accounts"))
        add = QAction(icon("add"), self.tr("&Add account…"), self)
        add.triggered.connect(self.add_account)
        accounts.addAction(add)
        wizard = QAction(self.tr("Set-up &assistant…"), self)
        wizard.triggered.connect(self.open_wizard)
        accounts.addAction(wizard)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        keys = QAction(self.tr("&Keyboard shortcuts"), self)
        keys.setShortcut(QKeySequence.StandardKey.HelpContents)
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        about = QAction(self.tr("&About Softphone"), self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _build_shortcuts(self) -> None:
        answer = QShortcut(QKeySequence(SHORTCUT_ANSWER), self)
        answer.setContext(Qt.ShortcutContext.ApplicationShortcut)
        answer.activated.connect(self.answer_current)
        hangup = QShortcut(QKeySequence(SHORTCUT_HANGUP), self)
        hangup.setContext(Qt.ShortcutContext.ApplicationShortcut)
        hangup.activated.connect(self.hangup_current)
        for key, tab in (("Ctrl+1", 0), ("Ctrl+2", 1), ("Ctrl+3", 2)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda t=tab: self.tabs.setCurrentIndex(t))

    def shortcut_list(self) -> list[tuple[str, str]]:
        return [
            ("Ctrl+L", self.tr("Go to the dialer")),
            (self.tr("Enter"), self.tr("Call what is typed")),
            (SHORTCUT_ANSWER, self.tr("Answer the ringing call")),
            (SHORTCUT_HANGUP, self.tr("Hang up, or decline a ringing call")),
            ("Ctrl+Shift+M", self.tr("Mute or unmute (call window)")),
            ("Ctrl+Shift+H", self.tr("Hold or resume (call window)")),
            ("Ctrl+Shift+K", self.tr("Keypad (call window); digits send tones")),
            ("Ctrl+Shift+Q", self.tr("Call quality (call window)")),
            ("Ctrl+Shift+D", self.tr("Do not disturb")),
            ("Ctrl+1 / 2 / 3", self.tr("Keypad, history, contacts")),
            ("Ctrl+T", self.tr("SIP trace")),
            ("Ctrl+,", self.tr("Settings")),
            ("Ctrl+Q", self.tr("Quit")),
        ]

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for key, what in self.shortcut_list()
        )
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Keyboard shortcuts"))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{rows}</table>")
        box.open()
        self.dialogs.append(box)

    def show_about(self) -> None:
        from .about_dialog import AboutDialog  # the notices are read when asked for, not at start-up

        dialog = AboutDialog(self)
        dialog.open()
        self.dialogs.append(dialog)

    # -- accounts --
    def refresh_accounts(self) -> None:
        for row in self.items.values():
            self.account_rows.removeWidget(row)
            row.deleteLater()
        self.items.clear()
        for status in self.controller.account_list():
            row = AccountRow(status.id, self.account_list)
            row.edit_requested.connect(self.edit_account)
            row.menu_requested.connect(self._account_menu)
            self.account_rows.addWidget(row)
            self.items[status.id] = row
            self.update_account(status.id)
        has = bool(self.items)
        self.account_list.setVisible(has)
        self.no_account.setVisible(not has)

    def update_account(self, account_id: str) -> None:
        row = self.items.get(account_id)
        status = self.controller.accounts.get(account_id)
        if row is None or status is None:
            return
        text = self.controller.status_text(account_id)
        color = STATE_COLORS.get(status.state, muted_color(self))
        row.set_status(status.title, text, color, status.state in ("failed", "rejected"))
        self.dialer.refresh_accounts()

    def account_text(self, account_id: str) -> str:
        return self.items[account_id].text()

    def _account_menu(self, account_id: str, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(icon("edit"), self.tr("&Edit…")).triggered.connect(
            lambda: self.edit_account(account_id)
        )
        menu.addAction(self.tr("&Register now")).triggered.connect(
            lambda: self.controller.register_again(account_id)
        )
        menu.addSeparator()
        menu.addAction(icon("delete"), self.tr("Re&move")).triggered.connect(
            lambda: self.remove_account(account_id)
        )
        menu.popup(pos)

    def add_account(self) -> AccountDialog:
        dialog = AccountDialog(self)

        def done() -> None:
            assert dialog.result_config is not None
            try:
                self.controller.add_account(dialog.result_config, dialog.result_extras)
            except ValueError as exc:
                self.show_error(str(exc))

        dialog.accepted.connect(done)
        dialog.open()
        self.dialogs.append(dialog)
        return dialog

    def edit_account(self, account_id: str) -> AccountDialog | None:
        status = self.controller.accounts.get(account_id)
        if status is None:
            return None
        dialog = AccountDialog(self, config=status.config, extras=self.controller.prefs.extras(account_id))

        def done() -> None:
            assert dialog.result_config is not None
            try:
                self.controller.update_account(account_id, dialog.result_config, dialog.result_extras)
            except ValueError as exc:
                self.show_error(str(exc))

        dialog.accepted.connect(done)
        dialog.open()
        self.dialogs.append(dialog)
        return dialog

    def remove_account(self, account_id: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Remove account"),
            self.tr("Remove the account {id}? Its password is deleted from the keyring.").format(
                id=account_id
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.accepted.connect(lambda: self.controller.remove_account(account_id))
        box.open()
        self.dialogs.append(box)

    # -- calls --
    def focus_dialer(self) -> None:
        self.show_window()
        self.dialer.input.setFocus()
        self.dialer.input.selectAll()

    def dial(self, text: str, account_id: str | None = None) -> bool:
        return self.controller.dial(text, account_id)

    def call_back(self, uri: str) -> None:
        self.dialer.set_text(uri)
        self.controller.dial(uri, self.dialer.selected_account() or self.controller.default_account())

    def dial_uri(self, uri: str) -> None:
        """A sip:/tel: link handed over by a second launch or the desktop: show it and dial."""
        self.show_window()
        self.dialer.set_text(uri)
        self.controller.dial(uri, self.controller.default_account())

    def on_call_added(self, call_id: str) -> None:
        window = CallWindow(self.controller, call_id)
        window.setWindowIcon(app_icon())
        window.closed.connect(self._call_window_closed)
        window.add_call_requested.connect(self.focus_dialer)
        self.call_windows[call_id] = window
        window.present()
        self._update_calls_bar()

    def _call_window_closed(self, call_id: str) -> None:
        window = self.call_windows.pop(call_id, None)
        if window is not None:
            window.deleteLater()
        self._update_calls_bar()

    def current_call(self) -> str | None:
        active = QApplication.activeWindow()
        if isinstance(active, CallWindow) and active.info is not None and active.info.active:
            return active.call_id
        calls = self.controller.active_calls()
        ringing = [c for c in calls if c.state == "incoming"]
        connected = [c for c in calls if c.connected and not c.local_hold]
        for group in (connected, ringing, calls):
            if group:
                return group[-1].id
        return None

    def answer_current(self) -> None:
        ringing = [c for c in self.controller.active_calls() if c.state == "incoming"]
        if ringing:
            self.controller.answer(ringing[-1].id)

    def hangup_current(self) -> None:
        call_id = self.current_call()
        if call_id is None:
            return
        info = self.controller.calls[call_id]
        if info.state == "incoming":
            self.controller.decline(call_id)
        else:
            self.controller.hangup(call_id)

    def _update_calls_bar(self, *_: object) -> None:
        while self.calls_layout.count():
            child = self.calls_layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.deleteLater()
        active = self.controller.active_calls()
        for info in active:
            window = self.call_windows.get(info.id)
            state = window.state_text(info) if window is not None else info.state
            timer = f"  {format_duration(info.duration)}" if info.answered_at is not None else ""
            button = QPushButton(icon("phone"), f"{info.peer} — {state}{timer}", self.calls_bar)
            button.setAccessibleName(self.tr("Show the call with {peer}").format(peer=info.peer))
            button.setToolTip(self.tr("Show the call window"))
            button.clicked.connect(lambda _=False, cid=info.id: self.show_call(cid))
            self.calls_layout.addWidget(button)
        self.calls_bar.setVisible(bool(active))

    def show_call(self, call_id: str) -> None:
        window = self.call_windows.get(call_id)
        if window is not None:
            window.present()

    # -- history and contacts --
    def update_missed(self, count: int) -> None:
        self.tabs.setTabText(1, self.tr("History ({n})").format(n=count) if count else self.tr("History"))
        self.missed_label.setText(self.tr("{n} missed").format(n=count) if count else "")
        self.missed_label.setStyleSheet(f"color: {RED};" if count else "")
        if self.tray is not None:
            self.tray.update_status()

    def _tab_changed(self, index: int) -> None:
        if index == 1 and self.isActiveWindow():
            self.controller.mark_missed_seen()

    def show_history(self) -> None:
        self.show_window()
        self.tabs.setCurrentIndex(1)
        self.controller.mark_missed_seen()

    def add_contact_for(self, uri: str, name: str) -> None:
        from ..core.history import Contact, ContactNumber

        label = "sip" if "@" in uri else "other"
        shown = name if name and name != uri else ""
        self.contacts_view.edit_contact(Contact(name=shown, numbers=[ContactNumber(label, uri)]))

    def new_contact(self) -> ContactDialog:
        return self.contacts_view.edit_contact(None)

    # -- other windows --
    def open_settings(self) -> QDialog:
        from .settings_dialog import SettingsDialog

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.controller, self)
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        return self.settings_dialog

    def open_trace(self) -> QWidget:
        from .trace_view import TraceWindow

        if self.trace_window is None:
            self.trace_window = TraceWindow(self.controller)
        self.trace_window.show()
        self.trace_window.raise_()
        return self.trace_window

    def open_wizard(self) -> QDialog:
        from .wizard import FirstRunWizard

        wizard = FirstRunWizard(self.controller, self)
        wizard.open()
        self.dialogs.append(wizard)
        return wizard

    def show_error(self, text: str) -> None:
        """Something went wrong: said in a message under the dialer (wrapped, never cut)."""
        self.banner.setText(text)
        self.banner.show()
        self._banner_timer.start(15000)

    def show_message(self, text: str) -> None:
        """Passing news (registration changes are in the account list already)."""
        self.statusBar().showMessage(text, 8000)
        self.statusBar().setToolTip(text)

    def _dnd_changed(self, on: bool) -> None:
        self.dnd_action.blockSignals(True)
        self.dnd_action.setChecked(on)
        self.dnd_action.blockSignals(False)
        self.dnd_label.setText(self.tr("Do not disturb") if on else "")
        self.dnd_label.setStyleSheet(f"color: {AMBER};" if on else "")
        if self.tray is not None:
            self.tray.update_status()

    def on_trace(self, entry: TraceEntry) -> None:
        self.controller.on_trace(entry)

    # -- window --
    def show_window(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ThemeChange):
            self._retint()
        if (
            event.type() == QEvent.Type.ActivationChange
            and self.isActiveWindow()
            and self.tabs.currentIndex() == 1
        ):
            self.controller.mark_missed_seen()
        super().changeEvent(event)

    def _retint(self) -> None:
        """The system switched between light and dark: redraw the icons in the new text colour."""
        if not hasattr(self, "tabs"):
            return
        for index, name in enumerate(("dialpad", "history", "contacts")):
            self.tabs.setTabIcon(index, icon(name))
        self.add_button.setIcon(icon("add"))
        self.history_view.refresh()
        self.contacts_view.refresh()

    def quit(self) -> None:
        self.quitting = True
        for window in list(self.call_windows.values()):
            window.hide()
        if self.trace_window is not None:
            self.trace_window.close()
        self._quit_app()

    def _quit_app(self) -> None:
        """Hand over to the app's shutdown (hang up, unregister, then leave the loop) if it has one."""
        if self.request_quit is not None:
            self.request_quit()
            return
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        tray = self.tray
        if (
            not self.quitting
            and tray is not None
            and tray.available()
            and self.controller.prefs.close_to_tray
        ):
            self.hide()
            tray.notify_hidden()
            event.ignore()
            return
        if self.trace_window is not None:
            self.trace_window.close()
        super().closeEvent(event)
        app = QApplication.instance()
        if app is not None and self.quit_on_close and not self.quitting:
            self.quitting = True
            self._quit_app()
