"""softphone-cli call / answer: calls from scripts, with WAV files as microphone and speaker."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

from .cli_engine import _engine
from .core.account import AccountConfig
from .core.call import Call
from .core.engine import Engine, MediaOptions
from .core.events import EngineEvent

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_REGISTRATION = 1
EXIT_NOT_ANSWERED = 3
EXIT_BROKEN = 4


def media_options(args: argparse.Namespace) -> MediaOptions:
    options = MediaOptions(
        codecs=[c.strip() for c in args.codecs.split(",") if c.strip()],
        srtp=args.srtp,
        play=args.play,
        record=args.record,
        media_timeout=args.media_timeout,
        # a STUN or TURN server is only of use through ICE (as for an account's servers)
        ice=bool(args.ice or args.ice_relay_only or args.stun_server or args.turn_server),
        stun_server=args.stun_server,
        turn_server=args.turn_server,
        turn_username=args.turn_user,
        turn_password=os.environ.get(args.turn_password_env) if args.turn_password_env else None,
        ice_relay_only=args.ice_relay_only,
        profile=getattr(args, "media_profile", "auto"),
    )
    _sound_devices(options, args)
    return options


def _device_name(value: str | None) -> str | None:
    return None if value in (None, "", "default") else value


def _sound_devices(options: MediaOptions, args: argparse.Namespace) -> None:
    """--mic / --speaker: sound devices instead of files; echo cancellation on with a microphone."""
    from .core.audio_devices import open_device

    mic, speaker = getattr(args, "mic", None), getattr(args, "speaker", None)
    if mic is not None:
        options.source_factory = lambda: open_device("microphone", _device_name(mic))
    if speaker is not None:
        options.sink_factory = lambda: open_device("speaker", _device_name(speaker))
    aec = getattr(args, "aec", None)
    options.aec = aec if aec is not None else ("auto" if mic is not None else "none")


def _device_helpers(engine: Engine, args: argparse.Namespace) -> None:
    """With sound devices: call tones, and calls that follow devices coming and going."""
    from .core.audio_devices import DeviceFollower
    from .core.device_media import device_tones

    mic, speaker, ringer = (getattr(args, name, None) for name in ("mic", "speaker", "ringer"))
    if speaker is not None or ringer is not None:
        device_tones(engine, lambda: _device_name(ringer or speaker), lambda: _device_name(speaker))
    if mic is not None or speaker is not None:
        DeviceFollower(engine, lambda: _device_name(mic), lambda: _device_name(speaker)).start()


def _exit_code(call: Call) -> int:
    if call.answered_at is None:
        return EXIT_NOT_ANSWERED
    if call.end_reason and call.end_reason.startswith(("media timeout", "no ACK", "unusable answer")):
        return EXIT_BROKEN
    return EXIT_OK


async def _setup(
    args: argparse.Namespace, config: AccountConfig | None, out: Any
) -> tuple[Engine, asyncio.Event]:
    engine = _engine(args, out, config, media=media_options(args))
    show_levels = getattr(args, "levels", False)
    engine.subscribe(lambda event: None if event.name == "levels" and not show_levels else out.event(event))
    _device_helpers(engine, args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    return engine, stop


async def _register(engine: Engine, config: AccountConfig) -> bool:
    """Register and wait for the outcome; True when registered."""
    outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def watch(event: EngineEvent) -> None:
        if outcome.done() or event.account != config.id:
            return
        if event.name == "registered":
            outcome.set_result(True)
        elif event.name == "registration_failed" and event.fields.get("permanent"):
            outcome.set_result(False)

    unsubscribe = engine.subscribe(watch)
    engine.add_account(config)
    await engine.register(config.id)
    try:
        return await outcome
    finally:
        unsubscribe()


async def _interactive(engine: Engine, call_ref: list[Call], out: Any) -> None:
    """JSON commands on stdin, one per line: hold, resume, dtmf, hangup, answer, reject."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        try:
            command = json.loads(line)
            name = command["command"]
        except (ValueError, KeyError, TypeError):
            out.event(
                EngineEvent(
                    "error", None, {"message": f"not a command: {line.decode(errors='replace').strip()}"}
                )
            )
            continue
        call = call_ref[0] if call_ref else None
        if call is None:
            out.event(EngineEvent("error", None, {"message": "no call"}))
            continue
        if name == "hold":
            await call.hold(True)
        elif name == "resume":
            await call.hold(False)
        elif name == "dtmf":
            await call.send_dtmf(str(command.get("digits", "")))
        elif name == "hangup":
            await call.hangup()
        elif name == "answer":
            await call.answer()
        elif name == "transfer":
            ok = await call.transfer(str(command.get("target", "")))
            if not ok:
                out.event(EngineEvent("error", None, {"message": "transfer refused"}))
        elif name == "reject":
            await call.reject(int(command.get("status", 486)))
        elif name == "record":
            try:
                if command.get("on", True):
                    call.start_recording(str(command.get("path", "")))
                else:
                    call.stop_recording()
            except OSError as exc:
                out.event(EngineEvent("error", None, {"message": f"cannot record: {exc}"}))
        else:
            out.event(EngineEvent("error", None, {"message": f"unknown command {name}"}))


async def _talk(call: Call, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Wait for the end of the call, hanging up after --duration of conversation or on a signal;
    send --dtmf digits once the call is answered."""
    stopper = asyncio.ensure_future(stop.wait())
    ended = asyncio.ensure_future(call.wait_ended())
    digits = getattr(args, "dtmf", None)
    record_to = getattr(args, "record_call", None)
    try:
        while not call.ended:
            if record_to and call.answered_at is not None:
                try:
                    call.start_recording(record_to)
                except OSError as exc:
                    log.error("cannot record the call: %s", exc)
                record_to = None
            timeout: float | None = None
            if args.duration is not None and call.answered_at is not None:
                timeout = max(0.0, args.duration - call.duration)
            if call.answered_at is None or digits:
                timeout = 0.1 if timeout is None else min(timeout, 0.1)  # look again soon
            done, _ = await asyncio.wait(
                {stopper, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ended in done:
                break
            if stopper in done or (
                args.duration is not None and call.answered_at is not None and call.duration >= args.duration
            ):
                await call.hangup()
                break
            if digits and call.state == "connected":
                await call.send_dtmf(digits)
                digits = None
    finally:
        stopper.cancel()
        ended.cancel()
    await call.wait_ended()


async def run_call(args: argparse.Namespace, config: AccountConfig | None, out: Any) -> int:
    engine, stop = await _setup(args, config, out)
    try:
        if config is not None and config.register and not await _register(engine, config):
            return EXIT_REGISTRATION
        call = await engine.call(args.uri, config.id if config else None)
        tasks = []
        if args.interactive:
            tasks.append(asyncio.ensure_future(_interactive(engine, [call], out)))
        await _talk(call, args, stop)
        for task in tasks:
            task.cancel()
        return _exit_code(call)
    finally:
        await engine.stop()


async def run_answer(args: argparse.Namespace, config: AccountConfig | None, out: Any) -> int:
    engine, stop = await _setup(args, config, out)
    engine.auto_answer = not args.interactive
    try:
        if config is not None:
            config.allow_direct_calls = args.allow_direct
            if not await _register(engine, config):
                return EXIT_REGISTRATION
        answered = 0
        result = EXIT_OK
        call_ref: list[Call] = []
        tasks = []
        if args.interactive:
            tasks.append(asyncio.ensure_future(_interactive(engine, call_ref, out)))
        while (args.calls == 0 or answered < args.calls) and not stop.is_set():
            call = await _next_call(engine, stop)
            if call is None:
                break
            call_ref[:] = [call]
            await _talk(call, args, stop)
            answered += 1
            result = _exit_code(call)
        for task in tasks:
            task.cancel()
        return result
    finally:
        await engine.stop()


async def _next_call(engine: Engine, stop: asyncio.Event) -> Call | None:
    """The next incoming call, even one that already ended (a 488 right away counts too)."""
    getter = asyncio.ensure_future(engine.incoming_calls.get())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not getter.done():
            getter.cancel()
    return getter.result() if getter.done() and not getter.cancelled() else None
