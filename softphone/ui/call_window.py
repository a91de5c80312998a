"""One window per call: who, state and timer, mute, hold, keypad, quality, hang up; Answer/Decline."""

from __future__ import annotations

import re

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeyEvent, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .controller import CallInfo, PhoneController, device_label, display_address
from .dialpad import DialPad
from .history_view import format_duration
from .quality import quality_label
from .screen_fit import ContentScroll, fit_to_screen
from .theme import AMBER, BLUE, GREEN, RED, call_button_style, hangup_button_style, icon, muted_color

AUTO_CLOSE_MS = 4000

SHORTCUT_ANSWER = "Ctrl+Shift+A"
SHORTCUT_HANGUP = "Ctrl+Shift+E"
SHORTCUT_MUTE = "Ctrl+Shift+M"
SHORTCUT_HOLD = "Ctrl+Shift+H"
SHORTCUT_KEYPAD = "Ctrl+Shift+K"
SHORTCUT_QUALITY = "Ctrl+Shift+Q"
SHORTCUT_TRANSFER = "Ctrl+Shift+T"
SHORTCUT_AUDIO = "Ctrl+Shift+U"
METER_FLOOR_DB = -60  # the level meters show -60 dBFS (silence) to 0 dBFS (full scale)


def avatar_initials(name: str) -> str:
    """ "BS" for Bob Smith, "B" for bob@127.0.0.1 (the user part only: a host is not a name), "#" for a
    number."""
    text = name.strip()
    if "@" in text and " " not in text:
        text = text.split("@", 1)[0]
    words = [w for w in re.split(r"[\s._\-]+", text) if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "#"


def avatar(name: str, size: int, ratio: float = 1.0) -> QPixmap:
    """A coloured circle with the initials of the name."""
    initials = avatar_initials(name)
    palette = ["#1e88e5", "#43a047", "#8e24aa", "#f4511e", "#00897b", "#6d4c41", "#3949ab", "#c0ca33"]
    color = QColor(palette[sum(map(ord, name)) % len(palette)])
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(0, 0, size, size))
    font = painter.font()
    font.setPixelSize(int(size * 0.38))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials)
    painter.end()
    return pixmap


class CallWindow(QWidget):
    """Shows one call and drives it through the controller."""

    closed = Signal(str)
    add_call_requested = Signal()  # the user wants the dialer for a second call

    def __init__(self, controller: PhoneController, call_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.controller = controller
        self.call_id = call_id
        self.auto_close_ms = AUTO_CLOSE_MS
        self.setObjectName("CallWindow")
        self.setAccessibleName(self.tr("Call"))
        self.setMinimumWidth(340)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 18)
        layout.setSpacing(10)

        header = QHBoxLayout()
        header.setSpacing(12)
        self.avatar = QLabel(self)
        self.avatar.setFixedSize(QSize(56, 56))
        self.avatar.setAccessibleName(self.tr("Picture"))
        header.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(2)
        self.name_label = QLabel(self)
        self.name_label.setAccessibleName(self.tr("Name"))
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label = QLabel(self)
        self.address_label.setAccessibleName(self.tr("Number or address"))
        self.address_label.setWordWrap(True)
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        names.addWidget(self.name_label)
        names.addWidget(self.address_label)
        header.addLayout(names, 1)
        layout.addLayout(header)

        state_row = QHBoxLayout()
        self.state_label = QLabel(self)
        self.state_label.setAccessibleName(self.tr("Call state"))
        self.state_label.setWordWrap(True)
        self.timer_label = QLabel("0:00", self)
        self.timer_label.setAccessibleName(self.tr("Call duration"))
        timer_font = self.timer_label.font()
        timer_font.setPointSizeF(timer_font.pointSizeF() * 1.25)
        timer_font.setFamily("monospace")
        timer_font.setStyleHint(timer_font.StyleHint.Monospace)
        self.timer_label.setFont(timer_font)
        state_row.addWidget(self.state_label, 1)
        # the call is being recorded: always in sight while it is
        self.recording_label = QLabel(self.tr("\u25cf REC"), self)
        self.recording_label.setAccessibleName(self.tr("This call is being recorded"))
        self.recording_label.setStyleSheet(f"color: {RED}; font-weight: 700;")
        self.recording_label.hide()
        state_row.addWidget(self.recording_label)
        state_row.addWidget(self.timer_label, 0, Qt.AlignmentFlag.AlignRight)
        layout.addLayout(state_row)
        # which of the user's accounts the call is for (several accounts: work or private?)
        self.account_label = QLabel(self)
        self.account_label.setAccessibleName(self.tr("Account"))
        self.account_label.hide()
        layout.addWidget(self.account_label)

        # incoming: Answer / Decline
        self.incoming_box = QWidget(self)
        incoming = QHBoxLayout(self.incoming_box)
        incoming.setContentsMargins(0, 6, 0, 6)
        self.answer_button = QPushButton(icon("phone", "white"), self.tr("&Answer"), self)
        self.answer_button.setAccessibleName(self.tr("Answer"))
        self.answer_button.setToolTip(self.tr("Answer the call ({key})").format(key=SHORTCUT_ANSWER))
        self.answer_button.setStyleSheet(call_button_style())
        self.answer_button.setMinimumHeight(44)
        self.answer_button.clicked.connect(self.answer)
        self.decline_button = QPushButton(icon("phone-hangup", "white"), self.tr("&Decline"), self)
        self.decline_button.setAccessibleName(self.tr("Decline"))
        self.decline_button.setToolTip(self.tr("Decline the call ({key})").format(key=SHORTCUT_HANGUP))
        self.decline_button.setStyleSheet(hangup_button_style())
        self.decline_button.setMinimumHeight(44)
        self.decline_button.clicked.connect(self.hangup)
        incoming.addWidget(self.answer_button, 1)
        incoming.addWidget(self.decline_button, 1)
        layout.addWidget(self.incoming_box)

        # in the call: the controls
        self.controls = QWidget(self)
        controls = QHBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(6)
        self.mute_button = self._toggle("mic", self.tr("Mute"), self.tr("Mute the microphone"), SHORTCUT_MUTE)
        self.mute_button.toggled.connect(self._mute)
        self.hold_button = self._toggle(
            "pause", self.tr("Hold"), self.tr("Put the call on hold"), SHORTCUT_HOLD
        )
        self.hold_button.toggled.connect(self._hold)
        self.keypad_button = self._toggle(
            "dialpad", self.tr("Keypad"), self.tr("Show the keypad"), SHORTCUT_KEYPAD
        )
        self.keypad_button.toggled.connect(self._show_keypad)
        self.quality_button = self._toggle(
            "quality", self.tr("Quality"), self.tr("Show the call quality"), SHORTCUT_QUALITY
        )
        self.quality_button.toggled.connect(self._show_quality)
        self.audio_button = self._toggle(
            "speaker", self.tr("Audio"), self.tr("Show devices, volume and levels"), SHORTCUT_AUDIO
        )
        self.audio_button.toggled.connect(self._show_audio)
        for button in (
            self.mute_button,
            self.hold_button,
            self.keypad_button,
            self.audio_button,
            self.quality_button,
        ):
            controls.addWidget(button)
        # the middle scrolls (controls, meters, panels); the header and Hang up stay in sight
        self.body = QWidget(self)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(10)
        body.addWidget(self.controls)

        # level meters, always in sight while connected: is my microphone working, do they speak?
        self.mic_meter = self._meter(self.tr("Microphone level"))
        self.speaker_meter = self._meter(self.tr("Speaker level"))
        self.meters = QWidget(self)
        meters = QFormLayout(self.meters)
        meters.setContentsMargins(0, 0, 0, 0)
        meters.addRow(self.tr("Mic"), self.mic_meter)
        meters.addRow(self.tr("Speaker"), self.speaker_meter)
        body.addWidget(self.meters)

        # audio panel: device, volume and gain of this call
        self.audio_box = QFrame(self)
        self.audio_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.audio_box.setAccessibleName(self.tr("Audio of this call"))
        audio = QFormLayout(self.audio_box)
        self.mic_device = QComboBox(self.audio_box)
        self.mic_device.setAccessibleName(self.tr("Microphone"))
        self.speaker_device = QComboBox(self.audio_box)
        self.speaker_device.setAccessibleName(self.tr("Speaker"))
        self.gain_slider = self._slider(self.tr("Microphone gain"))
        self.volume_slider = self._slider(self.tr("Speaker volume"))
        audio.addRow(self.tr("&Microphone:"), self.mic_device)
        audio.addRow(self.tr("&Gain:"), self.gain_slider)
        audio.addRow(self.tr("&Speaker:"), self.speaker_device)
        audio.addRow(self.tr("&Volume:"), self.volume_slider)
        self.mic_device.activated.connect(lambda _i: self._device_picked("microphone", self.mic_device))
        self.speaker_device.activated.connect(lambda _i: self._device_picked("speaker", self.speaker_device))
        self.gain_slider.valueChanged.connect(
            lambda v: None if self._updating else self.controller.set_gain(self.call_id, v / 100)
        )
        self.volume_slider.valueChanged.connect(
            lambda v: None if self._updating else self.controller.set_volume(self.call_id, v / 100)
        )
        self.audio_box.hide()
        body.addWidget(self.audio_box)

        # more than one call: transfer, add a call, merge
        self.more_controls = QWidget(self)
        more = QHBoxLayout(self.more_controls)
        more.setContentsMargins(0, 0, 0, 0)
        more.setSpacing(6)
        self.transfer_button = self._action(
            "transfer",
            self.tr("Transfer"),
            self.tr("Transfer the call ({key})").format(key=SHORTCUT_TRANSFER),
        )
        self.transfer_menu = QMenu(self.transfer_button)
        self.transfer_menu.aboutToShow.connect(self._fill_transfer_menu)
        self.transfer_button.setMenu(self.transfer_menu)
        self.transfer_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_call_button = self._action(
            "add-call", self.tr("Add call"), self.tr("Put this call on hold and call someone else")
        )
        self.add_call_button.clicked.connect(self._add_call)
        self.merge_button = self._action(
            "merge", self.tr("Merge"), self.tr("Merge the calls into a conference")
        )
        self.merge_button.clicked.connect(self._merge)
        self.record_button = self._action(
            "record", self.tr("Record"), self.tr("Record the call (both sides)")
        )
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self._record)
        for button in (self.transfer_button, self.add_call_button, self.merge_button, self.record_button):
            more.addWidget(button)
        body.addWidget(self.more_controls)

        self.keypad_box = QWidget(self)
        keypad = QVBoxLayout(self.keypad_box)
        keypad.setContentsMargins(0, 0, 0, 0)
        self.dtmf_label = QLabel(self)
        self.dtmf_label.setAccessibleName(self.tr("Keys sent"))
        self.dtmf_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dtmf_label.setMinimumHeight(22)
        self.dialpad = DialPad(self, compact=True)
        self.dialpad.pressed.connect(self.send_dtmf)
        keypad.addWidget(self.dtmf_label)
        keypad.addWidget(self.dialpad)
        self.keypad_box.hide()
        body.addWidget(self.keypad_box)

        self.quality_box = QFrame(self)
        self.quality_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.quality_box.setAccessibleName(self.tr("Call quality"))
        quality = QFormLayout(self.quality_box)
        quality.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.q_estimate = QLabel("–", self)
        self.q_codec = QLabel("–", self)
        self.q_srtp = QLabel("–", self)
        self.q_jitter = QLabel("–", self)
        self.q_loss = QLabel("–", self)
        self.q_rtt = QLabel("–", self)
        self.q_packets = QLabel("–", self)
        for label, widget in (
            (self.tr("Quality:"), self.q_estimate),
            (self.tr("Codec:"), self.q_codec),
            (self.tr("Encryption:"), self.q_srtp),
            (self.tr("Jitter:"), self.q_jitter),
            (self.tr("Packet loss:"), self.q_loss),
            (self.tr("Round trip:"), self.q_rtt),
            (self.tr("Packets sent / received:"), self.q_packets),
        ):
            widget.setAccessibleName(label.rstrip(":"))
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            quality.addRow(label, widget)
        self.quality_box.hide()
        body.addWidget(self.quality_box)

        body.addStretch(1)
        self.scroll = ContentScroll(self.body, self)
        layout.addWidget(self.scroll, 1)

        self.hangup_button = QPushButton(icon("phone-hangup", "white"), self.tr("&Hang up"), self)
        self.hangup_button.setAccessibleName(self.tr("Hang up"))
        self.hangup_button.setToolTip(self.tr("End the call ({key})").format(key=SHORTCUT_HANGUP))
        self.hangup_button.setStyleSheet(hangup_button_style())
        self.hangup_button.setMinimumHeight(44)
        self.hangup_button.clicked.connect(self.hangup)
        layout.addWidget(self.hangup_button)
        self.close_button = QPushButton(self.tr("&Close"), self)
        self.close_button.setAccessibleName(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        self.close_button.hide()
        layout.addWidget(self.close_button)

        for key, slot in (
            (SHORTCUT_MUTE, self.mute_button.toggle),
            (SHORTCUT_HOLD, self.hold_button.toggle),
            (SHORTCUT_KEYPAD, self.keypad_button.toggle),
            (SHORTCUT_QUALITY, self.quality_button.toggle),
            (SHORTCUT_TRANSFER, self.transfer_button.showMenu),
            (SHORTCUT_AUDIO, self.audio_button.toggle),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(100)
        self._meter_timer.timeout.connect(self._update_meters)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_timer)
        self._closing = QTimer(self)
        self._closing.setSingleShot(True)
        self._closing.timeout.connect(self.close)
        self._updating = False
        controller.call_changed.connect(self._changed)
        self.update_view()

    def _toggle(self, icon_name: str, text: str, description: str, key: str) -> QToolButton:
        button = self._action(icon_name, text, f"{description} ({key})")
        button.setCheckable(True)
        button.setAccessibleDescription(description)
        return button

    def _meter(self, name: str) -> QProgressBar:
        meter = QProgressBar(self)
        meter.setRange(METER_FLOOR_DB, 0)
        meter.setValue(METER_FLOOR_DB)
        meter.setTextVisible(False)
        meter.setMaximumHeight(8)
        meter.setAccessibleName(name)
        return meter

    def _slider(self, name: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal, self)
        slider.setRange(0, 200)  # percent; 100 leaves the audio as it is
        slider.setValue(100)
        slider.setPageStep(10)
        slider.setAccessibleName(name)
        return slider

    def _action(self, icon_name: str, text: str, description: str) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setIconSize(QSize(22, 22))
        button.setText(text)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setAccessibleName(text)
        button.setAccessibleDescription(description)
        button.setToolTip(description)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        button.setMinimumHeight(56)
        return button

    def _record(self, on: bool) -> None:
        if self._updating:
            return
        self.controller.set_recording(self.call_id, on)
        self.update_view()  # a refused start unticks the button again

    # -- state --
    @property
    def info(self) -> CallInfo | None:
        return self.controller.calls.get(self.call_id)

    def _changed(self, call_id: str) -> None:
        # another call changing matters too: it enables Merge and the attended transfer
        self.update_view()

    def state_text(self, info: CallInfo) -> str:
        if info.state == "calling" or info.state == "new":
            return self.tr("Calling…")
        if info.state == "ringing":
            return self.tr("Ringing…")
        if info.state == "early":
            return self.tr("Ringing (early media)…")
        if info.state == "incoming":
            return self.tr("Incoming call")
        if info.state == "connected":
            if info.local_hold:
                return self.tr("On hold")
            if info.remote_hold:
                return self.tr("Held by the other side")
            return self.tr("Connected")
        return self.tr("Call ended: {why}").format(why=self.end_text(info))

    def end_text(self, info: CallInfo) -> str:
        reason = info.end_reason or ""
        status = info.end_status
        if reason == "local hangup":
            return self.tr("you hung up")
        if reason == "remote hangup":
            return self.tr("the other side hung up")
        if reason.startswith("media timeout"):
            return self.tr("the connection was lost (no audio from the other side)")
        if reason.startswith("cancelled by caller"):
            return self.tr("the caller hung up")
        if info.declined or status == 603:
            return self.tr("declined")
        words = {
            486: self.tr("busy"),
            600: self.tr("busy"),
            487: self.tr("cancelled"),
            404: self.tr("nobody with this number or address"),
            480: self.tr("not available right now"),
            408: self.tr("no answer"),
            403: self.tr("not allowed"),
            401: self.tr("the provider refused the call (check the password)"),
            407: self.tr("the provider refused the call (check the password)"),
            488: self.tr("no common audio format"),
            503: self.tr("cannot reach the other side"),
        }
        if status in words:
            return words[status]
        return reason or self.tr("finished")

    def update_view(self) -> None:
        info = self.info
        if info is None:
            return
        self._updating = True
        try:
            self.setWindowTitle(self.tr("Call with {peer}").format(peer=info.peer))
            ratio = self.devicePixelRatioF()
            self.avatar.setPixmap(avatar(info.peer, 56, ratio))
            self.name_label.setText(info.peer)
            address = display_address(info.remote_uri)
            self.address_label.setText(address if address != info.peer else "")
            self.address_label.setVisible(address != info.peer)
            self.address_label.setStyleSheet(f"color: {muted_color(self)};")
            self.state_label.setText(self.state_text(info))
            color = {"connected": GREEN, "incoming": BLUE, "ended": RED}.get(info.state, AMBER)
            if info.connected and (info.local_hold or info.remote_hold):
                color = AMBER
            self.state_label.setStyleSheet(f"color: {color}; font-weight: 600;")
            incoming = info.state == "incoming"
            ended = info.state == "ended"
            account = self.controller.accounts.get(info.account) if info.account else None
            if account is not None:
                text = self.tr("To {account}") if info.direction == "incoming" else self.tr("From {account}")
                self.account_label.setText(text.format(account=account.title))
                self.account_label.setStyleSheet(f"color: {muted_color(self)};")
            elif info.direction == "incoming":
                self.account_label.setText(self.tr("Direct call (no account)"))
            self.account_label.setVisible(account is not None or info.direction == "incoming")
            self.incoming_box.setVisible(incoming)
            self.controls.setVisible(not incoming and not ended)
            self.more_controls.setVisible(not incoming and not ended)
            self.meters.setVisible(info.connected)
            if info.connected and not self._meter_timer.isActive():
                self._meter_timer.start()
            elif not info.connected:
                self._meter_timer.stop()
            self.gain_slider.setValue(round(info.gain * 100))
            self.volume_slider.setValue(round(info.volume * 100))
            self.audio_button.setEnabled(info.connected)
            others = self.controller.transfer_targets(self.call_id)
            self.transfer_button.setEnabled(info.connected)
            self.add_call_button.setEnabled(info.connected)
            self.merge_button.setEnabled(info.connected and bool(others) and not info.conference)
            self.record_button.setEnabled(info.connected)
            self.record_button.setChecked(info.recording_on)
            self.recording_label.setVisible(info.recording_on)
            if info.recording:
                where = self.tr("Recorded to {path}").format(path=info.recording)
                self.record_button.setToolTip(where)
                self.recording_label.setToolTip(where)
            self.hangup_button.setVisible(not incoming and not ended)
            self.close_button.setVisible(ended)
            for button in (self.mute_button, self.hold_button, self.keypad_button):
                button.setEnabled(info.connected)
            self.quality_button.setEnabled(not incoming)
            self.mute_button.setChecked(info.muted)
            self.mute_button.setIcon(icon("mic-off" if info.muted else "mic"))
            self.mute_button.setText(self.tr("Unmute") if info.muted else self.tr("Mute"))
            self.mute_button.setAccessibleName(self.mute_button.text())
            self.hold_button.setChecked(info.local_hold)
            self.hold_button.setText(self.tr("Resume") if info.local_hold else self.tr("Hold"))
            self.hold_button.setAccessibleName(self.hold_button.text())
            if ended:
                self.keypad_box.hide()
            self._update_quality(info)
            self._update_timer()
            if info.connected and not self._tick.isActive():
                self._tick.start()
            if ended:
                self._tick.stop()
                self._stay_on_top(False)
                if self.auto_close_ms >= 0 and not self._closing.isActive():
                    self._closing.start(self.auto_close_ms)
            self._grow_to_content()
        finally:
            self._updating = False

    def _grow_to_content(self) -> None:
        """When the call connects, controls and meters appear: grow to show them where the screen has room
        (the scroll area would otherwise hide them below a window sized for "Calling…")."""
        if not self.isVisible():
            return
        body = self.scroll.widget()
        if body is not None and body.sizeHint().height() > self.scroll.viewport().height() + 1:
            fit_to_screen(self)

    def _update_timer(self) -> None:
        info = self.info
        if info is None:
            return
        self.timer_label.setText(format_duration(info.duration))
        self.timer_label.setVisible(info.answered_at is not None)

    def _update_quality(self, info: CallInfo) -> None:
        media, stats = info.media, info.stats
        codec = media.get("codec")
        if codec:
            rate = media.get("clock_rate")
            self.q_codec.setText(f"{codec} ({rate / 1000:g} kHz)" if rate else str(codec))
        if "srtp" in media:
            self.q_srtp.setText(self.tr("SRTP on") if media.get("srtp") else self.tr("Off (not encrypted)"))
            self.q_srtp.setStyleSheet("" if media.get("srtp") else f"color: {AMBER};")
        jitter = stats.get("jitter_ms")
        if jitter is not None:
            self.q_jitter.setText(self.tr("{ms} ms").format(ms=f"{jitter:.1f}"))
        lost = stats.get("fraction_lost")
        if lost is not None:
            self.q_loss.setText(
                self.tr("{percent} % ({packets} packets)").format(
                    percent=f"{100 * lost:.1f}", packets=stats.get("packets_lost", 0)
                )
            )
        rtt = stats.get("rtt_ms")
        self.q_rtt.setText(
            self.tr("{ms} ms").format(ms=f"{rtt:.0f}") if rtt is not None else self.tr("not measured yet")
        )
        if "packets_sent" in stats:
            self.q_packets.setText(f"{stats.get('packets_sent', 0)} / {stats.get('packets_received', 0)}")
        mos = info.quality()
        words = {
            "Excellent": self.tr("Excellent"),
            "Good": self.tr("Good"),
            "Fair": self.tr("Fair"),
            "Poor": self.tr("Poor"),
            "Bad": self.tr("Bad"),
            "Unknown": self.tr("Not measured yet"),
        }[quality_label(mos)]
        self.q_estimate.setText(f"{words} ({mos:.1f} / 4.5)" if mos is not None else words)

    # -- actions --
    def answer(self) -> None:
        self.controller.answer(self.call_id)

    def hangup(self) -> None:
        info = self.info
        if info is None:
            return
        if info.state == "incoming":
            self.controller.decline(self.call_id)
        else:
            self.controller.hangup(self.call_id)

    def _mute(self, on: bool) -> None:
        if not self._updating:
            self.controller.set_mute(self.call_id, on)

    def _hold(self, on: bool) -> None:
        if not self._updating:
            self.controller.set_hold(self.call_id, on)

    def _fill_transfer_menu(self) -> None:
        menu = self.transfer_menu
        menu.clear()
        blind = menu.addAction(self.tr("Transfer to a number or address…"))
        blind.triggered.connect(self._blind_transfer)
        for other in self.controller.transfer_targets(self.call_id):
            action = menu.addAction(self.tr("Hand over to {peer} (attended)").format(peer=other.peer))
            action.triggered.connect(lambda _checked=False, oid=other.id: self.attended_transfer(oid))

    def _blind_transfer(self) -> None:
        text, ok = QInputDialog.getText(
            self, self.tr("Transfer"), self.tr("Transfer the call to (number or SIP address):")
        )
        if ok and text.strip():
            self.blind_transfer(text)

    def blind_transfer(self, target: str) -> bool:
        return self.controller.transfer(self.call_id, target)

    def attended_transfer(self, other_id: str) -> bool:
        return self.controller.transfer_attended(self.call_id, other_id)

    def _add_call(self) -> None:
        info = self.info
        if info is not None and info.connected and not info.local_hold:
            self.controller.set_hold(self.call_id, True)
        self.add_call_requested.emit()

    def _merge(self) -> None:
        others = [c.id for c in self.controller.transfer_targets(self.call_id)]
        self.controller.merge([self.call_id, *others])

    def _show_audio(self, on: bool) -> None:
        if on:
            self._fill_devices()
        self.audio_box.setVisible(on)
        fit_to_screen(self)

    def _fill_devices(self) -> None:
        info = self.info
        chosen = info.devices if info is not None else {}
        for role, combo in (("microphone", self.mic_device), ("speaker", self.speaker_device)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(self.tr("System default"), None)
            server = self.controller.sound_server_device(role)
            for name in self.controller.device_names(role):
                combo.addItem(device_label(name, server), name)
            combo.setCurrentIndex(max(0, combo.findData(chosen.get(role))) if chosen.get(role) else 0)
            combo.blockSignals(False)

    def _device_picked(self, role: str, combo: QComboBox) -> None:
        self.controller.use_device(self.call_id, role, combo.currentData())

    def _update_meters(self) -> None:
        info = self.info
        if info is None:
            return
        for key, meter in (("mic", self.mic_meter), ("speaker", self.speaker_meter)):
            level = info.levels.get(key) or {}
            peak = level.get("peak") if isinstance(level, dict) else None
            db = METER_FLOOR_DB if peak is None or info.muted and key == "mic" else peak
            meter.setValue(int(max(METER_FLOOR_DB, min(0.0, float(db)))))

    def _show_keypad(self, on: bool) -> None:
        self.keypad_box.setVisible(on)
        fit_to_screen(self)

    def _show_quality(self, on: bool) -> None:
        self.quality_box.setVisible(on)
        fit_to_screen(self)

    def send_dtmf(self, key: str) -> None:
        info = self.info
        if info is None or not info.connected or key not in "0123456789*#":
            return
        self.controller.send_dtmf(self.call_id, key)
        self.dtmf_label.setText((self.dtmf_label.text() + key)[-24:])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        info = self.info
        if text and text in "0123456789*#" and info is not None and info.connected:
            self.send_dtmf(text)
            return
        super().keyPressEvent(event)

    def present(self) -> None:
        """Show the window in front; an incoming call stays on top and asks for attention."""
        info = self.info
        if info is not None and info.state == "incoming":
            self._stay_on_top(True)
        fit_to_screen(self)
        self.show()
        self.raise_()
        self.activateWindow()
        if info is not None and info.state == "incoming":
            QApplication.alert(self)
            self.answer_button.setFocus()

    def _stay_on_top(self, on: bool) -> None:
        """An incoming call stays on top; after it, the window is an ordinary one. Changing a window's flags
        hides it (Qt): show it again, or an incoming call's window vanished at the end instead of saying
        "Call ended" and closing by itself a few seconds later, as an outgoing call's does."""
        if bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) == on:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()

    def closeEvent(self, event: QCloseEvent) -> None:
        info = self.info
        if info is not None and info.active:
            # closing the window does not end the call: it lives on in the main window's call bar
            self.hide()
            event.ignore()
            return
        self._tick.stop()
        self._meter_timer.stop()
        self._closing.stop()
        try:
            self.controller.call_changed.disconnect(self._changed)
        except (RuntimeError, TypeError):
            pass
        self.controller.forget_call(self.call_id)
        self.closed.emit(self.call_id)
        super().closeEvent(event)
