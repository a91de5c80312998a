"""The bridge between softphone.core and the widgets: engine events in, Qt signals out.

No SIP and no RTP here: only calls into the Engine and its Call objects, the history database and
the preferences. Every window listens to one PhoneController.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QTimer, Signal

from ..core.account import AccountConfig
from ..core.audio_devices import audio_devices
from ..core.call import Call, CallMedia
from ..core.device_media import device_media_factory
from ..core.dialplan import dial_string, is_sip_address, looks_dialable
from ..core.engine import Engine
from ..core.events import EngineEvent
from ..core.history import CallRecord, History
from ..core.secrets import delete_password, fallback_path, keyring_available, set_password, turn_key
from ..core.settings import save_accounts
from ..core.trace import TraceEntry
from .preferences import AccountExtras, Preferences
from .quality import estimate_mos

log = logging.getLogger(__name__)

TRACE_LIMIT = 5000
STATS_INTERVAL_MS = 1000


@dataclass
class AccountStatus:
    """One account and how its registration is doing."""

    config: AccountConfig
    state: str = "idle"  # idle | registering | registered | failed | rejected | unregistering | unregistered
    error: str | None = None
    status: int | None = None
    retry_in: float | None = None
    expires: int | None = None

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def title(self) -> str:
        uri = self.config.uri
        address = f"{uri.user}@{uri.host}" + (f":{uri.port}" if uri.port else "")
        return f"{self.config.display_name} <{address}>" if self.config.display_name else address


@dataclass
class CallInfo:
    """What the windows show about one call; kept up to date from the engine's events."""

    id: str
    call: Call | None
    direction: str
    remote_uri: str
    remote_name: str | None
    account: str | None
    state: str = "new"  # new | calling | ringing | early | incoming | connected | ended
    started: float = field(default_factory=time.time)
    answered_at: float | None = None  # time.monotonic()
    local_hold: bool = False
    remote_hold: bool = False
    muted: bool = False
    media: dict[str, Any] = field(default_factory=dict)  # answered: codec, srtp, ...
    stats: dict[str, Any] = field(default_factory=dict)
    end_reason: str | None = None
    end_status: int | None = None
    declined: bool = False
    hung_up: bool = False
    dtmf_in: str = ""
    levels: dict[str, Any] = field(default_factory=dict)  # mic / speaker peak and RMS in dBFS, every 100 ms
    conference: bool = False  # merged into a local conference
    volume: float = 1.0
    gain: float = 1.0
    devices: dict[str, str | None] = field(default_factory=dict)  # role -> device picked in this call
    recording: str | None = None  # the file of this call's recording (the last one, if several)
    recording_on: bool = False

    @property
    def active(self) -> bool:
        return self.state != "ended"

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    @property
    def duration(self) -> float:
        return 0.0 if self.answered_at is None else time.monotonic() - self.answered_at

    @property
    def peer(self) -> str:
        return self.remote_name or display_address(self.remote_uri)

    def quality(self) -> float | None:
        return estimate_mos(
            self.media.get("codec"),
            self.stats.get("rtt_ms"),
            self.stats.get("jitter_ms"),
            self.stats.get("fraction_lost"),
        )


def display_address(uri: str) -> str:
    """``sip:bob@example.com;transport=tcp`` as ``bob@example.com``; numbers as the number."""
    text = uri
    for scheme in ("sips:", "sip:", "tel:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.split(";", 1)[0].split("?", 1)[0]


_HW_SUFFIX = re.compile(r"\s*\((?:hw|plughw):\d+,\d+\)$")
_ALSA_NAMES = {
    "default": QT_TRANSLATE_NOOP("DeviceNames", "Default device of the sound system"),
    "pulse": QT_TRANSLATE_NOOP("DeviceNames", "Sound server (PulseAudio or PipeWire)"),
    "pipewire": QT_TRANSLATE_NOOP("DeviceNames", "Sound server (PipeWire)"),
    "sysdefault": QT_TRANSLATE_NOOP("DeviceNames", "Default sound card (ALSA)"),
    "dmix": QT_TRANSLATE_NOOP("DeviceNames", "Sound card, shared (ALSA dmix)"),
}


def device_label(name: str, server: str | None = None) -> str:
    """A sound device as a person reads it: PortAudio lists ALSA's plugin names ("pulse", "default") and
    hardware with its ALSA address ("HDA Intel PCH: ALC3246 Analog (hw:0,0)"); those become words, and the
    address goes (the name itself stays what settings store). ``server``: the sound server's description of
    the device those plugins lead to now (``sound_server_defaults``)."""
    key = name.strip().lower()
    if server and key in ("pulse", "default", "pipewire"):
        return QCoreApplication.translate("DeviceNames", "Sound server: {device}").format(device=server)
    known = _ALSA_NAMES.get(key)
    if known is not None:
        return QCoreApplication.translate("DeviceNames", known)
    return _HW_SUFFIX.sub("", name) or name


def outcome_of(info: CallInfo) -> str:
    """How a finished call goes into the history."""
    if info.answered_at is not None:
        return "answered"
    if info.direction == "incoming":
        return "declined" if info.declined else "missed"
    if info.hung_up or info.end_status == 487:
        return "cancelled"
    if info.end_status in (486, 600):
        return "busy"
    return "failed"


Spawner = Callable[[Coroutine[Any, Any, Any]], Any]


def _spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
    task = asyncio.ensure_future(coro)

    def done(t: asyncio.Future[Any]) -> None:
        if not t.cancelled() and t.exception() is not None:
            log.error("background task failed", exc_info=t.exception())

    task.add_done_callback(done)
    return task


def make_media_factory(prefs: Preferences, srtp_for: Callable[[], str]) -> Callable[[], CallMedia]:
    """Call media built from the preferences at the time of each call (codecs, devices, SRTP)."""
    return device_media_factory(
        lambda: list(prefs.codecs), srtp_for, lambda: prefs.input_device, lambda: prefs.output_device
    )


class PhoneController(QObject):
    """Accounts, calls, history and trace for the windows; all actions go through here."""

    accounts_changed = Signal()
    account_state_changed = Signal(str)
    call_added = Signal(str)
    call_changed = Signal(str)
    call_ended = Signal(str)
    incoming_call = Signal(str)
    history_changed = Signal()
    missed_count_changed = Signal(int)
    message = Signal(str)  # something for the status bar, in words
    error = Signal(str)  # something that went wrong, for the user
    trace_added = Signal(object)
    dnd_changed = Signal(bool)

    def __init__(
        self,
        engine: Engine,
        accounts: list[AccountConfig],
        history: History,
        prefs: Preferences | None = None,
        *,
        persist: bool = True,
        spawn: Spawner = _spawn,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.history = history
        self.prefs = prefs or Preferences()
        self.persist = persist
        self.spawn = spawn
        # set by the app: moves a call to another sound device (core.audio_devices.DeviceFollower.choose)
        self.device_chooser: Callable[[Call, str, str | None], None] | None = None
        self.accounts: dict[str, AccountStatus] = {a.id: AccountStatus(a) for a in accounts}
        self.calls: dict[str, CallInfo] = {}
        self.trace: collections.deque[TraceEntry] = collections.deque(maxlen=TRACE_LIMIT)
        self.outgoing_srtp = self.prefs.default_srtp
        self.listen: str | None = None
        engine.auto_answer = False  # the user answers, in the incoming-call window
        engine.do_not_disturb = self.prefs.do_not_disturb
        self._unsubscribe = engine.subscribe(self.on_event)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(STATS_INTERVAL_MS)
        self._stats_timer.timeout.connect(self._poll_stats)

    # -- accounts --
    def account_list(self) -> list[AccountStatus]:
        return list(self.accounts.values())

    def account_configs(self) -> list[AccountConfig]:
        return [a.config for a in self.accounts.values()]

    def registered_accounts(self) -> list[AccountStatus]:
        return [a for a in self.accounts.values() if a.state == "registered"]

    def status_text(self, account_id: str) -> str:
        """The registration state in words, with the error when it failed."""
        status = self.accounts[account_id]
        state = status.state
        if state == "registering":
            return self.tr("Registering…")
        if state == "registered":
            return self.tr("Registered")
        if state in ("failed", "rejected"):
            reason = status.error or self.tr("no answer from the server")
            text = self.tr("Failed: {reason}").format(reason=reason)
            if state == "failed" and status.retry_in is not None:
                text += " " + self.tr("(retrying in {seconds} s)").format(seconds=round(status.retry_in))
            return text
        if state == "unregistering":
            return self.tr("Unregistering…")
        if not status.config.register:
            return self.tr("Not registering (calls only)")
        return self.tr("Not registered")

    def _save_accounts(self) -> None:
        if self.persist:
            save_accounts(self.account_configs())

    def save_prefs(self) -> None:
        if self.persist:
            try:
                self.prefs.save()
            except OSError as exc:
                self.error.emit(self.tr("Cannot save the settings: {error}").format(error=exc))

    def _store_password(self, config: AccountConfig) -> None:
        secrets = [(config.id, config.password), (turn_key(config.id), config.turn_password)]
        secrets = [(key, value) for key, value in secrets if value]
        if not secrets:
            return
        try:
            for key, value in secrets:
                assert value is not None
                set_password(key, value)
            if not keyring_available():
                self.message.emit(
                    self.tr(
                        "No system keyring: the password was saved in {path}, readable only by you."
                    ).format(path=fallback_path())
                )
        except Exception as exc:  # no keyring: the password lasts for this session only
            log.warning("cannot save the password: %s", exc)
            self.error.emit(
                self.tr(
                    "The password cannot be saved in the system keyring ({error}); it is kept until you quit."
                ).format(error=exc)
            )

    def add_account(self, config: AccountConfig, extras: AccountExtras | None = None) -> None:
        """Store the account (password in the keyring), add it to the engine and register."""
        if config.id in self.accounts:
            raise ValueError(self.tr("The account {id} exists already.").format(id=config.id))
        if extras is not None:
            self.prefs.accounts[config.id] = extras
            self.save_prefs()
        self._store_password(config)
        self.accounts[config.id] = AccountStatus(config)
        self.prefs.last_account = config.id  # the account just added is the one to call from
        self.save_prefs()
        self._save_accounts()
        self.accounts_changed.emit()
        self.engine.add_account(config)
        if config.register:
            self.spawn(self.engine.register(config.id))

    def update_account(self, old_id: str, config: AccountConfig, extras: AccountExtras | None = None) -> None:
        """Replace an account: unregister the old one, register the new one."""
        if config.id != old_id and config.id in self.accounts:
            raise ValueError(self.tr("The account {id} exists already.").format(id=config.id))
        if config.password is None and old_id in self.accounts:
            config.password = self.accounts[old_id].config.password
        self._store_password(config)
        if extras is not None:
            self.prefs.accounts.pop(old_id, None)
            self.prefs.accounts[config.id] = extras
            self.save_prefs()
        if config.id != old_id:
            try:
                delete_password(old_id)
                delete_password(turn_key(old_id))
            except Exception:
                pass
        # keep the list order
        self.accounts = {
            (config.id if key == old_id else key): (AccountStatus(config) if key == old_id else value)
            for key, value in self.accounts.items()
        }
        self._save_accounts()
        self.accounts_changed.emit()
        self.spawn(self._replace(old_id, config))

    async def _replace(self, old_id: str, config: AccountConfig) -> None:
        if old_id in self.engine.registrations:
            await self.engine.remove_account(old_id)
        self.engine.add_account(config)
        if config.register:
            await self.engine.register(config.id)

    def remove_account(self, account_id: str) -> None:
        self.accounts.pop(account_id, None)
        self.prefs.accounts.pop(account_id, None)
        self.save_prefs()
        self._save_accounts()
        try:
            delete_password(account_id)
            delete_password(turn_key(account_id))
        except Exception as exc:
            log.info("cannot delete the password of %s: %s", account_id, exc)
        self.accounts_changed.emit()
        if account_id in self.engine.registrations:
            self.spawn(self.engine.remove_account(account_id))

    def register_again(self, account_id: str) -> None:
        """Try now (after fixing the network or the password on the server)."""
        registration = self.engine.registrations.get(account_id)
        if registration is None:
            return
        if registration.state == "rejected" or registration._task is None or registration._task.done():
            registration.start()
        else:
            registration.refresh_now()

    def start_accounts(self) -> None:
        """Hand every account to the engine (after Engine.start) and register those that want to."""
        for status in self.accounts.values():
            if status.config.id not in self.engine.registrations:
                self.engine.add_account(status.config)
            if status.config.register:
                self.spawn(self.engine.register(status.config.id))

    # -- do not disturb --
    @property
    def do_not_disturb(self) -> bool:
        return self.engine.do_not_disturb

    def set_do_not_disturb(self, on: bool) -> None:
        self.engine.do_not_disturb = on
        self.prefs.do_not_disturb = on
        self.save_prefs()
        self.dnd_changed.emit(on)
        self.message.emit(self.tr("Do not disturb is on") if on else self.tr("Do not disturb is off"))

    # -- calls --
    def default_account(self) -> str | None:
        """The account to call from: the last used if it is registered, else the first registered."""
        last = self.prefs.last_account
        if last in self.accounts and self.accounts[last].state == "registered":
            return last
        registered = self.registered_accounts()
        if registered:
            return registered[0].id
        if last in self.accounts:
            return last
        return next(iter(self.accounts), None)

    def dial(self, text: str, account_id: str | None = None) -> bool:
        """Call what the user typed; False (and an ``error``) when it cannot be called."""
        text = text.strip()
        if account_id is not None and account_id not in self.accounts:
            account_id = None
        if not looks_dialable(text, user_names=account_id is not None):
            self.error.emit(self.tr("Type a number or a SIP address such as bob@example.com."))
            return False
        extras = self.prefs.extras(account_id)
        target = dial_string(text, extras.dial_plan() if account_id else None)
        if account_id is None and not is_sip_address(target):
            self.error.emit(
                self.tr(
                    "Calling a number needs an account. "
                    "To call directly, type a SIP address such as bob@192.0.2.10."
                )
            )
            return False
        if self.engine.media_factory is None:
            self.error.emit(self.tr("This phone was started without audio; calls are not possible."))
            return False
        if account_id is not None:
            self.prefs.last_account = account_id
        self.outgoing_srtp = extras.srtp
        log.info("dialling %s from %s", target, account_id or "no account (direct)")
        self.spawn(self._dial(target, account_id))
        return True

    async def _dial(self, target: str, account_id: str | None) -> None:
        try:
            if account_id is None and self.engine.registrations:
                call = await self._call_direct(target)
            else:
                call = await self.engine.call(target, account_id)
        except Exception as exc:  # a URI that does not parse, an account that went away
            self.error.emit(self.tr("Cannot call {target}: {error}").format(target=target, error=exc))
            return
        finally:
            self.outgoing_srtp = self.prefs.default_srtp  # incoming calls use the default policy
        self._track(call)

    async def _call_direct(self, target: str) -> Call:
        """A peer-to-peer call while accounts exist: no account's proxy, no account's credentials."""
        registrations = self.engine.registrations
        self.engine.registrations = {}
        try:
            return await self.engine.call(target, None)
        finally:
            self.engine.registrations = registrations

    def _track(self, call: Call) -> CallInfo:
        info = self.calls.get(call.id)
        if info is not None:
            info.call = call
            return info
        uri = str(call.remote.uri)
        contact = self.history.find_contact(uri)
        name = contact.name if contact else call.remote.display_name
        info = CallInfo(
            id=call.id,
            call=call,
            direction=call.direction,
            remote_uri=uri,
            remote_name=name,
            account=call.account.id if call.account else None,
            state="incoming" if call.direction == "incoming" else "calling",
        )
        self.calls[call.id] = info
        self.call_added.emit(call.id)
        if call.direction == "incoming":
            self.incoming_call.emit(call.id)
        return info

    def _info(self, call_id: str) -> CallInfo | None:
        info = self.calls.get(call_id)
        if info is None:
            call = self.engine.calls.get(call_id)
            if call is not None:
                info = self._track(call)
        return info

    def active_calls(self) -> list[CallInfo]:
        return [c for c in self.calls.values() if c.active]

    def media_key(self, key: str) -> str | None:
        """A headset's or keyboard's media key (ui/media_keys.py): Play/Pause answers the ringing call, else
        hangs up the running one; Stop hangs up. Returns what it did ("answer", "hangup") or None."""
        calls = self.active_calls()
        ringing = [c for c in calls if c.state == "incoming"]
        running = [c for c in calls if c.state != "incoming" and not c.local_hold]
        if key == "play_pause" and ringing:
            self.answer(ringing[-1].id)
            return "answer"
        if key in ("play_pause", "stop") and running:
            self.hangup(running[-1].id)
            return "hangup"
        if key == "stop" and ringing:
            self.hangup(ringing[-1].id)  # declines
            return "hangup"
        return None

    def answer(self, call_id: str) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None or info.state != "incoming":
            return
        for other in self.active_calls():  # call waiting: the current call waits on hold
            if other.id != call_id and other.connected and not other.local_hold:
                self.set_hold(other.id, True)
        self.spawn(info.call.answer())

    def decline(self, call_id: str) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None:
            return
        info.declined = True
        self.spawn(info.call.reject(603, "Decline"))

    def hangup(self, call_id: str) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None or not info.active:
            return
        if info.direction == "incoming" and info.state == "incoming":
            info.declined = True
        info.hung_up = True
        self.spawn(info.call.hangup())

    def set_hold(self, call_id: str, on: bool) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None or not info.connected:
            return

        async def hold() -> None:
            assert info is not None and info.call is not None
            if not await info.call.hold(on):
                self.error.emit(self.tr("The other side did not accept hold/resume."))
                self.call_changed.emit(call_id)

        self.spawn(hold())

    def set_mute(self, call_id: str, on: bool) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None:
            return
        set_mute = getattr(info.call.media, "set_mute", None)
        if set_mute is not None:
            set_mute(on)
        info.muted = on
        self.call_changed.emit(call_id)

    def send_dtmf(self, call_id: str, digits: str) -> None:
        info = self.calls.get(call_id)
        if info is None or info.call is None or not info.connected:
            return
        self.spawn(info.call.send_dtmf(digits))

    # -- transfer and conference --
    def transfer(self, call_id: str, text: str) -> bool:
        """Blind transfer: the other side is asked to call what the user typed (RFC 3515)."""
        info = self.calls.get(call_id)
        text = text.strip()
        if info is None or info.call is None or not info.connected:
            return False
        if not looks_dialable(text, user_names=info.account is not None):
            self.error.emit(self.tr("Type a number or a SIP address to transfer to."))
            return False
        extras = self.prefs.extras(info.account)
        target = dial_string(text, extras.dial_plan() if info.account else None)
        self.spawn(self._transfer(call_id, self.engine.transfer(call_id, target), target))
        return True

    def transfer_attended(self, call_id: str, other_id: str) -> bool:
        """Attended transfer: the other side of ``call_id`` takes over our call ``other_id`` (RFC 3891)."""
        infos = [self.calls.get(call_id), self.calls.get(other_id)]
        if any(i is None or i.call is None or not i.connected for i in infos) or call_id == other_id:
            return False
        other = infos[1]
        assert other is not None
        self.spawn(self._transfer(call_id, self.engine.transfer_attended(call_id, other_id), other.peer))
        return True

    async def _transfer(self, call_id: str, action: Coroutine[Any, Any, bool], target: str) -> None:
        try:
            done = await action
        except Exception as exc:  # a target that does not parse, a call that ended meanwhile
            log.info("transfer failed: %s", exc)
            done = False
        where = display_address(target)
        if done:
            self.message.emit(self.tr("Call transferred to {target}").format(target=where))
        else:
            self.error.emit(self.tr("The transfer to {target} failed.").format(target=where))
        self.call_changed.emit(call_id)

    def transfer_targets(self, call_id: str) -> list[CallInfo]:
        """The other connected calls this one can be handed to, or merged with."""
        return [c for c in self.active_calls() if c.id != call_id and c.connected]

    def merge(self, call_ids: list[str]) -> bool:
        """A local three-way (or larger) conference: everyone hears everyone."""
        calls = [self.calls[i] for i in call_ids if i in self.calls and self.calls[i].connected]
        if len(calls) < 2:
            return False

        async def merge() -> None:
            if await self.engine.conference([c.id for c in calls]):
                for call in calls:
                    call.conference = True
                    call.local_hold = False
                    self.call_changed.emit(call.id)
                self.message.emit(self.tr("Calls merged into a conference"))
            else:
                self.error.emit(self.tr("The calls could not be merged."))

        self.spawn(merge())
        return True

    # -- audio of a call --
    def recordings_folder(self) -> Path:
        """Where call recordings go: the folder chosen in the settings, else Music/Softphone."""
        if self.prefs.recordings_dir:
            return Path(self.prefs.recordings_dir)
        from platformdirs import user_music_dir

        return Path(user_music_dir()) / "Softphone"

    def set_recording(self, call_id: str, on: bool) -> str | None:
        """Start or stop recording a call; the file (``peer``-``date_time``.wav in the recordings folder)."""
        info = self.calls.get(call_id)
        if info is None or not info.active:
            return None
        if not on:
            return self.engine.stop_recording(call_id)
        peer = re.sub(r"[^\w.@+-]+", "_", display_address(info.remote_uri)).strip("_") or "call"
        name = f"{peer}-{time.strftime('%Y-%m-%d_%H-%M-%S')}.wav"
        try:
            return self.engine.start_recording(call_id, str(self.recordings_folder() / name))
        except OSError as exc:
            self.error.emit(self.tr("Cannot record the call: {error}").format(error=exc))
            return None

    def set_volume(self, call_id: str, volume: float) -> None:
        """Speaker volume of one call, 0.0 to 2.0 (1.0 unchanged)."""
        if self.engine.set_volume(call_id, volume) and call_id in self.calls:
            self.calls[call_id].volume = volume

    def set_gain(self, call_id: str, gain: float) -> None:
        """Microphone gain of one call, 0.0 to 2.0 (1.0 unchanged)."""
        if self.engine.set_gain(call_id, gain) and call_id in self.calls:
            self.calls[call_id].gain = gain

    def device_names(self, role: str) -> list[str]:
        """Sound devices for "microphone" or "speaker", by name, as the system lists them now."""
        try:
            devices = audio_devices()
        except Exception as exc:  # no PortAudio at all
            log.info("cannot list sound devices: %s", exc)
            return []
        return [d.name for d in devices if (d.inputs if role == "microphone" else d.outputs)]

    def sound_server_device(self, role: str) -> str | None:
        """The sound server's description of its default microphone or speaker (None: no server)."""
        from ..core.device_media import sound_server_defaults

        return sound_server_defaults().get(role)

    def use_device(self, call_id: str, role: str, name: str | None) -> bool:
        """Move one call to another microphone or speaker (None: the system default)."""
        info = self.calls.get(call_id)
        if info is None or info.call is None or not info.active or self.device_chooser is None:
            return False
        try:
            self.device_chooser(info.call, role, name)
        except Exception as exc:
            self.error.emit(self.tr("Cannot switch to {device}: {error}").format(device=name, error=exc))
            return False
        info.devices[role] = name
        self.call_changed.emit(call_id)
        return True

    def hangup_all(self) -> None:
        for info in self.active_calls():
            self.hangup(info.id)

    # -- engine events --
    def on_event(self, event: EngineEvent) -> None:
        name = event.name
        fields = event.fields
        if name == "started":
            self.listen = str(fields.get("listen"))
        if event.account in self.accounts and name in (
            "registering",
            "registered",
            "registration_failed",
            "unregistering",
            "unregistered",
        ):
            self._on_registration(event)
            return
        call_id = fields.get("call")
        if isinstance(call_id, str):
            self._on_call_event(call_id, event)
        elif name == "refused":
            self.message.emit(
                self.tr("Refused a direct call from {source}").format(source=fields.get("from"))
            )
        elif name == "warning":
            self.message.emit(str(fields.get("message", "")))
        elif name == "forwarded":
            self.message.emit(
                self.tr("Forwarded a call from {caller} to {target}").format(
                    caller=display_address(str(fields.get("from", ""))),
                    target=display_address(str(fields.get("to", ""))),
                )
            )

    def _on_registration(self, event: EngineEvent) -> None:
        assert event.account is not None
        status = self.accounts[event.account]
        fields = event.fields
        if event.name == "registration_failed":
            status.state = "rejected" if fields.get("permanent") else "failed"
            status.status = fields.get("status")
            reason = fields.get("reason")
            status.error = str(reason) if reason else None
            status.retry_in = fields.get("retry_in")
        else:
            status.state = {"unregistered": "unregistered"}.get(event.name, event.name)
            if event.name == "registered":
                status.error = None
                status.status = None
                status.retry_in = None
                status.expires = fields.get("expires")
        self.account_state_changed.emit(event.account)

    def _on_call_event(self, call_id: str, event: EngineEvent) -> None:
        info = self._info(call_id)
        if info is None:
            return
        name = event.name
        fields = event.fields
        if name == "levels":  # 10 times a second: kept for a meter, no redraw of the call's window
            info.levels = {"mic": fields.get("mic"), "speaker": fields.get("speaker")}
            return
        if name == "audio_device":
            self.message.emit(str(fields.get("message", "")))
        elif name == "audio_device_error":
            self.error.emit(str(fields.get("message", "")))
        if name == "calling":
            info.state = "calling"
        elif name == "ringing":
            info.state = "ringing"
        elif name == "early_media":
            info.state = "early"
        elif name == "incoming":
            info.state = "incoming"
            display = fields.get("display_name")
            if display and not info.remote_name:
                info.remote_name = str(display)
        elif name == "answered":
            info.state = "connected"
            info.answered_at = time.monotonic()
            info.media = {k: v for k, v in fields.items() if k != "call"}
            if not self._stats_timer.isActive():
                self._stats_timer.start()
        elif name in ("held", "resumed"):
            on = name == "held"
            if fields.get("by") == "remote":
                info.remote_hold = on
            else:
                info.local_hold = on
        elif name == "stats":
            info.stats.update({k: v for k, v in fields.items() if k != "call"})
        elif name == "dtmf":
            info.dtmf_in += str(fields.get("digit", ""))
        elif name == "recording":
            info.recording_on = bool(fields.get("on"))
            info.recording = str(fields.get("path") or "") or info.recording
        elif name == "ended":
            self._on_ended(info, event)
            return
        self.call_changed.emit(call_id)

    def _on_ended(self, info: CallInfo, event: EngineEvent) -> None:
        if info.state == "ended":
            return
        fields = event.fields
        duration = float(fields.get("duration") or info.duration)
        info.state = "ended"
        info.end_reason = fields.get("reason")
        info.end_status = fields.get("status")
        record = CallRecord(
            direction=info.direction,
            remote_uri=info.remote_uri,
            remote_name=info.remote_name,
            account=info.account,
            started=info.started,
            duration=duration if info.answered_at is not None else 0.0,
            outcome=outcome_of(info),
            status=info.end_status,
            reason=info.end_reason,
            call_id=info.id,
            seen=outcome_of(info) != "missed",
            recording=info.recording,
        )
        try:
            self.history.add_call(record)
        except Exception as exc:
            log.error("cannot write the call history: %s", exc)
        self.call_changed.emit(info.id)
        self.call_ended.emit(info.id)
        self.history_changed.emit()
        if record.missed:
            self.missed_count_changed.emit(self.missed_count())
        if not self.active_calls():
            self._stats_timer.stop()

    def forget_call(self, call_id: str) -> None:
        """The window of an ended call closed: drop what we kept about it."""
        info = self.calls.get(call_id)
        if info is not None and not info.active:
            del self.calls[call_id]

    def _poll_stats(self) -> None:
        """Live call quality: ask each connected call's media for its numbers."""
        for info in self.active_calls():
            if info.call is None or not info.connected:
                continue
            try:
                stats = info.call.media.stats()
            except Exception as exc:
                log.debug("stats: %s", exc)
                continue
            if stats:
                info.stats.update(stats)
                self.call_changed.emit(info.id)

    # -- history --
    def missed_count(self) -> int:
        return self.history.missed_count()

    def mark_missed_seen(self) -> None:
        if self.history.missed_count():
            self.history.mark_seen()
            self.missed_count_changed.emit(0)
            self.history_changed.emit()

    # -- trace --
    def on_trace(self, entry: TraceEntry) -> None:
        self.trace.append(entry)
        self.trace_added.emit(entry)

    def clear_trace(self) -> None:
        self.trace.clear()

    def close(self) -> None:
        self._stats_timer.stop()
        self._unsubscribe()
