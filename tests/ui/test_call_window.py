"""The call window: state and timer, mute, hold, keypad, quality; incoming calls; the history they leave."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from softphone.ui.call_window import CallWindow
from softphone.ui.history_view import ROLE_RECORDING
from tests.ui.fakes import FakeCall
from tests.ui.helpers import make_window

ALICE = AccountConfig(aor="sip:alice@example.com")


def _setup(qtbot):  # type: ignore[no-untyped-def]
    window, controller, recorder = make_window([ALICE])
    qtbot.addWidget(window)
    window.show()
    controller.engine.emit(EngineEvent("registered", ALICE.id, {"expires": 600}))
    return window, controller, recorder


def _window(qtbot, window, call_id: str) -> CallWindow:  # type: ignore[no-untyped-def]
    call_window = window.call_windows[call_id]
    qtbot.addWidget(call_window)
    call_window.auto_close_ms = -1
    return call_window


def test_outgoing_call_from_dialling_to_hang_up(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    assert window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    assert cw.isVisible()
    assert cw.name_label.text() == "bob@example.org"
    assert cw.state_label.text() == "Calling…"
    assert not cw.mute_button.isEnabled()
    call.emit("ringing", status=180)
    assert cw.state_label.text() == "Ringing…"
    assert window.calls_bar.isVisible()
    call.connect("PCMU", srtp=False)
    assert cw.state_label.text() == "Connected"
    assert cw.timer_label.isVisible() and cw.timer_label.text() == "0:00"
    assert cw.mute_button.isEnabled()

    qtbot.mouseClick(cw.mute_button, Qt.MouseButton.LeftButton)
    assert call.media.muted and cw.mute_button.text() == "Unmute"
    qtbot.mouseClick(cw.mute_button, Qt.MouseButton.LeftButton)
    assert not call.media.muted

    qtbot.mouseClick(cw.hold_button, Qt.MouseButton.LeftButton)
    assert call.held and cw.state_label.text() == "On hold" and cw.hold_button.text() == "Resume"
    qtbot.mouseClick(cw.hold_button, Qt.MouseButton.LeftButton)
    assert not call.held and cw.state_label.text() == "Connected"
    call.emit("held", by="remote")
    assert cw.state_label.text() == "Held by the other side"
    call.emit("resumed", by="remote")

    qtbot.mouseClick(cw.keypad_button, Qt.MouseButton.LeftButton)
    assert cw.keypad_box.isVisible()
    qtbot.mouseClick(cw.dialpad.buttons["5"], Qt.MouseButton.LeftButton)
    qtbot.keyClick(cw, "#")
    assert call.dtmf_sent == "5#"
    assert cw.dtmf_label.text() == "5#"

    qtbot.mouseClick(cw.hangup_button, Qt.MouseButton.LeftButton)
    assert cw.state_label.text() == "Call ended: you hung up"
    assert cw.close_button.isVisible() and not cw.hangup_button.isVisible()
    assert not window.calls_bar.isVisible()
    (record,) = controller.history.calls()
    assert record.outcome == "answered" and record.direction == "outgoing"
    assert record.remote_uri == "sip:bob@example.org" and record.duration == 12.0


def test_call_quality_is_one_click_away(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    call.connect("opus", srtp=True)
    assert not cw.quality_box.isVisible()
    qtbot.mouseClick(cw.quality_button, Qt.MouseButton.LeftButton)
    assert cw.quality_box.isVisible()
    assert cw.q_codec.text() == "opus (48 kHz)"
    assert cw.q_srtp.text() == "SRTP on"
    assert cw.q_estimate.text() == "Not measured yet"
    call.media.numbers = {
        "jitter_ms": 3.5,
        "fraction_lost": 0.02,
        "packets_lost": 7,
        "rtt_ms": 40.0,
        "packets_sent": 500,
        "packets_received": 480,
    }
    controller._poll_stats()  # the once-a-second poll
    assert cw.q_jitter.text() == "3.5 ms"
    assert cw.q_loss.text() == "2.0 % (7 packets)"
    assert cw.q_rtt.text() == "40 ms"
    assert cw.q_packets.text() == "500 / 480"
    assert cw.q_estimate.text().startswith(("Excellent", "Good"))
    # the final numbers come as a "stats" event too
    call.emit("stats", jitter_ms=9.0, fraction_lost=0.2, rtt_ms=400.0)
    assert cw.q_jitter.text() == "9.0 ms"
    assert cw.q_estimate.text().startswith(("Poor", "Bad"))


def test_incoming_call_window_on_top_with_answer_and_decline(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = _setup(qtbot)
    assert controller.engine.auto_answer is False
    call = FakeCall(controller.engine, "incoming", "sip:carol@example.org", "Carol", ALICE)
    call.emit("incoming", **{"from": "sip:carol@example.org", "display_name": "Carol"})
    cw = _window(qtbot, window, call.id)
    assert cw.isVisible()
    assert cw.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert cw.incoming_box.isVisible() and not cw.hangup_button.isVisible()
    assert cw.name_label.text() == "Carol" and cw.address_label.text() == "carol@example.org"
    assert cw.state_label.text() == "Incoming call"
    assert cw.account_label.isVisible() and "alice@example.com" in cw.account_label.text()  # which account
    qtbot.mouseClick(cw.answer_button, Qt.MouseButton.LeftButton)
    assert call.state == "connected"
    assert cw.state_label.text() == "Connected" and not cw.incoming_box.isVisible()
    assert not (cw.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) or cw.isVisible()


def test_declined_call_is_not_missed(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = _setup(qtbot)
    call = FakeCall(controller.engine, "incoming", "sip:carol@example.org", None, ALICE)
    call.emit("incoming", **{"from": "sip:carol@example.org"})
    cw = _window(qtbot, window, call.id)
    qtbot.mouseClick(cw.decline_button, Qt.MouseButton.LeftButton)
    assert cw.state_label.text() == "Call ended: declined"
    (record,) = controller.history.calls()
    assert record.outcome == "declined"
    assert controller.missed_count() == 0


def test_missed_call_is_marked_and_counted_and_called_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    call = FakeCall(controller.engine, "incoming", "sip:dave@example.org", "Dave", ALICE)
    call.emit("incoming", **{"from": "sip:dave@example.org", "display_name": "Dave"})
    _window(qtbot, window, call.id)
    call.end("cancelled by caller", 487)
    assert controller.missed_count() == 1
    assert window.tabs.tabText(1) == "History (1)"
    assert window.missed_label.text() == "1 missed"
    item = window.history_view.list.item(0)
    assert "Missed" in item.text() and item.font().bold()
    window.show_history()
    assert controller.missed_count() == 0 and window.tabs.tabText(1) == "History"
    # a double click calls back, from the selected account
    history_list = window.history_view.list
    rect = history_list.visualItemRect(history_list.item(0))
    qtbot.mouseClick(history_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(history_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert recorder.calls == [("sip:dave@example.org", ALICE.id)]
    for w in window.call_windows.values():
        qtbot.addWidget(w)


def test_shortcuts_answer_and_hang_up(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = _setup(qtbot)
    window.show()
    call = FakeCall(controller.engine, "incoming", "sip:erin@example.org", None, ALICE)
    call.emit("incoming", **{"from": "sip:erin@example.org"})
    cw = _window(qtbot, window, call.id)
    window.answer_current()  # what Ctrl+Shift+A does
    assert call.state == "connected"
    cw.activateWindow()
    window.hangup_current()  # what Ctrl+Shift+E does
    assert call.state == "ended"
    assert "Ctrl+Shift+A" in cw.answer_button.toolTip()
    assert "Ctrl+Shift+M" in cw.mute_button.toolTip()


def test_call_waiting_puts_the_first_call_on_hold(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    window.dial("sip:bob@example.org", ALICE.id)
    first = recorder.made[0]
    _window(qtbot, window, first.id)
    first.connect()
    second = FakeCall(controller.engine, "incoming", "sip:carol@example.org", None, ALICE)
    second.emit("incoming", **{"from": "sip:carol@example.org"})
    _window(qtbot, window, second.id)
    controller.answer(second.id)
    assert first.held and second.state == "connected"
    assert window.calls_layout.count() == 2


def test_closing_an_active_call_window_keeps_the_call(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    call.connect()
    cw.close()
    assert not cw.isVisible() and call.state == "connected"
    window.show_call(call.id)
    assert cw.isVisible()
    call.end("remote hangup")
    assert cw.state_label.text() == "Call ended: the other side hung up"
    cw.close()
    assert call.id not in window.call_windows and call.id not in controller.calls


def test_end_reasons_in_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    expected = {
        486: "busy",
        404: "nobody with this number or address",
        480: "not available right now",
        488: "no common audio format",
    }
    for status, words in expected.items():
        window.dial("sip:bob@example.org", ALICE.id)
        call = recorder.made[-1]
        cw = _window(qtbot, window, call.id)
        call.end(f"{status} Something", status)
        assert cw.state_label.text() == f"Call ended: {words}"
    outcomes = [r.outcome for r in controller.history.calls()]
    assert outcomes == ["failed", "failed", "failed", "busy"]


def test_level_meters_follow_the_levels_event_and_mute_empties_the_mic_meter(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    call.connect("PCMU", srtp=False)
    assert cw.meters.isVisibleTo(cw)
    call.emit("levels", mic={"peak": -20.0, "rms": -23.0}, speaker={"peak": -6.0, "rms": -9.0})
    cw._update_meters()
    assert (cw.mic_meter.value(), cw.speaker_meter.value()) == (-20, -6)
    controller.set_mute(call.id, True)
    cw._update_meters()
    assert cw.mic_meter.value() == -60


def test_the_audio_panel_switches_this_calls_device_and_sets_volume(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = _setup(qtbot)
    chosen: list[tuple[str, str | None]] = []
    controller.device_chooser = lambda call, role, name: chosen.append((role, name))
    controller.device_names = lambda role: ["USB Headset", "Built-in"]  # type: ignore[method-assign]
    volumes: list[tuple[str, float]] = []
    controller.engine.set_volume = lambda call_id, v: volumes.append((call_id, v)) or True  # type: ignore[method-assign]
    window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    call.connect("PCMU", srtp=False)
    cw.audio_button.click()
    assert cw.audio_box.isVisibleTo(cw)
    assert [cw.speaker_device.itemText(i) for i in range(3)] == ["System default", "USB Headset", "Built-in"]
    cw.speaker_device.setCurrentIndex(1)
    cw.speaker_device.activated.emit(1)
    assert chosen == [("speaker", "USB Headset")]
    cw.volume_slider.setValue(50)
    assert volumes == [(call.id, 0.5)]
    assert controller.calls[call.id].volume == 0.5


def test_the_call_window_closes_by_itself_after_the_call_whichever_way_it_went(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: like Linphone and MicroSIP, the window goes a few seconds after the end, for outgoing and
    incoming calls alike (the history keeps the call)."""
    window, controller, recorder = _setup(qtbot)
    window.dial("sip:bob@example.org", ALICE.id)
    outgoing = recorder.made[0]
    out_window = window.call_windows[outgoing.id]
    incoming = FakeCall(controller.engine, "incoming", "sip:carol@example.org", "Carol", ALICE)
    incoming.emit("incoming", **{"from": "sip:carol@example.org", "display_name": "Carol"})
    in_window = window.call_windows[incoming.id]
    for call_window in (out_window, in_window):
        call_window.auto_close_ms = 50
    outgoing.connect("PCMU", srtp=False)
    outgoing.end("local hangup", duration=3.0)
    qtbot.mouseClick(in_window.answer_button, Qt.MouseButton.LeftButton)
    incoming.end("remote hangup", duration=2.0)
    assert out_window.close_button.isVisible() and in_window.close_button.isVisible()  # "Call ended" first
    qtbot.waitUntil(lambda: not window.call_windows, timeout=2000)  # both closed (and deleted)


def test_a_call_is_recorded_from_the_call_window_and_linked_from_its_history_entry(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a Record button, a visible indicator while it records, files named by peer and time in the
    folder chosen in the settings, and the history entry leads to the file."""
    window, controller, recorder = _setup(qtbot)
    controller.prefs.recordings_dir = str(tmp_path / "recordings")
    window.dial("sip:bob@example.org", ALICE.id)
    call = recorder.made[0]
    cw = _window(qtbot, window, call.id)
    assert not cw.record_button.isEnabled()  # nothing to record before the call connects
    call.connect("PCMU", srtp=False)
    assert cw.record_button.isEnabled() and not cw.recording_label.isVisible()
    qtbot.mouseClick(cw.record_button, Qt.MouseButton.LeftButton)
    assert cw.recording_label.isVisible() and cw.record_button.isChecked()
    path = Path(controller.calls[call.id].recording or "")
    assert path.parent == tmp_path / "recordings" and path.name.startswith("bob@example.org-")
    assert path.suffix == ".wav" and path.exists()
    assert str(path) in cw.recording_label.toolTip()
    call.end("local hangup", duration=5.0)
    record = controller.history.calls()[0]
    assert record.recording == str(path)
    window.history_view.refresh()
    item = window.history_view.list.item(0)
    assert "recorded" in item.text()
    assert item.data(ROLE_RECORDING) == str(path)  # what "Play the recording" opens
