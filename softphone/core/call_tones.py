"""Which local tone plays when, driven by the engine's own events.

- ringback: an outgoing call got 180 without SDP ("ringing"); it plays on that call's speaker
  and stops with early media (183 with SDP), the answer, or the end of the call.
- ringtone: an incoming call while no other call is connected; it plays on the *ringing
  device* (a separate sink, often the loudspeaker while calls go to a headset) until that call
  is answered, rejected or cancelled and no other incoming call still rings.
- call waiting: an incoming call while a call is connected; a quiet beep mixed into the
  connected call's speaker instead of the ringtone.
- busy / error: an outgoing call that failed (486/600 busy, other 4xx-6xx error, not a cancel)
  hears a few seconds of the tone on the speaker.

The tones themselves are in softphone.media.tones (pure generation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..media.device_list import AudioDeviceError
from .events import EngineEvent

if TYPE_CHECKING:
    from ..media.devices import AudioSink
    from ..media.stream import TonePlayer
    from ..media.tones import ToneSource

log = logging.getLogger(__name__)


# The tones and their player are imported when one plays, not with the GUI (they need numpy).
def _tone(name: str, region: str) -> ToneSource:
    from ..media.tones import tone_source

    return tone_source(name, region)


def _ringtone(path: str | Path | None) -> ToneSource:
    from ..media.tones import ringtone_source

    return ringtone_source(path)


def _player(sink: AudioSink, tone: ToneSource) -> TonePlayer:
    from ..media.stream import TonePlayer

    return TonePlayer(sink, tone, close_sink=True)


BUSY_STATUSES = (486, 600)
QUIET_ENDINGS = (487,)  # cancelled: the user knows already


class CallTones:
    def __init__(
        self,
        engine: Any,
        *,
        ringer: Callable[[], AudioSink] | None = None,
        speaker: Callable[[], AudioSink] | None = None,
        region: str = "eu",
        ringtone: str | Path | None = None,
    ) -> None:
        self.engine = engine
        self.ringer = ringer
        self.speaker = speaker
        self.region = region
        self.ringtone = ringtone
        self._ringing: set[str] = set()  # incoming calls that ring now
        self._ring_player: TonePlayer | None = None
        self._waiting_on: set[str] = set()  # connected calls that play the call-waiting beep
        self._after_call: TonePlayer | None = None  # busy / error, after the call's media closed
        self._unsubscribe = engine.subscribe(self.on_event)

    def close(self) -> None:
        self._unsubscribe()
        self._stop_ringtone()
        if self._after_call is not None:
            self._after_call.stop()

    @property
    def ringing(self) -> bool:
        return self._ring_player is not None and self._ring_player.playing

    def on_event(self, event: EngineEvent) -> None:
        call_id = event.fields.get("call")
        call = self.engine.calls.get(call_id) if call_id else None
        name = event.name
        try:
            if name == "ringing" and call is not None and call.direction == "outgoing":
                call.play_tone(_tone("ringback", self.region))
            elif name == "early_media" and call is not None:
                call.play_tone(None)
            elif name == "incoming" and call is not None and not self.engine.auto_answer:
                self._incoming(call)
            elif name in ("answered", "ended") and call_id:
                self._settled(call_id, call, event)
        except Exception:  # a tone must never break a call
            log.exception("call tone failed")

    def _incoming(self, call: Any) -> None:
        self._ringing.add(call.id)
        busy = [c for c in self.engine.calls.values() if c is not call and c.state == "connected"]
        if busy:
            for other in busy:
                if other.id not in self._waiting_on and other.play_tone(_tone("call_waiting", self.region)):
                    self._waiting_on.add(other.id)
            return
        if self._ring_player is None and self.ringer is not None:
            sink = self._open(self.ringer)
            if sink is not None:
                self._ring_player = _player(sink, _ringtone(self.ringtone))
                self._ring_player.start()

    def _settled(self, call_id: str, call: Any, event: EngineEvent) -> None:
        if call_id in self._ringing:
            self._ringing.discard(call_id)
            if not self._ringing:
                self._stop_ringtone()
                for other_id in list(self._waiting_on):
                    other = self.engine.calls.get(other_id)
                    if other is not None:
                        other.play_tone(None)
                self._waiting_on.clear()
        self._waiting_on.discard(call_id)
        if event.name == "answered" and call is not None:
            call.play_tone(None)
            return
        if event.name == "ended" and event.fields.get("reason") not in ("local hangup", "cancelled"):
            status = event.fields.get("status")
            outgoing_failed = call is None or getattr(call, "direction", "outgoing") == "outgoing"
            unanswered = call is None or getattr(call, "answered_at", None) is None
            if outgoing_failed and unanswered and isinstance(status, int) and status >= 400:
                self._after_call_tone("busy" if status in BUSY_STATUSES else "error", status)

    def _after_call_tone(self, name: str, status: int) -> None:
        if status in QUIET_ENDINGS or self.speaker is None:
            return
        if self._after_call is not None:
            self._after_call.stop()
        sink = self._open(self.speaker)
        if sink is not None:
            self._after_call = _player(sink, _tone(name, self.region))
            self._after_call.start()

    def _stop_ringtone(self) -> None:
        if self._ring_player is not None:
            self._ring_player.stop()
            self._ring_player = None

    def _open(self, factory: Callable[[], AudioSink]) -> AudioSink | None:
        try:
            return factory()
        except AudioDeviceError as exc:
            log.warning("no device for the tone: %s", exc)
            self.engine.emit(EngineEvent("audio_device_error", None, {"message": str(exc)}))
            return None
