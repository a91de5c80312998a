"""Adding and editing an account: who you are, the password (to the keyring), and the details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.account import AccountConfig, AccountError
from ..core.secrets import fallback_path, keyring_available
from .preferences import AccountExtras
from .screen_fit import ContentScroll, fit_to_screen
from .theme import RED, muted_color


def password_store_text(widget: QWidget) -> str:
    """Where a saved password really goes: the keyring, or (where there is none) a private file."""
    if keyring_available():
        return widget.tr("The password is kept in your system's keyring, never in a file.")
    return widget.tr(
        "No system keyring was found: the password will be kept in {path}, readable only by you."
    ).format(path=fallback_path())


class AccountForm(QWidget):
    """The account's fields; used by the account dialog and the first-run wizard."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        config: AccountConfig | None = None,
        extras: AccountExtras | None = None,
        advanced: bool = True,
    ) -> None:
        super().__init__(parent)
        self.editing = config
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)

        self.display_name = self._line(self.tr("Display name"), self.tr("e.g. Alice Example (optional)"))
        self.user = self._line(self.tr("User name"), self.tr("e.g. alice or 4930123456"))
        self.domain = self._line(self.tr("Domain"), self.tr("e.g. sip.example.com"))
        self.password = self._line(self.tr("Password"), "")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        if config is not None:
            self.password.setPlaceholderText(self.tr("unchanged"))
        self.show_password = QToolButton(self)
        self.show_password.setText(self.tr("Show"))
        self.show_password.setCheckable(True)
        self.show_password.setAccessibleName(self.tr("Show password"))
        self.show_password.toggled.connect(
            lambda on: self.password.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        password_row = QWidget(self)
        row = QHBoxLayout(password_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.password, 1)
        row.addWidget(self.show_password)

        form.addRow(self.tr("&Display name:"), self.display_name)
        form.addRow(self.tr("&User name:"), self.user)
        form.addRow(self.tr("Do&main:"), self.domain)
        form.addRow(self.tr("&Password:"), password_row)
        label = form.labelForField(password_row)
        if isinstance(label, QLabel):
            label.setBuddy(self.password)  # Alt+P goes to the field, not to the row around it
        layout.addLayout(form)
        hint = QLabel(password_store_text(self), self)
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {muted_color(self)};")
        layout.addWidget(hint)

        self.advanced = QToolButton(self)
        self.advanced.setText(self.tr("Ad&vanced"))
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        self.advanced.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced.setAutoRaise(True)
        self.advanced.setAccessibleName(self.tr("Show the advanced settings"))
        adv = QFormLayout()
        adv.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.auth_user = self._line(
            self.tr("Authentication user"), self.tr("if different from the user name")
        )
        self.transport = QComboBox(self)
        self.transport.setAccessibleName(self.tr("Transport"))
        for value, text in (
            ("udp", "UDP"),
            ("tcp", "TCP"),
            ("tls", self.tr("TLS (encrypted)")),
            ("ws", self.tr("WebSocket")),
            ("wss", self.tr("WebSocket over TLS (encrypted)")),
        ):
            self.transport.addItem(text, value)
        self.proxy = self._line(self.tr("Outbound proxy"), self.tr("optional, e.g. proxy.example.com"))
        self.ws_url = self._line(self.tr("WebSocket URL"), self.tr("optional, e.g. wss://sip.example.com/ws"))
        self.transport.currentIndexChanged.connect(self._transport_changed)
        self._transport_changed()
        self.srtp = QComboBox(self)
        self.srtp.setAccessibleName(self.tr("Media encryption (SRTP)"))
        for value, text in (
            ("off", self.tr("Off")),
            ("optional", self.tr("When the other side offers it")),
            ("required", self.tr("Required")),
        ):
            self.srtp.addItem(text, value)
        self.direct = QCheckBox(self.tr("Accept calls that do not come through the provider"), self)
        # auto-answer and call forwarding (what the phone does with an incoming call by itself)
        self.auto_answer = QCheckBox(self.tr("Answer calls automatically"), self)
        self.auto_answer_delay = QSpinBox(self)
        self.auto_answer_delay.setRange(0, 60)
        self.auto_answer_delay.setSuffix(self.tr(" s"))
        self.auto_answer_delay.setAccessibleName(self.tr("Answer after"))
        self.forward = QComboBox(self)
        self.forward.setAccessibleName(self.tr("Forward calls"))
        for value, label in (
            ("off", self.tr("Never")),
            ("always", self.tr("Always")),
            ("busy", self.tr("When busy")),
            ("no_answer", self.tr("When not answered")),
        ):
            self.forward.addItem(label, value)
        self.forward_to = self._line(self.tr("Forward to"), self.tr("a number or SIP address"))
        self.forward_after = QSpinBox(self)
        self.forward_after.setRange(5, 120)
        self.forward_after.setValue(20)
        self.forward_after.setSuffix(self.tr(" s"))
        self.forward_after.setAccessibleName(self.tr("Forward when not answered after"))
        self.forward.currentIndexChanged.connect(self._forward_changed)
        self.auto_answer.toggled.connect(self.auto_answer_delay.setEnabled)
        self.auto_answer_delay.setEnabled(False)
        self.direct.setAccessibleName(self.tr("Allow direct calls"))
        self.register = QCheckBox(self.tr("Register at start (receive calls)"), self)
        self.register.setChecked(True)
        self.verify = QCheckBox(self.tr("Verify the server's TLS certificate"), self)
        self.verify.setChecked(True)
        self.country = self._line(self.tr("Country code"), self.tr("e.g. 49"))
        self.country.setMaxLength(4)
        self.number_format = QComboBox(self)
        self.number_format.setAccessibleName(self.tr("Send numbers as"))
        for value, text in (
            ("international", self.tr("International, 00 prefix (004930123)")),
            ("e164", self.tr("International, + prefix (+4930123)")),
            ("national", self.tr("National inside the country (030123)")),
            ("asis", self.tr("As typed, without spaces")),
        ):
            self.number_format.addItem(text, value)
        # NAT traversal: STUN and TURN servers for ICE (WebRTC calls always use ICE)
        self.media_profile = QComboBox(self)
        self.media_profile.setAccessibleName(self.tr("Media profile"))
        for value, text in (
            ("auto", self.tr("Automatic (WebRTC over WebSocket, classic otherwise)")),
            ("classic", self.tr("Classic SIP (RTP, SDES-SRTP)")),
            ("webrtc", self.tr("WebRTC (DTLS-SRTP, ICE)")),
        ):
            self.media_profile.addItem(text, value)
        self.stun = self._line(self.tr("STUN server"), self.tr("optional, e.g. stun.example.com:3478"))
        self.turn = self._line(self.tr("TURN server"), self.tr("optional, e.g. turn:turn.example.com:3478"))
        self.turn_user = self._line(self.tr("TURN user name"), self.tr("TURN user name"))
        self.turn_password = self._line(self.tr("TURN password"), self.tr("kept in the system keyring"))
        self.turn_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.relay_only = QCheckBox(self.tr("Media only through the TURN relay (hides my address)"), self)
        self.relay_only.setAccessibleName(self.tr("Relay only"))
        self.turn.textChanged.connect(self._turn_changed)
        self._turn_changed()
        # one mnemonic per letter on the page, none taken from the wizard's &Back, &Next, &Finish: a letter
        # used twice only moves the focus between its owners (Alt+N went to a TURN field, not to Next)
        adv.addRow(self.tr("&Authentication user:"), self.auth_user)
        adv.addRow(self.tr("&Transport:"), self.transport)
        adv.addRow(self.tr("Outbound pro&xy:"), self.proxy)
        adv.addRow(self.tr("&WebSocket URL:"), self.ws_url)
        adv.addRow(self.tr("Media &encryption:"), self.srtp)
        adv.addRow(self.tr("Media profi&le:"), self.media_profile)
        adv.addRow(self.tr("&STUN server:"), self.stun)
        adv.addRow(self.tr("TU&RN server:"), self.turn)
        adv.addRow(self.tr("TURN user name:"), self.turn_user)
        adv.addRow(self.tr("TURN password:"), self.turn_password)
        adv.addRow(self.relay_only)
        adv.addRow(self.tr("Countr&y code:"), self.country)
        adv.addRow(self.tr("Send numbers as:"), self.number_format)
        adv.addRow(self.direct)
        adv.addRow(self.auto_answer)
        adv.addRow(self.tr("Answer after:"), self.auto_answer_delay)
        adv.addRow(self.tr("Forward calls:"), self.forward)
        adv.addRow(self.tr("Forward to:"), self.forward_to)
        adv.addRow(self.tr("Forward after ringing:"), self.forward_after)
        self._forward_changed()
        adv.addRow(self.register)
        adv.addRow(self.verify)
        self._advanced_body = QGroupBox(self)
        self._advanced_body.setLayout(adv)
        self._advanced_body.setVisible(False)
        self.advanced.toggled.connect(self._toggle_advanced)
        if advanced:
            layout.addWidget(self.advanced, 0, Qt.AlignmentFlag.AlignLeft)
            layout.addWidget(self._advanced_body)
        else:
            self.advanced.hide()

        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {RED};")
        self.error_label.setAccessibleName(self.tr("Error"))
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        if config is not None:
            self.load(config, extras or AccountExtras())
        else:
            self._load_extras(extras or AccountExtras())

    def _toggle_advanced(self, on: bool) -> None:
        self.advanced.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._advanced_body.setVisible(on)
        window = self.window()
        if isinstance(window, AccountDialog):  # (the wizard's page scrolls at the wizard's size)
            # it grows to show the section where the screen has room (else it scrolls), and shrinks back
            fit_to_screen(window)

    def _transport_changed(self) -> None:
        # The URL only means something for a WebSocket account (RFC 7118).
        self.ws_url.setEnabled(self.transport.currentData() in ("ws", "wss"))

    def _turn_changed(self) -> None:
        has_turn = bool(self.turn.text().strip())
        for widget in (self.turn_user, self.turn_password, self.relay_only):
            widget.setEnabled(has_turn)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(False)
        return edit

    def load(self, config: AccountConfig, extras: AccountExtras) -> None:
        uri = config.uri
        self.display_name.setText(config.display_name or "")
        self.user.setText(uri.user or "")
        self.domain.setText(uri.host + (f":{uri.port}" if uri.port else ""))
        self.auth_user.setText(config.auth_user or "")
        self.transport.setCurrentIndex(max(0, self.transport.findData(config.transport)))
        self.proxy.setText(config.proxy or "")
        self.ws_url.setText(config.ws_url or "")
        self.direct.setChecked(config.allow_direct_calls)
        self.register.setChecked(config.register)
        self.verify.setChecked(config.tls_verify)
        self.media_profile.setCurrentIndex(max(0, self.media_profile.findData(config.media_profile)))
        self.stun.setText(config.stun_server or "")
        self.turn.setText(config.turn_server or "")
        self.turn_user.setText(config.turn_username or "")
        self.relay_only.setChecked(config.ice_relay_only)
        self.auto_answer.setChecked(config.auto_answer)
        self.auto_answer_delay.setValue(round(config.auto_answer_delay))
        self.forward.setCurrentIndex(max(0, self.forward.findData(config.forward)))
        self.forward_to.setText(config.forward_to or "")
        self.forward_after.setValue(round(config.forward_after))
        self._load_extras(extras)

    def _forward_changed(self) -> None:
        mode = str(self.forward.currentData())
        self.forward_to.setEnabled(mode != "off")
        self.forward_after.setEnabled(mode == "no_answer")

    def _load_extras(self, extras: AccountExtras) -> None:
        self.srtp.setCurrentIndex(max(0, self.srtp.findData(extras.srtp)))
        self.country.setText(extras.country_code)
        self.number_format.setCurrentIndex(max(0, self.number_format.findData(extras.number_format)))

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def config(self) -> AccountConfig:
        """The account as typed; AccountError with a message for the user when it cannot work."""
        user = self.user.text().strip()
        domain = self.domain.text().strip()
        if user.lower().startswith(("sip:", "sips:")):
            user = user.split(":", 1)[1]
        if "@" in user and not domain:
            user, domain = user.split("@", 1)
        if not user:
            raise AccountError(self.tr("Please enter your user name."))
        if not domain:
            raise AccountError(self.tr("Please enter the domain of your provider."))
        if any(c in user for c in " @:;") or " " in domain:
            raise AccountError(self.tr("The user name and the domain cannot contain spaces, '@' or ';'."))
        password = self.password.text()
        if self.editing is not None and not password:
            password_value: str | None = None  # unchanged
        else:
            password_value = password
        config = AccountConfig(
            aor=f"sip:{user}@{domain}",
            auth_user=self.auth_user.text().strip() or None,
            password=password_value,
            display_name=self.display_name.text().strip() or None,
            transport=str(self.transport.currentData()),
            proxy=self.proxy.text().strip() or None,
            ws_url=(self.ws_url.text().strip() or None) if self.ws_url.isEnabled() else None,
            register=self.register.isChecked(),
            tls_verify=self.verify.isChecked(),
            allow_direct_calls=self.direct.isChecked(),
            media_profile=str(self.media_profile.currentData()),
            stun_server=self.stun.text().strip() or None,
            turn_server=self.turn.text().strip() or None,
            turn_username=(self.turn_user.text().strip() or None) if self.turn_user.isEnabled() else None,
            turn_password=(self.turn_password.text() or None) if self.turn_password.isEnabled() else None,
            ice_relay_only=self.relay_only.isChecked() and self.relay_only.isEnabled(),
            auto_answer=self.auto_answer.isChecked(),
            auto_answer_delay=float(self.auto_answer_delay.value()),
            forward=str(self.forward.currentData()),
            forward_to=self.forward_to.text().strip() or None,
            forward_after=float(self.forward_after.value()),
        )
        if self.editing is not None:
            if config.turn_password is None:
                config.turn_password = self.editing.turn_password  # unchanged
            config.expires = self.editing.expires
            config.ca_file = self.editing.ca_file
            config.registrar = self.editing.registrar
            config.keepalive_interval = self.editing.keepalive_interval
        return config

    def extras(self) -> AccountExtras:
        country = "".join(c for c in self.country.text() if c.isdigit())
        return AccountExtras(
            srtp=str(self.srtp.currentData()),
            country_code=country,
            number_format=str(self.number_format.currentData()),
        )


class AccountDialog(QDialog):
    """Add or edit one account; ``result_config`` and ``result_extras`` after it is accepted."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        config: AccountConfig | None = None,
        extras: AccountExtras | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Edit account") if config else self.tr("Add account"))
        self.form = AccountForm(self, config=config, extras=extras)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        self.scroll = ContentScroll(self.form, self)  # the form scrolls; OK and Cancel stay in sight
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.buttons)
        self.result_config: AccountConfig | None = None
        self.result_extras: AccountExtras | None = None
        self.setMinimumWidth(420)
        fit_to_screen(self)

    def accept(self) -> None:
        try:
            self.result_config = self.form.config()
        except AccountError as exc:
            self.form.show_error(str(exc))
            return
        self.result_extras = self.form.extras()
        super().accept()

    def config(self) -> AccountConfig:
        return self.form.config()
