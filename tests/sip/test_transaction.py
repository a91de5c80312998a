"""The sans-IO transaction layer (RFC 3261 §17, RFC 6026, RFC 3261 §9 for CANCEL)."""

from __future__ import annotations

from typing import Any

import pytest

from softphone.sip.headers import Headers
from softphone.sip.message import Request, Response, make_response
from softphone.sip.transaction import (
    AckReceived,
    CancelReceived,
    ClientTransaction,
    Event,
    RequestReceived,
    ResponseReceived,
    Send,
    ServerTransaction,
    StrayResponse,
    Timers,
    TransactionError,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
    new_branch,
)

PROXY = ("192.0.2.10", 5060)  # where client requests go
ALICE = ("192.0.2.20", 5060)  # where server requests come from
UDP = False  # the ``reliable`` flag
TCP = True


def request(
    method: str = "INVITE",
    *,
    branch: str | None = "z9hG4bKclient1",
    cseq: int = 1,
    cseq_method: str | None = None,
    to_tag: str | None = None,
    uri: str = "sip:bob@biloxi.example.com",
    route: str | None = None,
    via_host: str = "pc33.atlanta.example.com",
) -> Request:
    via = f"SIP/2.0/UDP {via_host}" + (f";branch={branch}" if branch is not None else "")
    headers = Headers(
        [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("To", "Bob <sip:bob@biloxi.example.com>" + (f";tag={to_tag}" if to_tag else "")),
            ("From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774"),
            ("Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"),
            ("CSeq", f"{cseq} {cseq_method or method}"),
            ("Contact", "<sip:alice@pc33.atlanta.example.com>"),
        ]
    )
    if route is not None:
        headers.add("Route", route)
    return Request(method, uri, headers)


def respond(req: Request, status: int, to_tag: str | None = "bobtag") -> Response:
    return make_response(req, status, to_tag=to_tag if status > 100 else None)


def sent(events: list[Event]) -> list[Request | Response]:
    return [e.message for e in events if isinstance(e, Send)]


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def fire_times(layer: TransactionLayer, until: float) -> list[float]:
    """Run every timer up to ``until``; the times at which something was sent."""
    times: list[float] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        if sent(layer.on_timer(deadline)):
            times.append(deadline)
    return times


def run_until(layer: TransactionLayer, until: float) -> list[Event]:
    """Fire every timer up to ``until``, one deadline at a time, as an event loop would."""
    events: list[Event] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        events.extend(layer.on_timer(deadline))
    return events


def client(
    method: str = "INVITE", *, reliable: bool = UDP, layer: TransactionLayer | None = None, **kw: Any
) -> tuple[TransactionLayer, ClientTransaction, Request]:
    layer = layer or TransactionLayer()
    req = request(method, **kw)
    txn, events = layer.send_request(req, PROXY, reliable=reliable, now=0.0)
    assert events == [Send(req, PROXY)]
    return layer, txn, req


def server(
    method: str = "INVITE", *, reliable: bool = UDP, layer: TransactionLayer | None = None, **kw: Any
) -> tuple[TransactionLayer, ServerTransaction, Request]:
    layer = layer or TransactionLayer()
    req = request(method, **kw)
    events = layer.receive(req, ALICE, reliable=reliable, now=0.0)
    assert len(events) == 1 and isinstance(events[0], RequestReceived)
    return layer, events[0].transaction, req


# ---------------------------------------------------------------------------------------------
# Timer values


def test_timers_derive_from_t1_t2_t4() -> None:
    """RFC 3261 §17 Table 4: B, F, H, J = 64*T1; I, K = T4 and D = 32 s on UDP, zero on TCP;
    RFC 6026 §7.1, §7.2: L, M = 64*T1."""
    timers = Timers(t1=0.1, t2=0.8, t4=1.5)
    assert (timers.timer_b, timers.timer_f, timers.timer_h) == (6.4, 6.4, 6.4)
    assert (timers.timer_l, timers.timer_m) == (6.4, 6.4)
    assert (timers.timer_j(reliable=False), timers.timer_j(reliable=True)) == (6.4, 0.0)
    assert (timers.timer_i(reliable=False), timers.timer_k(reliable=False)) == (1.5, 1.5)
    assert (timers.timer_i(reliable=True), timers.timer_k(reliable=True)) == (0.0, 0.0)
    assert (timers.timer_d(reliable=False), timers.timer_d(reliable=True)) == (32.0, 0.0)


def test_inconsistent_timers_are_refused() -> None:
    """RFC 3261 §17.1.2.2: T2 is the cap of the T1-based backoff, so T1 <= T2."""
    with pytest.raises(ValueError):
        Timers(t1=5.0, t2=4.0)


def test_configured_t1_sets_first_retransmission() -> None:
    """RFC 3261 §17.1.1.2: Timer A starts at T1, whatever T1 is configured to."""
    layer = TransactionLayer(Timers(t1=0.1, t2=0.8, t4=1.0))
    _, txn, _ = client(layer=layer)
    assert txn.pending_timers == {"A": pytest.approx(0.1), "B": pytest.approx(6.4)}


def test_configured_t2_caps_timer_e() -> None:
    """RFC 3261 §17.1.2.2: Timer E doubles up to T2, whatever T2 is configured to."""
    layer = TransactionLayer(Timers(t1=0.5, t2=1.0, t4=5.0))
    client("OPTIONS", layer=layer)
    assert fire_times(layer, 4.0) == [0.5, 1.5, 2.5, 3.5]


def test_configured_t4_sets_timer_k() -> None:
    """RFC 3261 §17.1.2.2: Timer K is T4 on an unreliable transport."""
    layer, txn, req = client("OPTIONS", layer=TransactionLayer(Timers(t4=2.5)))
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=1.0)
    assert txn.pending_timers == {"K": 3.5}


# ---------------------------------------------------------------------------------------------
# INVITE client transaction (§17.1.1, RFC 6026)


def test_invite_client_starts_in_calling() -> None:
    """RFC 3261 §17.1.1.2: the INVITE is sent and the transaction enters Calling."""
    _, txn, _ = client()
    assert txn.state == "calling"


def test_timer_a_retransmits_invite_with_doubling_interval_on_udp() -> None:
    """RFC 3261 §17.1.1.2: Timer A fires after T1, 2*T1, 4*T1 ...; each time the INVITE is resent."""
    layer, _, req = client()
    assert layer.on_timer(0.5) == [Send(req, PROXY)]
    assert layer.next_deadline() == 1.5
    assert layer.on_timer(1.5) == [Send(req, PROXY)]
    assert layer.next_deadline() == 3.5


def test_timer_a_doubling_is_not_capped_at_t2() -> None:
    """RFC 3261 §17.1.1.2: unlike Timer E, Timer A keeps doubling past T2 (4 s)."""
    layer, _, _ = client()
    assert fire_times(layer, 31.9) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]


def test_invite_is_not_retransmitted_on_tcp() -> None:
    """RFC 3261 §17.1.1.2: Timer A runs only on unreliable transports."""
    layer, txn, _ = client(reliable=TCP)
    assert txn.pending_timers == {"B": 32.0}
    assert layer.on_timer(31.9) == []


def test_timer_b_times_out_invite_in_calling() -> None:
    """RFC 3261 §17.1.1.2: Timer B (64*T1) in Calling informs the TU of the timeout and ends."""
    layer, txn, _ = client(reliable=TCP)
    assert layer.on_timer(32.0) == [TransactionTimeout(txn), TransactionTerminated(txn)]
    assert txn.state == "terminated"


def test_timer_b_on_udp_comes_after_the_last_retransmission() -> None:
    """RFC 3261 §17.1.1.2: on UDP the INVITE is retransmitted until Timer B fires at 64*T1."""
    layer, txn, _ = client()
    events = run_until(layer, 32.0)
    assert kinds(events) == ["Send"] * 6 + ["TransactionTimeout", "TransactionTerminated"]


def test_provisional_moves_invite_client_to_proceeding() -> None:
    """RFC 3261 §17.1.1.2: a 1xx in Calling goes to the TU and moves the transaction to Proceeding."""
    layer, txn, req = client()
    ringing = respond(req, 180)
    assert layer.receive(ringing, PROXY, reliable=UDP, now=0.2) == [ResponseReceived(ringing, txn)]
    assert txn.state == "proceeding"
    assert txn.last_response is ringing


def test_provisional_stops_invite_retransmissions_and_timer_b() -> None:
    """RFC 3261 §17.1.1.2: in Proceeding the INVITE is no longer retransmitted and cannot time out."""
    layer, txn, req = client()
    layer.receive(respond(req, 100), PROXY, reliable=UDP, now=0.2)
    assert txn.pending_timers == {}
    assert layer.on_timer(100.0) == []


def test_non2xx_final_is_acked_by_the_transaction() -> None:
    """RFC 3261 §17.1.1.3: the ACK for a 3xx-6xx has the INVITE's Request-URI, Call-ID, From, CSeq
    number, top Via and Route, the response's To, and method ACK."""
    layer, txn, req = client(route="<sip:proxy.example.com;lr>")
    busy = respond(req, 486)
    events = layer.receive(busy, PROXY, reliable=UDP, now=1.0)
    assert kinds(events) == ["Send", "ResponseReceived"]
    ack = sent(events)[0]
    assert isinstance(ack, Request) and ack is txn.ack
    assert ack.method == "ACK"
    assert ack.uri == req.uri
    assert ack.headers.get_all("Via") == req.headers.get_all("Via")[:1]
    assert ack.headers.get("To") == busy.headers.get("To")
    assert ack.to.tag == "bobtag"
    assert ack.headers.get("From") == req.headers.get("From")
    assert ack.call_id == req.call_id
    assert (ack.cseq.number, ack.cseq.method) == (1, "ACK")
    assert ack.headers.get_all("Route") == ["<sip:proxy.example.com;lr>"]
    assert isinstance(events[0], Send) and events[0].peer == PROXY


def test_non2xx_final_moves_invite_client_to_completed() -> None:
    """RFC 3261 §17.1.1.2: a 3xx-6xx moves the transaction to Completed and goes to the TU."""
    layer, txn, req = client()
    busy = respond(req, 486)
    assert ResponseReceived(busy, txn) in layer.receive(busy, PROXY, reliable=UDP, now=1.0)
    assert txn.state == "completed"


def test_retransmitted_non2xx_final_resends_ack_without_reaching_tu() -> None:
    """RFC 3261 §17.1.1.2: in Completed, each retransmitted final response makes the ACK be resent."""
    layer, txn, req = client()
    busy = respond(req, 486)
    layer.receive(busy, PROXY, reliable=UDP, now=1.0)
    assert txn.ack is not None
    assert layer.receive(respond(req, 486), PROXY, reliable=UDP, now=1.5) == [Send(txn.ack, PROXY)]


def test_timer_d_is_32_seconds_on_udp() -> None:
    """RFC 3261 §17.1.1.2: Timer D (at least 32 s) absorbs retransmitted final responses on UDP."""
    layer, txn, req = client()
    layer.receive(respond(req, 486), PROXY, reliable=UDP, now=1.0)
    assert txn.pending_timers == {"D": 33.0}
    assert layer.on_timer(33.0) == [TransactionTerminated(txn)]


def test_timer_d_is_zero_on_tcp() -> None:
    """RFC 3261 §17.1.1.2: Timer D is zero on reliable transports; the transaction ends at once."""
    layer, txn, req = client(reliable=TCP)
    events = layer.receive(respond(req, 486), PROXY, reliable=TCP, now=1.0)
    assert kinds(events) == ["Send", "ResponseReceived", "TransactionTerminated"]
    assert layer.transactions == 0


def test_2xx_moves_invite_client_to_accepted_without_acking() -> None:
    """RFC 6026 §7.2: a 2xx moves the INVITE client to Accepted; the ACK for a 2xx is the TU's job."""
    layer, txn, req = client()
    ok = respond(req, 200)
    assert layer.receive(ok, PROXY, reliable=UDP, now=1.0) == [ResponseReceived(ok, txn)]
    assert txn.state == "accepted"
    assert txn.ack is None


def test_retransmitted_2xx_in_accepted_reaches_tu() -> None:
    """RFC 6026 §7.2: 2xx retransmissions in Accepted go to the TU, which re-sends its ACK."""
    layer, txn, req = client()
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=1.0)
    again = respond(req, 200)
    assert layer.receive(again, PROXY, reliable=UDP, now=1.5) == [ResponseReceived(again, txn)]


def test_non2xx_in_accepted_is_absorbed() -> None:
    """RFC 6026 §7.2: only 2xx responses are passed up in the Accepted state."""
    layer, txn, req = client()
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=1.0)
    assert layer.receive(respond(req, 180), PROXY, reliable=UDP, now=1.5) == []


def test_timer_m_terminates_accepted_invite_client() -> None:
    """RFC 6026 §7.2: Timer M (64*T1) ends the Accepted state, on any transport."""
    layer, txn, req = client(reliable=TCP)
    layer.receive(respond(req, 200), PROXY, reliable=TCP, now=1.0)
    assert txn.pending_timers == {"M": 33.0}
    assert layer.on_timer(33.0) == [TransactionTerminated(txn)]


# ---------------------------------------------------------------------------------------------
# Non-INVITE client transaction (§17.1.2)


def test_non_invite_client_starts_in_trying() -> None:
    """RFC 3261 §17.1.2.2: the request is sent and the transaction enters Trying."""
    _, txn, _ = client("OPTIONS")
    assert txn.state == "trying"


def test_timer_e_doubles_up_to_t2() -> None:
    """RFC 3261 §17.1.2.2: Timer E fires after T1, 2*T1, 4*T1, then every T2 (4 s)."""
    layer, _, _ = client("OPTIONS")
    assert fire_times(layer, 16.0) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5]


def test_timer_e_is_t2_after_provisional() -> None:
    """RFC 3261 §17.1.2.2: once Proceeding, Timer E is reset to T2 each time it fires."""
    layer, txn, req = client("OPTIONS")
    layer.on_timer(0.5)  # next E at 1.5 (interval 1 s)
    layer.receive(respond(req, 100), PROXY, reliable=UDP, now=0.7)
    assert txn.state == "proceeding"
    assert layer.on_timer(1.5) == [Send(req, PROXY)]
    assert txn.pending_timers["E"] == 5.5  # 1.5 + T2, not 1.5 + 2 s


def test_non_invite_is_not_retransmitted_on_tcp() -> None:
    """RFC 3261 §17.1.2.2: Timer E runs only on unreliable transports."""
    _, txn, _ = client("OPTIONS", reliable=TCP)
    assert txn.pending_timers == {"F": 32.0}


def test_timer_f_times_out_non_invite() -> None:
    """RFC 3261 §17.1.2.2: Timer F (64*T1) in Trying or Proceeding informs the TU of the timeout."""
    layer, txn, req = client("OPTIONS")
    layer.receive(respond(req, 100), PROXY, reliable=UDP, now=0.2)
    events = run_until(layer, 32.0)
    assert events[-2:] == [TransactionTimeout(txn), TransactionTerminated(txn)]
    assert layer.transactions == 0


def test_final_response_moves_non_invite_client_to_completed() -> None:
    """RFC 3261 §17.1.2.2: a final response goes to the TU and stops Timers E and F."""
    layer, txn, req = client("OPTIONS")
    ok = respond(req, 200)
    assert layer.receive(ok, PROXY, reliable=UDP, now=0.2) == [ResponseReceived(ok, txn)]
    assert txn.state == "completed"
    assert set(txn.pending_timers) == {"K"}


def test_timer_k_is_t4_on_udp() -> None:
    """RFC 3261 §17.1.2.2: Timer K (T4, 5 s) absorbs retransmitted responses on UDP."""
    layer, txn, req = client("OPTIONS")
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=0.2)
    assert txn.pending_timers == {"K": 5.2}
    assert layer.on_timer(5.2) == [TransactionTerminated(txn)]


def test_timer_k_is_zero_on_tcp() -> None:
    """RFC 3261 §17.1.2.2: Timer K is zero on reliable transports."""
    layer, txn, req = client("OPTIONS", reliable=TCP)
    ok = respond(req, 200)
    assert layer.receive(ok, PROXY, reliable=TCP, now=0.2) == [
        ResponseReceived(ok, txn),
        TransactionTerminated(txn),
    ]


def test_retransmitted_final_is_absorbed_in_completed() -> None:
    """RFC 3261 §17.1.2.2: in Completed, retransmitted responses do not reach the TU."""
    layer, _, req = client("OPTIONS")
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=0.2)
    assert layer.receive(respond(req, 200), PROXY, reliable=UDP, now=0.3) == []


# ---------------------------------------------------------------------------------------------
# Matching responses to client transactions (§17.1.3)


def test_response_needs_the_same_cseq_method_as_the_request() -> None:
    """RFC 3261 §17.1.3: a 200 for a CANCEL shares the INVITE's branch but not its transaction."""
    layer, txn, req = client()
    cancel_ok = respond(request("CANCEL"), 200)  # same branch, CSeq 1 CANCEL
    assert layer.receive(cancel_ok, PROXY, reliable=UDP, now=0.2) == [StrayResponse(cancel_ok)]
    assert txn.state == "calling"


def test_response_with_unknown_branch_is_stray() -> None:
    """RFC 3261 §18.1.2: a response that matches no client transaction is dropped (and reported)."""
    layer, txn, _ = client()
    other = respond(request(branch="z9hG4bKsomeoneelse"), 200)
    assert layer.receive(other, PROXY, reliable=UDP, now=0.2) == [StrayResponse(other)]
    assert txn.state == "calling"


def test_response_after_the_transaction_ended_is_stray() -> None:
    """RFC 6026 §7.2: after Timer M, a 2xx retransmission matches nothing."""
    layer, _, req = client(reliable=TCP)
    layer.receive(respond(req, 200), PROXY, reliable=TCP, now=1.0)
    layer.on_timer(40.0)
    late = respond(req, 200)
    assert layer.receive(late, PROXY, reliable=TCP, now=41.0) == [StrayResponse(late)]


# ---------------------------------------------------------------------------------------------
# Sending CANCEL (§9.1)


def test_cancel_after_provisional_is_sent_at_once() -> None:
    """RFC 3261 §9.1: the CANCEL has the INVITE's Request-URI, Call-ID, To, From, CSeq number,
    single top Via and Route, with method CANCEL, and starts its own client transaction."""
    layer, txn, req = client(route="<sip:proxy.example.com;lr>")
    layer.receive(respond(req, 180), PROXY, reliable=UDP, now=0.2)
    cancel_txn, events = layer.cancel_request(txn, now=1.0)
    assert cancel_txn is not None and txn.cancel is cancel_txn
    cancel = cancel_txn.request
    assert events == [Send(cancel, PROXY)]
    assert cancel.method == "CANCEL" and cancel.uri == req.uri
    assert (cancel.cseq.number, cancel.cseq.method) == (1, "CANCEL")
    assert cancel.headers.get_all("Via") == req.headers.get_all("Via")[:1]
    for name in ("To", "From", "Call-ID", "Route"):
        assert cancel.headers.get(name) == req.headers.get(name)
    assert cancel_txn.state == "trying"


def test_cancel_before_provisional_waits_for_one() -> None:
    """RFC 3261 §9.1: with no provisional response yet, the CANCEL must not be sent; it goes out
    when the first provisional arrives."""
    layer, txn, req = client()
    assert layer.cancel_request(txn, now=0.1) == (None, [])
    assert txn.cancel_pending
    trying = respond(req, 100)
    events = layer.receive(trying, PROXY, reliable=UDP, now=0.3)
    assert txn.cancel is not None
    assert events == [ResponseReceived(trying, txn), Send(txn.cancel.request, PROXY)]


def test_pending_cancel_is_dropped_when_a_final_response_comes_first() -> None:
    """RFC 3261 §9.1: a CANCEL is pointless once the INVITE has a final response."""
    layer, txn, req = client()
    layer.cancel_request(txn, now=0.1)
    events = layer.receive(respond(req, 486), PROXY, reliable=UDP, now=0.3)
    assert [m.method for m in sent(events) if isinstance(m, Request)] == ["ACK"]
    assert txn.cancel is None and not txn.cancel_pending


def test_cancel_after_final_response_sends_nothing() -> None:
    """RFC 3261 §9.1: a request that has a final response cannot be cancelled."""
    layer, txn, req = client()
    layer.receive(respond(req, 200), PROXY, reliable=UDP, now=0.3)
    assert layer.cancel_request(txn, now=0.4) == (None, [])


def test_200_for_cancel_matches_the_cancel_transaction() -> None:
    """RFC 3261 §9.1, §17.1.3: the CANCEL's response goes to the CANCEL's own transaction."""
    layer, txn, req = client()
    layer.receive(respond(req, 180), PROXY, reliable=UDP, now=0.2)
    cancel_txn, _ = layer.cancel_request(txn, now=1.0)
    assert cancel_txn is not None
    ok = respond(cancel_txn.request, 200)
    assert layer.receive(ok, PROXY, reliable=UDP, now=1.1) == [ResponseReceived(ok, cancel_txn)]
    assert txn.state == "proceeding"


def test_only_invite_can_be_cancelled() -> None:
    """RFC 3261 §9.1: CANCEL is meaningful for INVITE only."""
    layer, txn, _ = client("OPTIONS")
    with pytest.raises(TransactionError):
        layer.cancel_request(txn, now=0.1)


# ---------------------------------------------------------------------------------------------
# INVITE server transaction (§17.2.1, RFC 6026)


def test_new_invite_reaches_tu_in_proceeding() -> None:
    """RFC 3261 §17.2.1: a new INVITE creates a server transaction in Proceeding and goes to the TU."""
    _, txn, req = server()
    assert txn.state == "proceeding"
    assert txn.request is req and txn.peer == ALICE


def test_retransmitted_invite_does_not_reach_tu_again() -> None:
    """RFC 3261 §17.2.1: request retransmissions are absorbed by the transaction."""
    layer, _, _ = server()
    assert layer.receive(request(), ALICE, reliable=UDP, now=0.1) == []


def test_retransmitted_invite_resends_last_provisional() -> None:
    """RFC 3261 §17.2.1: a retransmission in Proceeding gets the most recent provisional again."""
    layer, txn, req = server()
    ringing = respond(req, 180)
    assert layer.send_response(txn, ringing, now=0.1) == [Send(ringing, ALICE)]
    assert layer.receive(request(), ALICE, reliable=UDP, now=0.5) == [Send(ringing, ALICE)]


def test_server_sends_100_trying_after_200ms() -> None:
    """RFC 3261 §17.2.1: without a provisional from the TU within 200 ms, the transaction sends 100."""
    layer, txn, req = server()
    assert layer.next_deadline() == 0.2
    events = layer.on_timer(0.2)
    [trying] = sent(events)
    assert isinstance(trying, Response) and trying.status == 100
    assert trying.to.tag is None and trying.call_id == req.call_id
    assert txn.last_response is trying


def test_server_sends_100_trying_on_tcp_too() -> None:
    """RFC 3261 §17.2.1: the 100 is a MUST on every transport (on TCP it stops the client's Timer B)."""
    layer, _, _ = server(reliable=TCP)
    [trying] = sent(layer.on_timer(0.2))
    assert isinstance(trying, Response) and trying.status == 100


def test_no_automatic_100_when_tu_answers_within_200ms() -> None:
    """RFC 3261 §17.2.1: the 100 is only needed when the TU is slower than 200 ms."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 180), now=0.1)
    assert layer.on_timer(0.2) == []


def test_final_non2xx_is_retransmitted_with_timer_g() -> None:
    """RFC 3261 §17.2.1: on UDP a 3xx-6xx is resent when Timer G fires: T1, 2*T1, 4*T1 ..."""
    layer, txn, req = server()
    busy = respond(req, 486)
    layer.send_response(txn, busy, now=0.0)
    assert txn.state == "completed"
    assert layer.on_timer(0.5) == [Send(busy, ALICE)]
    assert layer.on_timer(1.5) == [Send(busy, ALICE)]
    assert layer.next_deadline() == 3.5


def test_timer_g_is_capped_at_t2() -> None:
    """RFC 3261 §17.2.1: Timer G doubles up to T2, then fires every T2."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    assert fire_times(layer, 20.0) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5]


def test_no_timer_g_on_tcp() -> None:
    """RFC 3261 §17.2.1: final responses are not retransmitted on reliable transports."""
    layer, txn, req = server(reliable=TCP)
    layer.send_response(txn, respond(req, 486), now=0.0)
    assert txn.pending_timers == {"H": 32.0}


def test_retransmitted_invite_in_completed_resends_final() -> None:
    """RFC 3261 §17.2.1: a retransmitted INVITE in Completed gets the final response again."""
    layer, txn, req = server()
    busy = respond(req, 486)
    layer.send_response(txn, busy, now=0.0)
    assert layer.receive(request(), ALICE, reliable=UDP, now=0.3) == [Send(busy, ALICE)]


def test_timer_h_times_out_without_ack() -> None:
    """RFC 3261 §17.2.1: without an ACK for 64*T1 the transaction reports the failure and ends."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    events = run_until(layer, 32.0)
    assert events[-2:] == [TransactionTimeout(txn), TransactionTerminated(txn)]
    assert layer.transactions == 0


def test_ack_in_completed_is_absorbed_and_starts_timer_i() -> None:
    """RFC 3261 §17.2.1: the ACK moves the transaction to Confirmed, stops G and H, starts I (T4)."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    ack = request("ACK", to_tag="bobtag", cseq_method="ACK")
    assert layer.receive(ack, ALICE, reliable=UDP, now=0.6) == []
    assert txn.state == "confirmed"
    assert txn.pending_timers == {"I": 5.6}


def test_ack_in_confirmed_is_absorbed() -> None:
    """RFC 3261 §17.2.1: ACK retransmissions in Confirmed go nowhere."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    ack = request("ACK", to_tag="bobtag", cseq_method="ACK")
    layer.receive(ack, ALICE, reliable=UDP, now=0.6)
    assert layer.receive(ack, ALICE, reliable=UDP, now=0.7) == []


def test_timer_i_ends_confirmed() -> None:
    """RFC 3261 §17.2.1: Timer I ends the Confirmed state."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    layer.receive(request("ACK", to_tag="bobtag", cseq_method="ACK"), ALICE, reliable=UDP, now=0.6)
    assert layer.on_timer(5.6) == [TransactionTerminated(txn)]


def test_timer_i_is_zero_on_tcp() -> None:
    """RFC 3261 §17.2.1: Timer I is zero on reliable transports; the ACK ends the transaction."""
    layer, txn, req = server(reliable=TCP)
    layer.send_response(txn, respond(req, 486), now=0.0)
    ack = request("ACK", to_tag="bobtag", cseq_method="ACK")
    assert layer.receive(ack, ALICE, reliable=TCP, now=0.6) == [TransactionTerminated(txn)]


def test_2xx_moves_invite_server_to_accepted() -> None:
    """RFC 6026 §7.1: a 2xx from the TU is sent once and the transaction waits in Accepted (Timer L);
    it does not retransmit the 2xx itself."""
    layer, txn, req = server()
    ok = respond(req, 200)
    assert layer.send_response(txn, ok, now=1.0) == [Send(ok, ALICE)]
    assert txn.state == "accepted"
    assert txn.pending_timers == {"L": 33.0}


def test_tu_retransmits_2xx_through_accepted_transaction() -> None:
    """RFC 6026 §7.1: in Accepted, a 2xx from the TU is passed to the transport."""
    layer, txn, req = server()
    ok = respond(req, 200)
    layer.send_response(txn, ok, now=1.0)
    assert layer.send_response(txn, ok, now=1.5) == [Send(ok, ALICE)]


def test_ack_in_accepted_goes_to_tu() -> None:
    """RFC 6026 §7.1: an ACK matching a transaction in Accepted is passed to the TU."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 200), now=1.0)
    ack = request("ACK", to_tag="bobtag", cseq_method="ACK")  # same branch (matches the transaction)
    assert layer.receive(ack, ALICE, reliable=UDP, now=1.1) == [AckReceived(ack, ALICE)]
    assert txn.state == "accepted"


def test_retransmitted_invite_in_accepted_is_absorbed() -> None:
    """RFC 6026 §7.1: the TU retransmits the 2xx; a retransmitted INVITE in Accepted is absorbed."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 200), now=1.0)
    assert layer.receive(request(), ALICE, reliable=UDP, now=1.5) == []


def test_timer_l_terminates_accepted_server() -> None:
    """RFC 6026 §7.1: Timer L (64*T1) ends the Accepted state."""
    layer, txn, req = server(reliable=TCP)
    layer.send_response(txn, respond(req, 200), now=1.0)
    assert layer.on_timer(33.0) == [TransactionTerminated(txn)]
    assert layer.transactions == 0


def test_2xx_after_accepted_ended_is_still_sent() -> None:
    """RFC 6026 §7.1, RFC 3261 §13.3.1.4: the TU keeps retransmitting its 2xx until it gets the ACK."""
    layer, txn, req = server(reliable=TCP)
    ok = respond(req, 200)
    layer.send_response(txn, ok, now=1.0)
    layer.on_timer(33.0)
    assert layer.send_response(txn, ok, now=33.0) == [Send(ok, ALICE)]


def test_ack_for_2xx_with_its_own_branch_goes_to_tu() -> None:
    """RFC 3261 §17.2.3, §13.3.1.4: the ACK for a 2xx is a new transaction; it matches nothing
    and goes to the TU (the dialog layer)."""
    layer = TransactionLayer()
    ack = request("ACK", branch="z9hG4bKack2xx", to_tag="bobtag")
    assert layer.receive(ack, ALICE, reliable=UDP, now=0.0) == [AckReceived(ack, ALICE)]
    assert layer.transactions == 0


def test_final_after_final_is_refused() -> None:
    """RFC 3261 §17.2.1: Completed admits no further response from the TU."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.0)
    with pytest.raises(TransactionError):
        layer.send_response(txn, respond(req, 603), now=0.1)


# ---------------------------------------------------------------------------------------------
# Non-INVITE server transaction (§17.2.2)


def test_new_non_invite_request_reaches_tu_in_trying() -> None:
    """RFC 3261 §17.2.2: a new request creates a server transaction in Trying."""
    _, txn, _ = server("OPTIONS")
    assert txn.state == "trying"
    assert txn.pending_timers == {}


def test_retransmission_in_trying_is_absorbed() -> None:
    """RFC 3261 §17.2.2: retransmissions before any response are discarded."""
    layer, _, _ = server("OPTIONS")
    assert layer.receive(request("OPTIONS"), ALICE, reliable=UDP, now=0.4) == []


def test_retransmitted_non_invite_resends_the_final() -> None:
    """RFC 3261 §17.2.2: in Completed, a retransmission gets the final response again."""
    layer, txn, req = server("OPTIONS")
    ok = respond(req, 200)
    layer.send_response(txn, ok, now=0.1)
    assert txn.state == "completed"
    assert layer.receive(request("OPTIONS"), ALICE, reliable=UDP, now=0.5) == [Send(ok, ALICE)]


def test_retransmitted_non_invite_resends_the_provisional() -> None:
    """RFC 3261 §17.2.2: in Proceeding, a retransmission gets the last provisional again."""
    layer, txn, req = server("REGISTER")
    trying = respond(req, 100)
    layer.send_response(txn, trying, now=0.1)
    assert txn.state == "proceeding"
    assert layer.receive(request("REGISTER"), ALICE, reliable=UDP, now=0.5) == [Send(trying, ALICE)]


def test_timer_j_is_64_t1_on_udp() -> None:
    """RFC 3261 §17.2.2: Timer J (64*T1) keeps the Completed state on UDP."""
    layer, txn, req = server("OPTIONS")
    layer.send_response(txn, respond(req, 200), now=0.1)
    assert txn.pending_timers == {"J": 32.1}
    assert layer.on_timer(32.1) == [TransactionTerminated(txn)]


def test_timer_j_is_zero_on_tcp() -> None:
    """RFC 3261 §17.2.2: Timer J is zero on reliable transports."""
    layer, txn, req = server("OPTIONS", reliable=TCP)
    ok = respond(req, 200)
    assert layer.send_response(txn, ok, now=0.1) == [Send(ok, ALICE), TransactionTerminated(txn)]


def test_same_branch_other_method_is_another_transaction() -> None:
    """RFC 3261 §17.2.3: the method is part of the server transaction's identity."""
    layer, _, _ = server("OPTIONS")
    events = layer.receive(request("INFO"), ALICE, reliable=UDP, now=0.1)
    assert kinds(events) == ["RequestReceived"]


def test_same_branch_other_sent_by_is_another_transaction() -> None:
    """RFC 3261 §17.2.3: the sent-by of the top Via is part of the server transaction's identity."""
    layer, _, _ = server("OPTIONS")
    events = layer.receive(request("OPTIONS", via_host="elsewhere.example.com"), ALICE, reliable=UDP, now=0.1)
    assert kinds(events) == ["RequestReceived"]


# ---------------------------------------------------------------------------------------------
# Receiving CANCEL (§9.2)


def test_cancel_matching_invite_gets_200_and_reaches_tu() -> None:
    """RFC 3261 §9.2: a CANCEL matching a pending INVITE is answered 200 by the layer, and the TU
    is told so that it answers the INVITE with 487."""
    layer, invite_txn, req = server()
    cancel = request("CANCEL")
    events = layer.receive(cancel, ALICE, reliable=UDP, now=0.5)
    assert kinds(events) == ["Send", "CancelReceived"]
    ok = sent(events)[0]
    assert isinstance(ok, Response) and ok.status == 200
    assert (ok.cseq.number, ok.cseq.method) == (1, "CANCEL")
    assert events[1] == CancelReceived(cancel, ALICE, invite_txn)
    assert invite_txn.state == "proceeding"
    terminated = respond(req, 487)
    assert layer.send_response(invite_txn, terminated, now=0.6) == [Send(terminated, ALICE)]


def test_cancel_for_unknown_transaction_gets_481() -> None:
    """RFC 3261 §9.2: a CANCEL matching no transaction is answered 481; the TU is not involved."""
    layer = TransactionLayer()
    events = layer.receive(request("CANCEL"), ALICE, reliable=UDP, now=0.0)
    [response] = sent(events)
    assert kinds(events) == ["Send"]
    assert isinstance(response, Response) and response.status == 481
    assert response.to.tag is not None


def test_retransmitted_cancel_resends_its_response() -> None:
    """RFC 3261 §9.2, §17.2.2: the CANCEL is its own transaction; its retransmission gets the 200
    again and does not reach the TU twice."""
    layer, _, _ = server()
    [ok_event, _] = layer.receive(request("CANCEL"), ALICE, reliable=UDP, now=0.5)
    assert layer.receive(request("CANCEL"), ALICE, reliable=UDP, now=1.0) == [ok_event]


def test_cancel_after_final_response_gets_200_without_reaching_tu() -> None:
    """RFC 3261 §9.2: once the INVITE has a final response, the CANCEL has no effect but is still 200."""
    layer, txn, req = server()
    layer.send_response(txn, respond(req, 486), now=0.1)
    events = layer.receive(request("CANCEL"), ALICE, reliable=UDP, now=0.5)
    [response] = sent(events)
    assert kinds(events) == ["Send"]
    assert isinstance(response, Response) and response.status == 200
    assert response.to.tag == "bobtag"  # §9.2: the same To tag as the INVITE's response


def test_cancel_on_tcp_ends_its_transaction_at_once() -> None:
    """RFC 3261 §17.2.2: Timer J is zero on TCP, also for the CANCEL's own transaction."""
    layer, invite_txn, _ = server(reliable=TCP)
    events = layer.receive(request("CANCEL"), ALICE, reliable=TCP, now=0.5)
    assert kinds(events) == ["Send", "CancelReceived", "TransactionTerminated"]
    assert layer.transactions == 1  # only the INVITE's


# ---------------------------------------------------------------------------------------------
# RFC 2543 matching (§17.2.3)


def test_rfc2543_invite_retransmission_is_matched_without_magic_cookie() -> None:
    """RFC 3261 §17.2.3: without z9hG4bK, Request-URI, To tag, From tag, Call-ID, CSeq and top Via match."""
    layer, txn, req = server(branch=None)
    ringing = respond(req, 180)
    layer.send_response(txn, ringing, now=0.1)
    assert layer.receive(request(branch=None), ALICE, reliable=UDP, now=0.5) == [Send(ringing, ALICE)]


def test_rfc2543_branch_without_cookie_uses_the_old_rules() -> None:
    """RFC 3261 §17.2.3: a branch that lacks the magic cookie is not a transaction ID."""
    layer, _, _ = server(branch="1")
    assert layer.receive(request(branch="1"), ALICE, reliable=UDP, now=0.5) == []
    events = layer.receive(request(branch="1", cseq=2), ALICE, reliable=UDP, now=0.6)
    assert kinds(events) == ["RequestReceived"]


def test_rfc2543_ack_matches_by_the_to_tag_of_the_response() -> None:
    """RFC 3261 §17.2.3: the ACK matches when its To tag is the one of the response sent."""
    layer, txn, req = server(branch=None)
    layer.send_response(txn, respond(req, 486, to_tag="t486"), now=0.1)
    stranger = request("ACK", branch=None, to_tag="other", cseq_method="ACK")
    assert layer.receive(stranger, ALICE, reliable=UDP, now=0.5) == [AckReceived(stranger, ALICE)]
    ack = request("ACK", branch=None, to_tag="t486", cseq_method="ACK")
    assert layer.receive(ack, ALICE, reliable=UDP, now=0.6) == []
    assert txn.state == "confirmed"


def test_rfc2543_cancel_matches_the_invite() -> None:
    """RFC 3261 §9.2: without z9hG4bK, a CANCEL matches by Request-URI, tags, Call-ID, CSeq number, Via."""
    layer, txn, _ = server(branch=None)
    cancel = request("CANCEL", branch=None)
    events = layer.receive(cancel, ALICE, reliable=UDP, now=0.5)
    assert events[1:] == [CancelReceived(cancel, ALICE, txn)]


# ---------------------------------------------------------------------------------------------
# The layer as a whole


def test_next_deadline_is_the_earliest_across_transactions() -> None:
    """RFC 3261 §17: each transaction has its own timers; the caller needs the earliest one."""
    layer = TransactionLayer()
    assert layer.next_deadline() is None
    layer.send_request(request("OPTIONS", branch=new_branch()), PROXY, reliable=TCP, now=0.0)  # F at 32
    layer.send_request(request("OPTIONS", branch=new_branch()), PROXY, reliable=UDP, now=1.0)  # E at 1.5
    assert layer.next_deadline() == 1.5


def test_layer_forgets_terminated_transactions() -> None:
    """RFC 3261 §17: a terminated transaction is destroyed; nothing is left behind."""
    layer = TransactionLayer()
    _, invite, req = client(layer=layer)
    layer.receive(respond(req, 180), PROXY, reliable=UDP, now=0.1)
    cancel_txn, _ = layer.cancel_request(invite, now=0.2)
    assert cancel_txn is not None
    layer.receive(respond(cancel_txn.request, 200), PROXY, reliable=UDP, now=0.3)
    layer.receive(respond(req, 487), PROXY, reliable=UDP, now=0.4)
    _, options, oreq = client("OPTIONS", layer=layer, branch=new_branch())
    layer.receive(respond(oreq, 200), PROXY, reliable=UDP, now=0.5)
    _, sinvite, sreq = server(layer=layer, branch="z9hG4bKserver")
    layer.receive(request("CANCEL", branch="z9hG4bKserver"), ALICE, reliable=UDP, now=0.5)
    layer.send_response(sinvite, respond(sreq, 487), now=0.6)
    layer.receive(request("ACK", branch="z9hG4bKserver", to_tag="bobtag"), ALICE, reliable=UDP, now=0.7)
    assert layer.transactions == 5
    run_until(layer, 100.0)
    assert layer.transactions == 0
    assert layer.next_deadline() is None


def test_send_request_needs_a_magic_cookie_branch() -> None:
    """RFC 3261 §8.1.1.7: requests we send carry a branch that starts with z9hG4bK."""
    with pytest.raises(TransactionError):
        TransactionLayer().send_request(request(branch="abc"), PROXY, reliable=UDP, now=0.0)


def test_branch_reuse_is_refused() -> None:
    """RFC 3261 §8.1.1.7: the branch must be unique across requests sent by the UA."""
    layer, _, _ = client()
    with pytest.raises(TransactionError):
        layer.send_request(request(), PROXY, reliable=UDP, now=0.1)


def test_ack_is_not_a_client_transaction() -> None:
    """RFC 3261 §17.1.1.3: the ACK for a 2xx is sent by the TU outside any transaction."""
    layer = TransactionLayer()
    ack = request("ACK", branch=new_branch(), to_tag="bobtag")
    with pytest.raises(TransactionError):
        layer.send_request(ack, PROXY, reliable=UDP, now=0.0)
    assert layer.send_ack(ack, PROXY) == [Send(ack, PROXY)]
    assert layer.transactions == 0


def test_new_branch_has_the_magic_cookie_and_is_unique() -> None:
    """RFC 3261 §8.1.1.7: z9hG4bK followed by a value unique in space and time."""
    branches = {new_branch() for _ in range(100)}
    assert len(branches) == 100
    assert all(b.startswith("z9hG4bK") and len(b) > 20 for b in branches)


def test_transport_error_ends_the_transaction() -> None:
    """RFC 3261 §17.1.4: a transport failure is reported to the TU and the transaction ends."""
    layer, txn, _ = client(reliable=TCP)
    assert layer.transport_error(txn, now=0.1) == [TransportError(txn), TransactionTerminated(txn)]
    assert layer.transactions == 0
