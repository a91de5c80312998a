"""The desktop application: a Qt window on a qasync loop, driving softphone.core."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.account import AccountConfig, AccountError
from ..core.engine import Engine
from ..core.events import EngineEvent
from ..core.secrets import get_password, set_password
from ..core.settings import load_accounts, save_accounts
from ..core.trace import TraceEntry

log = logging.getLogger(__name__)

STATE_TEXT = {
    "idle": "Not registered",
    "registering": "Registering…",
    "registered": "Registered",
    "failed": "Failed",
    "rejected": "Rejected",
    "unregistering": "Unregistering…",
    "unregistered": "Not registered",
}


class AccountDialog(QDialog):
    """Asks for the few things needed to register: address, password, transport."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add account"))
        form = QFormLayout()
        self.address = QLineEdit()
        self.address.setPlaceholderText("sip:alice@example.com")
        self.address.setAccessibleName(self.tr("SIP address"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(self.tr("Password"))
        self.transport = QComboBox()
        self.transport.addItems(["udp", "tcp", "tls"])
        self.transport.setAccessibleName(self.tr("Transport"))
        self.proxy = QLineEdit()
        self.proxy.setPlaceholderText(self.tr("optional, e.g. sip:proxy.example.com"))
        self.proxy.setAccessibleName(self.tr("Outbound proxy"))
        self.verify = QCheckBox(self.tr("Verify the server's TLS certificate"))
        self.verify.setChecked(True)
        form.addRow(self.tr("SIP address"), self.address)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Transport"), self.transport)
        form.addRow(self.tr("Outbound proxy"), self.proxy)
        form.addRow("", self.verify)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def config(self) -> AccountConfig:
        return AccountConfig(
            aor=self.address.text().strip(),
            password=self.password.text(),
            transport=self.transport.currentText(),
            proxy=self.proxy.text().strip() or None,
            tls_verify=self.verify.isChecked(),
        )


class MainWindow(QMainWindow):
    """Accounts with their live registration state, and what happened, in words."""

    def __init__(self, engine: Engine, accounts: list[AccountConfig]) -> None:
        super().__init__()
        self.engine = engine
        self.accounts = accounts
        self.setWindowTitle(self.tr("Softphone"))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(QLabel(self.tr("Accounts")))
        self.account_list = QListWidget()
        self.account_list.setAccessibleName(self.tr("Accounts"))
        layout.addWidget(self.account_list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("&Add account…"))
        self.add_button.clicked.connect(self.add_account)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(self.tr("Activity")))
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setAccessibleName(self.tr("Activity"))
        self.log_view.setMaximumBlockCount(2000)
        layout.addWidget(self.log_view)
        self.setCentralWidget(central)
        self.resize(520, 480)
        self.items: dict[str, QListWidgetItem] = {}
        engine.subscribe(self.on_event)
        for account in accounts:
            self._add_item(account)
        if not accounts:
            self.statusBar().showMessage(self.tr("No account yet: add one to register."))

    def _add_item(self, account: AccountConfig) -> None:
        item = QListWidgetItem(f"{account.aor}   —   {STATE_TEXT['idle']}")
        item.setData(Qt.ItemDataRole.UserRole, account.id)
        self.account_list.addItem(item)
        self.items[account.id] = item

    def on_event(self, event: EngineEvent) -> None:
        if event.account and event.account in self.items:
            state = event.name
            if state == "registration_failed":
                text = f"{STATE_TEXT['failed']}: {event.fields.get('status')} {event.fields.get('reason')}"
            else:
                text = STATE_TEXT.get(state, state)
            account = next((a for a in self.accounts if a.id == event.account), None)
            aor = account.aor if account else event.account
            self.items[event.account].setText(f"{aor}   —   {text}")
        self.log_view.appendPlainText(event.describe())

    def on_trace(self, entry: TraceEntry) -> None:
        self.log_view.appendPlainText(entry.format())

    def add_account(self) -> None:
        dialog = AccountDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            config = dialog.config()
        except AccountError as exc:
            QMessageBox.warning(self, self.tr("Account"), str(exc))
            return
        if config.password:
            try:
                set_password(config.id, config.password)
            except Exception as exc:  # no keyring: keep it for this session only
                QMessageBox.warning(
                    self, self.tr("Keyring"), self.tr("The password cannot be saved: ") + str(exc)
                )
        self.accounts.append(config)
        save_accounts(self.accounts)
        self._add_item(config)
        self.engine.add_account(config)
        asyncio.ensure_future(self.engine.register(config.id))


async def _run(window: MainWindow, engine: Engine, quit_after: float | None) -> None:
    closed = asyncio.Event()
    app = QApplication.instance()
    assert app is not None
    app.aboutToQuit.connect(closed.set)
    await engine.start()
    for account in window.accounts:
        if account.password is None:
            account.password = get_password(account.id)
        engine.add_account(account)
        if account.register:
            await engine.register(account.id)
    window.show()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), app.quit)
    await closed.wait()
    await engine.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="softphone")
    parser.add_argument("--quit-after", type=float, help="quit after this many seconds (tests)")
    parser.add_argument("--sip-trace", action="store_true", help="show every SIP message in the activity log")
    args, qt_args = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    import qasync

    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Softphone")
    app.setQuitOnLastWindowClosed(True)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window_ref: list[MainWindow] = []

    def trace(entry: TraceEntry) -> None:
        if window_ref:
            window_ref[0].on_trace(entry)

    engine = Engine(trace=trace if args.sip_trace else None)
    try:
        accounts = load_accounts()
    except (OSError, ValueError, AccountError, TypeError) as exc:
        log.error("cannot read the accounts file: %s", exc)
        accounts = []
    window = MainWindow(engine, accounts)
    window_ref.append(window)
    with loop:
        loop.run_until_complete(_run(window, engine, args.quit_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
