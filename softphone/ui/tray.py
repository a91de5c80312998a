"""The system tray icon: status and missed calls at a glance, quick actions in its menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .notifications import DesktopNotifications
from .theme import badge_icon, icon

if TYPE_CHECKING:
    from .main_window import MainWindow


class Tray(QObject):
    """Shown when the desktop has a tray; the main window hides into it instead of quitting."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.icon = QSystemTrayIcon(badge_icon(0), self)
        self.menu = QMenu()
        self.show_action = QAction(self.tr("&Show Softphone"), self.menu)
        self.show_action.triggered.connect(window.show_window)
        self.dial_action = QAction(icon("phone"), self.tr("&Dial…"), self.menu)
        self.dial_action.triggered.connect(window.focus_dialer)
        self.missed_action = QAction(icon("call-missed"), self.tr("Missed calls"), self.menu)
        self.missed_action.triggered.connect(window.show_history)
        self.dnd_action = QAction(icon("dnd"), self.tr("Do &not disturb"), self.menu)
        self.dnd_action.setCheckable(True)
        self.dnd_action.toggled.connect(self.controller.set_do_not_disturb)
        self.quit_action = QAction(icon("quit"), self.tr("&Quit"), self.menu)
        self.quit_action.triggered.connect(window.quit)
        for action in (self.show_action, self.dial_action, self.missed_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.dnd_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(window.show_history)
        self.controller.account_state_changed.connect(lambda _id: self.update_status())
        self.controller.incoming_call.connect(self._incoming)
        self.controller.call_ended.connect(self._ended)
        self.controller.call_changed.connect(self._call_changed)
        self.notifications = DesktopNotifications(self._notification_action)
        self._hidden_told = False
        window.tray = self
        self.update_status()
        if self.available():
            self.icon.show()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def status_text(self) -> str:
        accounts = self.controller.account_list()
        registered = sum(1 for a in accounts if a.state == "registered")
        if not accounts:
            line = self.tr("No account (direct calls only)")
        else:
            line = self.tr("{registered} of {total} accounts registered").format(
                registered=registered, total=len(accounts)
            )
        missed = self.controller.missed_count()
        if missed:
            line += "\n" + self.tr("{n} missed calls").format(n=missed)
        if self.controller.do_not_disturb:
            line += "\n" + self.tr("Do not disturb")
        return line

    def update_status(self) -> None:
        missed = self.controller.missed_count()
        dnd = self.controller.do_not_disturb
        self.icon.setIcon(badge_icon(missed, dnd))
        self.icon.setToolTip(self.tr("Softphone") + "\n" + self.status_text())
        self.missed_action.setText(
            self.tr("{n} missed calls").format(n=missed) if missed else self.tr("Call history")
        )
        self.dnd_action.blockSignals(True)
        self.dnd_action.setChecked(dnd)
        self.dnd_action.blockSignals(False)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            if self.window.isVisible() and self.window.isActiveWindow():
                self.window.hide()
            else:
                self.window.show_window()

    async def start_notifications(self) -> bool:
        """Desktop notifications with Answer/Decline buttons where the desktop has them."""
        return await self.notifications.start()

    def _notification_action(self, call_id: str, action: str) -> None:
        if action == "answer":
            self.controller.answer(call_id)
            window = self.window.call_windows.get(call_id)
            if window is not None:
                window.present()
        elif action == "decline":
            self.controller.decline(call_id)
        elif action == "default":
            self.window.show_window()

    def _call_changed(self, call_id: str) -> None:
        info = self.controller.calls.get(call_id)
        if info is not None and info.state != "incoming" and call_id in self.notifications._ids:
            self.controller.spawn(self.notifications.withdraw(call_id))

    def _incoming(self, call_id: str) -> None:
        info = self.controller.calls.get(call_id)
        if info is not None and self.notifications.available:
            self.controller.spawn(
                self.notifications.show(
                    call_id,
                    self.tr("Incoming call"),
                    info.peer,
                    [
                        ("default", self.tr("Show")),
                        ("answer", self.tr("Answer")),
                        ("decline", self.tr("Decline")),
                    ],
                    urgent=True,
                )
            )
        elif info is not None and self.available() and self.icon.supportsMessages():
            self.icon.showMessage(
                self.tr("Incoming call"), info.peer, QSystemTrayIcon.MessageIcon.Information, 10000
            )

    def _ended(self, call_id: str) -> None:
        info = self.controller.calls.get(call_id)
        self.update_status()
        if (
            (
                info is not None
                and info.direction == "incoming"
                and info.answered_at is None
                and not info.declined
            )
            and self.available()
            and self.icon.supportsMessages()
        ):
            self.icon.showMessage(
                self.tr("Missed call"), info.peer, QSystemTrayIcon.MessageIcon.Information, 10000
            )

    def notify_hidden(self) -> None:
        if not self._hidden_told and self.icon.supportsMessages():
            self._hidden_told = True
            self.icon.showMessage(
                self.tr("Softphone is still running"),
                self.tr("Calls still ring here. Quit from the tray menu."),
                QSystemTrayIcon.MessageIcon.Information,
                5000,
            )

    def hide(self) -> None:
        self.icon.hide()
