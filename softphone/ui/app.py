"""The desktop application: Qt windows on a qasync loop, driving softphone.core.

``softphone [URI]`` starts the phone, or hands ``URI`` (sip:, sips:, tel:, callto:) to the phone
that is already running, which dials it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..core.account import AccountConfig, AccountError
from ..core.audio_devices import DeviceFollower
from ..core.device_media import device_tones, preload_media
from ..core.engine import Engine
from ..core.history import History
from ..core.secrets import get_password, turn_key
from ..core.settings import load_accounts
from ..core.trace import TraceEntry
from .account_dialog import AccountDialog
from .controller import PhoneController, make_media_factory
from .i18n import install_translations
from .main_window import MainWindow
from .media_keys import media_keys
from .preferences import Preferences
from .selftest import QT_CHECK_FLAG, qt_child_main, self_test
from .shutdown import quit_on_signals
from .single_instance import SingleInstance, is_call_uri, normalize_uri, send_to_running
from .theme import app_icon, apply_scheme
from .tray import Tray

__all__ = ["AccountDialog", "MainWindow", "main"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 5060


def _parse_listen(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":")
    return (host or "0.0.0.0", int(port))


async def _start_engine(engine: Engine, fixed: bool) -> None:
    """Listen on 5060 when it is free (others can call us directly there), else on any port."""
    try:
        await engine.start()
    except OSError as exc:
        if fixed:
            raise
        log.info("port %s is taken (%s); listening on a free port", engine.listen[1], exc)
        engine.listen = (engine.listen[0], 0)
        await engine.start()


async def _run(
    window: MainWindow,
    controller: PhoneController,
    *,
    quit_after: float | None,
    uri: str | None,
    fixed_port: bool,
    start_hidden: bool,
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    closed = asyncio.Event()
    window.request_quit = closed.set  # Quit: hang up and unregister first, then leave the loop
    app.aboutToQuit.connect(closed.set)
    signals = quit_on_signals(app, closed.set)  # SIGTERM, SIGINT, the session's end: the same way out
    engine = controller.engine
    try:
        await _start_engine(engine, fixed_port)
    except OSError as exc:
        window.show_error(window.tr("Cannot open the network port: {error}").format(error=exc))
    for status in controller.account_list():
        if status.config.password is None:
            status.config.password = get_password(status.config.id)
        if status.config.turn_server and status.config.turn_password is None:
            status.config.turn_password = get_password(turn_key(status.config.id))
    controller.start_accounts()
    if window.tray is not None:
        controller.spawn(window.tray.start_notifications())
    # headset and keyboard media keys: Play/Pause answers and hangs up (MPRIS on Linux)
    keys = media_keys(lambda key: log.info("media key %s: %s", key, controller.media_key(key)))
    controller.spawn(keys.start())
    controller.call_changed.connect(lambda _id: keys.set_active(bool(controller.active_calls())))
    controller.call_ended.connect(lambda _id: keys.set_active(bool(controller.active_calls())))
    # the media stack (numpy, PyAV, aiortc) loads in the background once the window is up, so that
    # start-up stays short and the first call does not wait for the import
    asyncio.get_running_loop().run_in_executor(None, preload_media)
    if start_hidden and window.tray is not None and window.tray.available():
        window.hide()
    else:
        window.show()
        # bench/startup.py measures launch-to-window with this line
        QTimer.singleShot(0, lambda: log.info("main window shown"))
    if not controller.accounts and not controller.prefs.first_run_done and uri is None:
        window.open_wizard()
    if uri:
        window.dial_uri(uri)
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), window.quit)
    await closed.wait()
    for other in app.topLevelWidgets():
        other.hide()
    if window.tray is not None:
        await window.tray.notifications.close()
    await keys.close()
    await asyncio.wait_for(engine.stop(), 15)
    if signals is not None:
        signals.close()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv if argv is not None else sys.argv[1:])
    if argv[:1] == [QT_CHECK_FLAG]:
        return qt_child_main()
    parser = argparse.ArgumentParser(prog="softphone", description="A SIP softphone for the desktop.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check codecs, audio, SRTP, DTLS, Qt and the keyring, then exit",
    )
    parser.add_argument("uri", nargs="?", help="a sip:, sips: or tel: address to call")
    parser.add_argument("--listen", metavar="HOST:PORT", help="where to receive calls (default 0.0.0.0:5060)")
    parser.add_argument("--new-instance", action="store_true", help="do not hand over to a running phone")
    parser.add_argument("--hidden", action="store_true", help="start in the system tray")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="override the appearance")
    parser.add_argument("--quit-after", type=float, help="quit after this many seconds (tests)")
    parser.add_argument("--sip-trace", action="store_true", help="also print every SIP message on stderr")
    parser.add_argument("--lang", help="user interface language, e.g. de (default: the system's)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args, qt_args = parser.parse_known_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.self_test:
        return self_test()
    uri = normalize_uri(args.uri) if args.uri else None
    if uri is not None and not is_call_uri(uri):
        uri = "sip:" + uri if "@" in uri else uri

    import qasync

    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Softphone")
    app.setOrganizationName("softphone")
    app.setDesktopFileName("softphone")
    app.setWindowIcon(app_icon())
    install_translations(app, args.lang or Preferences.load().language or None)
    app.setQuitOnLastWindowClosed(False)

    instance: SingleInstance | None = None
    if not args.new_instance:
        if send_to_running({"dial": uri} if uri else {"show": "1"}):
            log.info("handed over to the running phone")
            return 0
        instance = SingleInstance(parent=app)
        if instance.listen():
            log.info("waiting for other launches on %s", instance.name)

    prefs = Preferences.load()
    apply_scheme(app, args.theme or prefs.theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    try:
        accounts: list[AccountConfig] = load_accounts()
    except (OSError, ValueError, AccountError, TypeError) as exc:
        log.error("cannot read the accounts file: %s", exc)
        accounts = []
    try:
        history = History()
    except Exception as exc:  # an unreadable database must not stop the phone
        log.error("cannot open the call history: %s; keeping it in memory for now", exc)
        history = History(":memory:")

    controller_ref: list[PhoneController] = []

    def trace(entry: TraceEntry) -> None:
        if args.sip_trace:
            print(entry.format(), file=sys.stderr)
        if controller_ref:
            controller_ref[0].on_trace(entry)

    def srtp_policy() -> str:
        return controller_ref[0].outgoing_srtp if controller_ref else prefs.default_srtp

    listen = _parse_listen(args.listen)
    engine = Engine(
        listen=listen or ("0.0.0.0", DEFAULT_PORT),
        trace=trace,
        media_factory=make_media_factory(prefs, srtp_policy),
    )
    controller = PhoneController(engine, accounts, history, prefs)
    controller_ref.append(controller)
    tones = device_tones(engine, lambda: prefs.ringing_device, lambda: prefs.output_device)
    follower = DeviceFollower(engine, lambda: prefs.input_device, lambda: prefs.output_device)
    controller.device_chooser = follower.choose
    loop.call_soon(follower.start)
    window = MainWindow(controller)
    window.quit_on_close = True
    Tray(window)
    if instance is not None:
        instance.dial_requested.connect(window.dial_uri)
        instance.show_requested.connect(window.show_window)
    with loop:
        try:
            loop.run_until_complete(
                _run(
                    window,
                    controller,
                    quit_after=args.quit_after,
                    uri=uri,
                    fixed_port=listen is not None,
                    start_hidden=args.hidden or prefs.start_hidden,
                )
            )
        except RuntimeError as exc:  # Qt quit on its own (the session ends): still hang up and unregister
            log.info("the event loop stopped early (%s); shutting down", exc)
            try:
                loop.run_until_complete(asyncio.wait_for(engine.stop(), 15))
            except (RuntimeError, TimeoutError, OSError) as again:
                log.warning("could not unregister cleanly: %s", again)
    if instance is not None:
        instance.close()
    tones.close()
    controller.close()
    history.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
