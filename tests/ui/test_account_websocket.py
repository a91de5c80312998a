"""The account dialog offers SIP over WebSocket (RFC 7118) and keeps its URL."""

from __future__ import annotations

from pathlib import Path

from softphone.core.account import AccountConfig
from softphone.core.settings import load_accounts, save_accounts
from softphone.ui.account_dialog import AccountDialog


def test_websocket_account_with_its_url_is_built_and_saved(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    form = dialog.form
    form.user.setText("alice")
    form.domain.setText("example.com")
    form.password.setText("s3cret")
    form.advanced.setChecked(True)
    assert not form.ws_url.isEnabled()  # meaningless for UDP
    form.transport.setCurrentIndex(form.transport.findData("wss"))
    assert form.ws_url.isEnabled()
    form.ws_url.setText("wss://sip.example.com/ws")
    dialog.accept()
    config = dialog.result_config
    assert config is not None
    assert config.transport == "wss" and config.ws_url == "wss://sip.example.com/ws"
    save_accounts([config], tmp_path / "accounts.json")
    assert load_accounts(tmp_path / "accounts.json")[0].ws_url == "wss://sip.example.com/ws"


def test_editing_a_websocket_account_shows_its_url(qtbot) -> None:  # type: ignore[no-untyped-def]
    config = AccountConfig(aor="sip:alice@example.com", transport="ws", ws_url="ws://10.0.0.1:8080/")
    dialog = AccountDialog(config=config)
    qtbot.addWidget(dialog)
    assert dialog.form.transport.currentData() == "ws"
    assert dialog.form.ws_url.text() == "ws://10.0.0.1:8080/"


def test_a_bad_websocket_url_is_told_in_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    form = dialog.form
    form.user.setText("alice")
    form.domain.setText("example.com")
    form.password.setText("s3cret")
    form.transport.setCurrentIndex(form.transport.findData("ws"))
    form.ws_url.setText("http://example.com/")
    dialog.accept()
    assert dialog.result_config is None
    assert "WebSocket URL" in form.error_label.text()
