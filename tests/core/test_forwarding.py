"""Call forwarding and auto-answer per account (issue 12), between engines on loopback: the forwarding
phone answers 302 (RFC 3261 §21.3.3), the caller follows the Contact (§8.1.3.4)."""

from __future__ import annotations

import asyncio

import pytest

from softphone.core.account import AccountConfig, AccountError
from softphone.core.engine import Engine
from tests.core.test_transfer import _engines, _names, _run, _until


def _forwarding(engine: Engine, **settings: object) -> AccountConfig:
    """An account on ``engine`` that takes direct calls (no registrar here) with these settings."""
    account = AccountConfig(aor="sip:bob@127.0.0.1", register=False, allow_direct_calls=True, **settings)  # type: ignore[arg-type]
    engine.add_account(account)
    return account


def test_forward_always_sends_the_caller_to_the_target() -> None:
    async def scenario() -> None:
        (a, b, c), (log_a, log_b, log_c) = await _engines(3)
        b.auto_answer = c.auto_answer = False
        c.auto_answer = True
        try:
            assert b.local and c.local
            _forwarding(b, forward="always", forward_to=f"sip:carol@127.0.0.1:{c.local[1]}")
            call = await a.call(f"sip:bob@127.0.0.1:{b.local[1]}")
            await _until(lambda: call.state == "connected")
            redirected = [e for e in log_a if e.name == "redirected"]
            assert redirected and redirected[0].fields["status"] == 302
            assert f":{c.local[1]}" in redirected[0].fields["to"]
            assert "forwarded" in _names(log_b) and "incoming" not in _names(log_b)  # bob's phone never rang
            assert any(x.direction == "incoming" and x.state == "connected" for x in c.calls.values())
        finally:
            for engine in (a, b, c):
                await engine.stop()

    _run(scenario)


def test_forward_on_busy_only_while_a_call_is_up() -> None:
    async def scenario() -> None:
        (a, b, c), (log_a, log_b, log_c) = await _engines(3)
        b.auto_answer = False
        try:
            assert b.local and c.local
            _forwarding(b, forward="busy", forward_to=f"sip:carol@127.0.0.1:{c.local[1]}")
            first = await a.call(f"sip:bob@127.0.0.1:{b.local[1]}")
            await _until(lambda: any(x.state == "ringing" for x in b.calls.values()))
            assert "forwarded" not in _names(log_b)  # not busy: it rings
            second = await a.call(f"sip:bob@127.0.0.1:{b.local[1]}")  # bob is busy with the first
            await _until(lambda: second.state == "connected")
            assert [e.fields["why"] for e in log_b if e.name == "forwarded"] == ["busy"]
            await first.hangup()
        finally:
            for engine in (a, b, c):
                await engine.stop()

    _run(scenario)


def test_forward_on_no_answer_after_the_ringing_time() -> None:
    async def scenario() -> None:
        (a, b, c), (log_a, log_b, log_c) = await _engines(3)
        b.auto_answer = False
        try:
            assert b.local and c.local
            _forwarding(
                b, forward="no_answer", forward_to=f"sip:carol@127.0.0.1:{c.local[1]}", forward_after=0.6
            )
            call = await a.call(f"sip:bob@127.0.0.1:{b.local[1]}")
            await _until(lambda: any(x.state == "ringing" for x in b.calls.values()))
            started = asyncio.get_running_loop().time()
            await _until(lambda: call.state == "connected")
            assert asyncio.get_running_loop().time() - started >= 0.5  # it rang first
            ended = [x for x in b.calls.values() if x.ended] or [None]
            assert "incoming" in _names(log_b) and "forwarded" in _names(log_b)
            assert ended[0] is None or ended[0].end_status == 302
        finally:
            for engine in (a, b, c):
                await engine.stop()

    _run(scenario)


def test_auto_answer_per_account_after_its_delay() -> None:
    async def scenario() -> None:
        (a, b), (log_a, log_b) = await _engines(2)
        b.auto_answer = False
        try:
            assert b.local
            _forwarding(b, auto_answer=True, auto_answer_delay=0.5)
            call = await a.call(f"sip:bob@127.0.0.1:{b.local[1]}")
            await _until(lambda: call.state == "ringing")
            started = asyncio.get_running_loop().time()
            await _until(lambda: call.state == "connected")
            assert asyncio.get_running_loop().time() - started >= 0.4
        finally:
            for engine in (a, b):
                await engine.stop()

    _run(scenario)


def test_forwarding_needs_a_target() -> None:
    with pytest.raises(AccountError, match="forward to"):
        AccountConfig(aor="sip:bob@example.com", forward="always")
    with pytest.raises(AccountError, match="unknown call forwarding"):
        AccountConfig(aor="sip:bob@example.com", forward="sometimes", forward_to="100")


def test_a_forwarding_number_is_dialled_as_typed_at_the_accounts_domain() -> None:
    from softphone.core.engine import _forward_target

    account = AccountConfig(aor="sip:bob@pbx.example.org", forward="always", forward_to="+49 (0)30 1234")
    assert _forward_target(account) == "sip:+49301234@pbx.example.org"
    account.forward_to = "carol@example.net"
    assert _forward_target(account) == "sip:carol@example.net"
