"""The first-run assistant: from nothing to a registered account, with the result in words."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ..core.account import AccountConfig, AccountError
from .account_dialog import AccountForm
from .controller import PhoneController
from .preferences import AccountExtras
from .screen_fit import ContentScroll, fit_to_screen
from .theme import GREEN, RED, app_icon

PAGE_WELCOME, PAGE_ACCOUNT, PAGE_REGISTER = range(3)


class WelcomePage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Welcome to Softphone"))
        self.setSubTitle(self.tr("Make and take calls from your computer."))
        layout = QVBoxLayout(self)
        text = QLabel(
            self.tr(
                "To receive calls and to call phone numbers, sign in with the SIP account from your "
                "provider or your company's phone system. You need your user name, the domain and "
                "the password."
            ),
            self,
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.have_account = QRadioButton(self.tr("&I have a SIP account: set it up now"), self)
        self.have_account.setChecked(True)
        self.skip = QRadioButton(self.tr("&Skip: I only call SIP addresses directly (peer to peer)"), self)
        layout.addSpacing(8)
        layout.addWidget(self.have_account)
        layout.addWidget(self.skip)
        layout.addStretch(1)

    def nextId(self) -> int:
        return -1 if self.skip.isChecked() else PAGE_ACCOUNT


class AccountPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Your account"))
        self.setSubTitle(self.tr("As given by your provider. Only the first four fields are usually needed."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.form = AccountForm(self)
        layout.addWidget(ContentScroll(self.form, self))  # Advanced scrolls inside the page
        self.config: AccountConfig | None = None
        self.extras: AccountExtras | None = None

    def validatePage(self) -> bool:
        try:
            self.config = self.form.config()
        except AccountError as exc:
            self.form.show_error(str(exc))
            return False
        if not self.config.password:
            self.form.show_error(self.tr("Please enter your password."))
            return False
        self.extras = self.form.extras()
        self.form.show_error("")
        return True


class RegisterPage(QWizardPage):
    """Registers the account and waits for the answer; Back fixes a wrong password."""

    def __init__(
        self, controller: PhoneController, account_page: AccountPage, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.account_page = account_page
        self.account_id: str | None = None
        self.setTitle(self.tr("Signing in"))
        layout = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Registration state"))
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Waiting for the server"))
        self.retry = QPushButton(self.tr("&Try again"), self)
        self.retry.setAccessibleName(self.tr("Try to register again"))
        self.retry.clicked.connect(self._retry)
        self.retry.hide()
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        controller.account_state_changed.connect(self._state_changed)

    def initializePage(self) -> None:
        config = self.account_page.config
        extras = self.account_page.extras
        assert config is not None
        if self.account_id is not None and self.account_id in self.controller.accounts:
            self.controller.update_account(self.account_id, config, extras)
        elif config.id in self.controller.accounts:
            self.controller.update_account(config.id, config, extras)
        else:
            self.controller.add_account(config, extras)
        self.account_id = config.id
        self._show()

    def _retry(self) -> None:
        if self.account_id is not None:
            self.controller.register_again(self.account_id)

    def _state_changed(self, account_id: str) -> None:
        if account_id == self.account_id:
            self._show()

    def _show(self) -> None:
        if self.account_id is None or self.account_id not in self.controller.accounts:
            return
        status = self.controller.accounts[self.account_id]
        text = self.controller.status_text(self.account_id)
        if status.state == "registered":
            self.status.setText(
                self.tr("<b>{account}</b><br>Registered. You can now make and receive calls.").format(
                    account=status.title
                )
            )
            self.status.setStyleSheet(f"color: {GREEN};")
        elif status.state in ("failed", "rejected"):
            self.status.setText(
                self.tr(
                    "<b>{account}</b><br>{state}<br>Go back to correct the details, or try again."
                ).format(account=status.title, state=text)
            )
            self.status.setStyleSheet(f"color: {RED};")
        else:
            self.status.setText(
                self.tr("<b>{account}</b><br>{state}").format(account=status.title, state=text)
            )
            self.status.setStyleSheet("")
        self.busy.setVisible(status.state not in ("registered", "failed", "rejected"))
        self.retry.setVisible(status.state in ("failed", "rejected"))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        status = self.controller.accounts.get(self.account_id or "")
        return status is not None and status.state == "registered"

    def cleanupPage(self) -> None:
        """Back: keep the account (it is replaced when the corrected details come)."""


class FirstRunWizard(QWizard):
    def __init__(self, controller: PhoneController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("Set up Softphone"))
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, app_icon().pixmap(48, 48))
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.welcome = WelcomePage(self)
        self.account = AccountPage(self)
        self.register = RegisterPage(controller, self.account, self)
        self.setPage(PAGE_WELCOME, self.welcome)
        self.setPage(PAGE_ACCOUNT, self.account)
        self.setPage(PAGE_REGISTER, self.register)
        self.setStartId(PAGE_WELCOME)
        self.finished.connect(self._done)
        fit_to_screen(self, QSize(560, 520))

    def _done(self, _result: int) -> None:
        parent = self.parent()
        if getattr(parent, "quitting", False):
            return  # the app quit while the assistant was open: offer it again next time
        self.controller.prefs.first_run_done = True
        self.controller.save_prefs()
