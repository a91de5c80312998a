"""The account dialog sets STUN and TURN servers, relay-only and the media profile of an account."""

from __future__ import annotations

from softphone.core.account import AccountConfig
from softphone.ui.account_dialog import AccountDialog


def fill(dialog: AccountDialog) -> None:
    form = dialog.form
    form.user.setText("alice")
    form.domain.setText("example.com")
    form.password.setText("s3cret")
    form.advanced.setChecked(True)


def test_turn_credentials_and_relay_only_are_set_in_the_dialog(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    fill(dialog)
    form = dialog.form
    assert not form.relay_only.isEnabled()  # nothing to relay through yet
    form.stun.setText("stun.example.com:3478")
    form.turn.setText("turn:turn.example.com:3478?transport=tcp")
    assert form.relay_only.isEnabled()
    form.turn_user.setText("alice")
    form.turn_password.setText("turn-secret")
    form.relay_only.setChecked(True)
    form.media_profile.setCurrentIndex(form.media_profile.findData("webrtc"))
    dialog.accept()
    config = dialog.result_config
    assert config is not None
    assert config.stun_server == "stun.example.com:3478"
    assert config.turn_server == "turn:turn.example.com:3478?transport=tcp"
    assert (config.turn_username, config.turn_password, config.ice_relay_only) == (
        "alice",
        "turn-secret",
        True,
    )
    assert config.media_profile == "webrtc"


def test_editing_keeps_the_turn_password_when_the_field_is_left_empty(qtbot) -> None:  # type: ignore[no-untyped-def]
    old = AccountConfig(
        aor="sip:alice@example.com", turn_server="turn.example.com", turn_username="a", turn_password="kept"
    )
    dialog = AccountDialog(config=old)
    qtbot.addWidget(dialog)
    assert dialog.form.turn.text() == "turn.example.com" and dialog.form.turn_password.text() == ""
    dialog.form.password.setText("x")
    dialog.accept()
    assert dialog.result_config is not None and dialog.result_config.turn_password == "kept"
