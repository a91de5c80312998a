"""Settings: accounts, audio devices (with a clear word when there are none), codecs, appearance."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QLocale, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from . import autostart, url_handler
from .account_dialog import AccountDialog
from .controller import PhoneController, device_label
from .i18n import available_languages
from .preferences import ALL_CODECS, THEMES
from .screen_fit import fit_to_screen
from .theme import AMBER, STATE_COLORS, apply_scheme, icon, state_dot
from .tray import Tray

ROLE = Qt.ItemDataRole.UserRole

CODEC_NAMES = {
    "opus": "Opus (wideband, robust)",
    "G722": "G.722 (wideband)",
    "PCMU": "G.711 µ-law (PCMU)",
    "PCMA": "G.711 A-law (PCMA)",
}


class SettingsDialog(QDialog):
    def __init__(self, controller: PhoneController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.prefs = controller.prefs
        self.setWindowTitle(self.tr("Settings"))
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._accounts_page(), self.tr("&Accounts"))
        self.tabs.addTab(self._audio_page(), self.tr("A&udio"))
        self.tabs.addTab(self._calls_page(), self.tr("&Calls"))
        self.tabs.addTab(self._general_page(), self.tr("&General"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.dialogs: list[QDialog] = []
        self._test: Any = None
        self._test_timer = QTimer(self)
        self._test_timer.setInterval(20)
        self._test_timer.timeout.connect(self._test_step)
        controller.accounts_changed.connect(self._fill_accounts)
        controller.account_state_changed.connect(lambda _id: self._fill_accounts())
        fit_to_screen(self, QSize(520, 460))

    # -- accounts --
    def _accounts_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.account_list = QListWidget(page)
        self.account_list.setAccessibleName(self.tr("Accounts"))
        self.account_list.itemActivated.connect(lambda _item: self._edit_account())
        layout.addWidget(self.account_list)
        row = QHBoxLayout()
        add = QPushButton(icon("add"), self.tr("&Add…"), page)
        add.setAccessibleName(self.tr("Add account"))
        add.clicked.connect(self._add_account)
        self.edit_button = QPushButton(icon("edit"), self.tr("&Edit…"), page)
        self.edit_button.setAccessibleName(self.tr("Edit account"))
        self.edit_button.clicked.connect(self._edit_account)
        self.remove_button = QPushButton(icon("delete"), self.tr("&Remove"), page)
        self.remove_button.setAccessibleName(self.tr("Remove account"))
        self.remove_button.clicked.connect(self._remove_account)
        row.addWidget(add)
        row.addWidget(self.edit_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.account_list.setSpacing(3)
        self._fill_accounts()
        return page

    def _fill_accounts(self) -> None:
        current = self._current_account()
        self.account_list.clear()
        for status in self.controller.account_list():
            item = QListWidgetItem(f"{status.title}\n{self.controller.status_text(status.id)}")
            item.setIcon(state_dot(STATE_COLORS.get(status.state, "#888888")))
            item.setData(ROLE, status.id)
            self.account_list.addItem(item)
            if status.id == current:
                self.account_list.setCurrentItem(item)
        has = self.account_list.count() > 0
        self.edit_button.setEnabled(has)
        self.remove_button.setEnabled(has)

    def _current_account(self) -> str | None:
        item = self.account_list.currentItem() if hasattr(self, "account_list") else None
        return str(item.data(ROLE)) if item is not None else None

    def _add_account(self) -> AccountDialog:
        dialog = AccountDialog(self)

        def done() -> None:
            assert dialog.result_config is not None
            try:
                self.controller.add_account(dialog.result_config, dialog.result_extras)
            except ValueError as exc:
                QMessageBox.warning(self, self.tr("Account"), str(exc))

        dialog.accepted.connect(done)
        dialog.open()
        self.dialogs.append(dialog)
        return dialog

    def _edit_account(self) -> AccountDialog | None:
        account_id = self._current_account()
        if account_id is None and self.account_list.count():
            account_id = str(self.account_list.item(0).data(ROLE))
        if account_id is None or account_id not in self.controller.accounts:
            return None
        status = self.controller.accounts[account_id]
        dialog = AccountDialog(self, config=status.config, extras=self.controller.prefs.extras(account_id))

        def done() -> None:
            assert dialog.result_config is not None
            try:
                self.controller.update_account(account_id, dialog.result_config, dialog.result_extras)
            except ValueError as exc:
                QMessageBox.warning(self, self.tr("Account"), str(exc))

        dialog.accepted.connect(done)
        dialog.open()
        self.dialogs.append(dialog)
        return dialog

    def _remove_account(self) -> None:
        account_id = self._current_account()
        if account_id is None:
            return
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

    # -- audio --
    def _audio_page(self) -> QWidget:
        from ..core.device_media import list_devices

        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.devices = list_devices()
        inputs = [d for d in self.devices if d.inputs]
        outputs = [d for d in self.devices if d.outputs]
        self.no_devices = QLabel(
            self.tr(
                "<b>No sound devices were found.</b><br>Calls still connect, but the other side hears "
                "silence and you hear nothing. Plug in a headset, or check that the sound server "
                "(PipeWire or PulseAudio) is running, then open the settings again."
            ),
            page,
        )
        self.no_devices.setWordWrap(True)
        self.no_devices.setAccessibleName(self.tr("No sound devices"))
        self.no_devices.setStyleSheet(f"border: 1px solid {AMBER}; border-radius: 6px; padding: 8px;")
        self.no_devices.setVisible(not inputs or not outputs)
        if inputs and not outputs:
            self.no_devices.setText(
                self.tr("No speaker or headphones were found: you will not hear the calls.")
            )
        elif outputs and not inputs:
            self.no_devices.setText(self.tr("No microphone was found: the other side will hear silence."))
        layout.addWidget(self.no_devices)
        form = QFormLayout()
        server = {role: self.controller.sound_server_device(role) for role in ("microphone", "speaker")}
        self.input_device = self._device_combo(
            inputs, self.prefs.input_device, self.tr("Microphone"), server["microphone"]
        )
        self.output_device = self._device_combo(
            outputs, self.prefs.output_device, self.tr("Speaker"), server["speaker"]
        )
        self.ringing_device = self._device_combo(
            outputs, self.prefs.ringing_device, self.tr("Ringing device"), server["speaker"]
        )
        form.addRow(self.tr("&Microphone:"), self.input_device)
        form.addRow(self.tr("&Speaker:"), self.output_device)
        form.addRow(self.tr("&Ring on:"), self.ringing_device)
        layout.addLayout(form)
        tests = QHBoxLayout()
        self.mic_test = QPushButton(icon("mic"), self.tr("Test &microphone"), page)
        self.mic_test.setCheckable(True)
        self.mic_test.setEnabled(bool(inputs))
        self.mic_test.toggled.connect(self._mic_test)
        self.speaker_test = QPushButton(icon("speaker"), self.tr("Play &test tone"), page)
        self.speaker_test.setEnabled(bool(outputs))
        self.speaker_test.clicked.connect(self._speaker_test)
        self.level = QProgressBar(page)
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        self.level.setAccessibleName(self.tr("Microphone level"))
        self.level.setMaximumHeight(12)
        tests.addWidget(self.mic_test)
        tests.addWidget(self.speaker_test)
        tests.addStretch(1)
        layout.addLayout(tests)
        layout.addWidget(self.level)
        layout.addStretch(1)
        return page

    def _device_combo(
        self, devices: list[Any], current: str | None, name: str, server: str | None = None
    ) -> QComboBox:
        combo = QComboBox(self)
        combo.setAccessibleName(name)
        combo.addItem(self.tr("System default"), None)
        for device in devices:
            combo.addItem(device_label(device.name, server), device.name)
        index = combo.findData(current) if current else 0
        combo.setCurrentIndex(max(0, index))
        combo.setEnabled(bool(devices))
        return combo

    def _mic_test(self, on: bool) -> None:
        self._stop_test()
        if not on:
            return
        from ..core.device_media import AudioDeviceError, SoundDeviceSource

        try:
            self._test = ("mic", SoundDeviceSource(self._device_index(self.input_device.currentData(), True)))
        except AudioDeviceError as exc:
            self.mic_test.setChecked(False)
            QMessageBox.warning(self, self.tr("Microphone"), str(exc))
            return
        self._test_timer.start()

    def _speaker_test(self) -> None:
        self._stop_test()
        from ..core.device_media import AudioDeviceError, SoundDeviceSink

        try:
            sink = SoundDeviceSink(self._device_index(self.output_device.currentData(), False))
        except AudioDeviceError as exc:
            QMessageBox.warning(self, self.tr("Speaker"), str(exc))
            return
        self._test = ("tone", sink, 0)
        self._test_timer.start()

    def _device_index(self, name: str | None, inputs: bool) -> int | None:
        for device in self.devices:
            if device.name == name and (device.inputs if inputs else device.outputs):
                return int(device.index)
        return None

    def _test_step(self) -> None:
        import numpy as np

        if self._test is None:
            self._test_timer.stop()
            return
        if self._test[0] == "mic":
            frame = self._test[1].read()
            peak = float(np.abs(frame.astype(np.int32)).max()) if frame.size else 0.0
            self.level.setValue(int(100 * math.sqrt(peak / 32768)))
            return
        _, sink, n = self._test
        if n >= 50:  # one second
            self._stop_test()
            return
        t = (np.arange(960) + n * 960) / 48000
        sink.write((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16))
        self._test = ("tone", sink, n + 1)

    def _stop_test(self) -> None:
        self._test_timer.stop()
        if self._test is not None:
            try:
                self._test[1].close()
            except Exception:
                pass
        self._test = None
        self.level.setValue(0)

    # -- calls --
    def _calls_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addWidget(
            QLabel(self.tr("Codecs, in the order they are offered (untick to never use one):"), page)
        )
        row = QHBoxLayout()
        self.codecs = QListWidget(page)
        self.codecs.setAccessibleName(self.tr("Codec order"))
        self.codecs.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        order = list(self.prefs.codecs) + [c for c in ALL_CODECS if c not in self.prefs.codecs]
        for codec in order:
            item = QListWidgetItem(CODEC_NAMES.get(codec, codec))
            item.setData(ROLE, codec)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if codec in self.prefs.codecs else Qt.CheckState.Unchecked
            )
            self.codecs.addItem(item)
        row.addWidget(self.codecs, 1)
        moves = QVBoxLayout()
        up = QPushButton(self.tr("Move &up"), page)
        up.setAccessibleName(self.tr("Move the codec up"))
        up.clicked.connect(lambda: self._move_codec(-1))
        down = QPushButton(self.tr("Move &down"), page)
        down.setAccessibleName(self.tr("Move the codec down"))
        down.clicked.connect(lambda: self._move_codec(1))
        moves.addWidget(up)
        moves.addWidget(down)
        moves.addStretch(1)
        row.addLayout(moves)
        layout.addLayout(row)
        form = QFormLayout()
        self.default_srtp = QComboBox(page)
        self.default_srtp.setAccessibleName(self.tr("Media encryption for incoming and direct calls"))
        for value, text in (
            ("off", self.tr("Off")),
            ("optional", self.tr("When the other side offers it")),
            ("required", self.tr("Required")),
        ):
            self.default_srtp.addItem(text, value)
        self.default_srtp.setCurrentIndex(max(0, self.default_srtp.findData(self.prefs.default_srtp)))
        form.addRow(self.tr("Encryption for &incoming and direct calls:"), self.default_srtp)
        layout.addLayout(form)
        self.dnd = QCheckBox(self.tr("Do &not disturb (callers hear busy)"), page)
        self.dnd.setChecked(self.controller.do_not_disturb)
        layout.addWidget(self.dnd)
        layout.addStretch(1)
        return page

    def _move_codec(self, step: int) -> None:
        row = self.codecs.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.codecs.count():
            return
        item = self.codecs.takeItem(row)
        self.codecs.insertItem(target, item)
        self.codecs.setCurrentRow(target)

    def codec_order(self) -> list[str]:
        out = []
        for row in range(self.codecs.count()):
            item = self.codecs.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(ROLE)))
        return out

    # -- general --
    def _general_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.theme = QComboBox(page)
        self.theme.setAccessibleName(self.tr("Appearance"))
        names = {"system": self.tr("Follow the system"), "light": self.tr("Light"), "dark": self.tr("Dark")}
        for value in THEMES:
            self.theme.addItem(names[value], value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(self.prefs.theme)))
        form.addRow(self.tr("A&ppearance:"), self.theme)
        self.language = QComboBox(page)
        self.language.setAccessibleName(self.tr("Language"))
        self.language.addItem(self.tr("Follow the system"), "")
        self.language.addItem("English", "en")
        for code in available_languages():
            self.language.addItem(QLocale(code).nativeLanguageName().capitalize() or code, code)
        self.language.setCurrentIndex(max(0, self.language.findData(self.prefs.language)))
        self.language.setToolTip(self.tr("Takes effect when the phone starts again"))
        form.addRow(self.tr("&Language:"), self.language)
        layout.addLayout(form)
        self.autostart = QCheckBox(self.tr("Start with the &system (when you log in)"), page)
        self.autostart.setChecked(autostart.is_enabled())
        layout.addWidget(self.autostart)
        # without a system tray, a hidden phone could not be found again: do not offer it
        tray = Tray.available()
        self.close_to_tray = QCheckBox(
            self.tr("Closing the window keeps the phone running in the &tray"), page
        )
        self.close_to_tray.setChecked(self.prefs.close_to_tray and tray)
        self.start_hidden = QCheckBox(self.tr("Start &hidden in the tray"), page)
        self.start_hidden.setChecked(self.prefs.start_hidden and tray)
        for box in (self.close_to_tray, self.start_hidden):
            box.setVisible(tray)
            layout.addWidget(box)
        recordings = QHBoxLayout()
        self.recordings_dir = QLineEdit(str(self.controller.recordings_folder()), page)
        self.recordings_dir.setAccessibleName(self.tr("Folder for call recordings"))
        choose = QPushButton(self.tr("Ch&oose…"), page)
        choose.clicked.connect(self._choose_recordings_dir)
        recordings.addWidget(self.recordings_dir, 1)
        recordings.addWidget(choose)
        label = QLabel(self.tr("Call &recordings go to:"), page)
        label.setBuddy(self.recordings_dir)
        layout.addWidget(label)
        layout.addLayout(recordings)
        links = QHBoxLayout()
        self.url_handler_button = QPushButton(self.tr("Open sip: and tel: links &with Softphone"), page)
        self.url_handler_button.clicked.connect(self._make_default_for_links)
        links.addWidget(self.url_handler_button)
        links.addStretch(1)
        layout.addLayout(links)
        self.url_handler_result = QLabel(page)
        self.url_handler_result.setWordWrap(True)
        layout.addWidget(self.url_handler_result)
        layout.addStretch(1)
        return page

    def _choose_recordings_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Folder for call recordings"), self.recordings_dir.text()
        )
        if folder:
            self.recordings_dir.setText(folder)

    def _make_default_for_links(self) -> None:
        try:
            text = url_handler.make_default()
        except OSError as exc:
            text = self.tr("Could not register the links: {error}").format(error=exc)
        self.url_handler_result.setText(text)

    # -- saving --
    def accept(self) -> None:
        codecs = self.codec_order()
        if not codecs:
            QMessageBox.warning(self, self.tr("Codecs"), self.tr("At least one codec must stay ticked."))
            return
        self._stop_test()
        prefs = self.prefs
        prefs.codecs = codecs
        prefs.input_device = self.input_device.currentData()
        prefs.output_device = self.output_device.currentData()
        prefs.ringing_device = self.ringing_device.currentData()
        prefs.default_srtp = str(self.default_srtp.currentData())
        if Tray.available():
            prefs.close_to_tray = self.close_to_tray.isChecked()
            prefs.start_hidden = self.start_hidden.isChecked()
        prefs.language = str(self.language.currentData())
        chosen = self.recordings_dir.text().strip()
        if chosen != str(self.controller.recordings_folder()):
            prefs.recordings_dir = chosen
        if self.autostart.isChecked() != autostart.is_enabled():
            try:
                autostart.set_enabled(self.autostart.isChecked())
            except OSError as exc:
                QMessageBox.warning(self, self.tr("Start with the system"), str(exc))
        theme = str(self.theme.currentData())
        if theme != prefs.theme:
            prefs.theme = theme
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_scheme(app, theme)
        self.controller.save_prefs()
        if self.dnd.isChecked() != self.controller.do_not_disturb:
            self.controller.set_do_not_disturb(self.dnd.isChecked())
        super().accept()

    def reject(self) -> None:
        self._stop_test()
        super().reject()
