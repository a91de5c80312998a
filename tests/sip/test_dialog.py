"""Dialog state (RFC 3261 §12): creation, requests within a dialog, and their checks."""

from __future__ import annotations

import pytest

from softphone.sip.address import parse_address
from softphone.sip.dialog import Dialog, dialog_id_of_request, dialog_id_of_response, new_tag
from softphone.sip.headers import Headers, parse_via
from softphone.sip.message import Request, Response, make_response
from softphone.sip.uri import parse_sip_uri

CALL_ID = "a84b4c76e66710@pc33.atlanta.example.com"
# Record-Route as the UAS sees it: each proxy put itself on top, so p2 (next to Bob) is first.
RECORD_ROUTE = ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]


def invite(
    *, cseq: int = 314159, record_route: list[str] | None = None, uri: str = "sip:bob@biloxi.example.com"
) -> Request:
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"),
            ("Max-Forwards", "70"),
            ("To", "Bob <sip:bob@biloxi.example.com>"),
            ("From", '"Alice" <sip:alice@atlanta.example.com>;tag=1928301774'),
            ("Call-ID", CALL_ID),
            ("CSeq", f"{cseq} INVITE"),
            ("Contact", "<sip:alice@pc33.atlanta.example.com>"),
        ]
    )
    for line in record_route or []:
        headers.add("Record-Route", line)
    return Request("INVITE", uri, headers)


def answer(
    request: Request, status: int = 200, *, to_tag: str = "a6c85cf", contact: str | None = None
) -> Response:
    response = make_response(request, status, to_tag=to_tag)
    response.headers.add("Contact", contact or "<sip:bob@192.0.2.4>")
    return response


def uac_dialog(record_route: list[str] | None = None) -> Dialog:
    request = invite(record_route=record_route)
    return Dialog.from_uac(request, answer(request))


def uas_dialog(record_route: list[str] | None = None) -> Dialog:
    request = invite(record_route=record_route)
    return Dialog.from_uas(request, answer(request))


def in_dialog_request(
    method: str, cseq: int, *, contact: str | None = None, from_tag: str = "1928301774"
) -> Request:
    """A request Alice sends to Bob within the dialog (as Bob, the UAS, receives it)."""
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK" + new_tag()),
            ("To", "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf"),
            ("From", f'"Alice" <sip:alice@atlanta.example.com>;tag={from_tag}'),
            ("Call-ID", CALL_ID),
            ("CSeq", f"{cseq} {method}"),
        ]
    )
    if contact is not None:
        headers.add("Contact", contact)
    return Request(method, "sip:bob@192.0.2.4", headers)


def in_dialog_response(request: Request, status: int, *, contact: str | None = None) -> Response:
    """A response to a request the UAC sent within the dialog."""
    response = make_response(request, status)
    if contact is not None:
        response.headers.add("Contact", contact)
    return response


# ---------------------------------------------------------------------------------------------
# Creation at the UAC (§12.1.2)


def test_uac_dialog_id_is_call_id_local_tag_remote_tag() -> None:
    """RFC 3261 §12.1.2: local tag from the request's From, remote tag from the response's To."""
    dialog = uac_dialog()
    assert dialog.id == (CALL_ID, "1928301774", "a6c85cf")


def test_uac_route_set_is_the_responses_record_route_reversed() -> None:
    """RFC 3261 §12.1.2: the route set is the Record-Route of the response, in reverse order."""
    dialog = uac_dialog(RECORD_ROUTE)
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]


def test_uac_remote_target_is_the_responses_contact() -> None:
    """RFC 3261 §12.1.2: the remote target is the URI in the response's Contact."""
    assert uac_dialog().remote_target == parse_sip_uri("sip:bob@192.0.2.4")


def test_uac_cseq_spaces() -> None:
    """RFC 3261 §12.1.2: the local CSeq is the request's; the remote CSeq is empty."""
    dialog = uac_dialog()
    assert (dialog.local_cseq, dialog.remote_cseq) == (314159, None)


def test_uac_local_and_remote_uris_have_no_tags() -> None:
    """RFC 3261 §12.1.2: local URI from From, remote URI from To."""
    dialog = uac_dialog()
    assert str(dialog.local_uri) == '"Alice" <sip:alice@atlanta.example.com>'
    assert str(dialog.remote_uri) == '"Bob" <sip:bob@biloxi.example.com>'


def test_uac_dialog_from_provisional_is_early() -> None:
    """RFC 3261 §12.1: a 1xx with a To tag creates an early dialog, a 2xx a confirmed one."""
    request = invite()
    assert Dialog.from_uac(request, answer(request, 180)).state == "early"
    assert Dialog.from_uac(request, answer(request, 200)).state == "confirmed"


def test_final_failure_creates_no_dialog() -> None:
    """RFC 3261 §12.1: only 1xx (other than 100) and 2xx responses create dialogs."""
    request = invite()
    with pytest.raises(ValueError):
        Dialog.from_uac(request, answer(request, 486))


def test_secure_flag_follows_a_sips_request_uri() -> None:
    """RFC 3261 §12.1.1, §12.1.2: a SIPS Request-URI makes the dialog secure."""
    request = invite(uri="sips:bob@biloxi.example.com")
    assert Dialog.from_uac(request, answer(request)).secure
    assert not uac_dialog().secure


# ---------------------------------------------------------------------------------------------
# Creation at the UAS (§12.1.1)


def test_uas_route_set_is_the_requests_record_route_in_order() -> None:
    """RFC 3261 §12.1.1: the route set is the Record-Route of the request, in order."""
    dialog = uas_dialog(RECORD_ROUTE)
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]


def test_uas_tags_come_from_response_to_and_request_from() -> None:
    """RFC 3261 §12.1.1: the local tag is the To tag of the response, the remote tag the From tag."""
    dialog = uas_dialog()
    assert dialog.id == (CALL_ID, "a6c85cf", "1928301774")


def test_uas_remote_target_is_the_requests_contact() -> None:
    """RFC 3261 §12.1.1: the remote target is the URI in the request's Contact."""
    assert uas_dialog().remote_target == parse_sip_uri("sip:alice@pc33.atlanta.example.com")


def test_uas_cseq_spaces() -> None:
    """RFC 3261 §12.1.1: the remote CSeq is the request's; the local CSeq is empty (0)."""
    dialog = uas_dialog()
    assert (dialog.local_cseq, dialog.remote_cseq) == (0, 314159)


def test_dialog_ids_of_messages_match_the_dialogs() -> None:
    """RFC 3261 §12: each side finds its dialog from the Call-ID and the tags of a message."""
    request = invite()
    response = answer(request)
    assert dialog_id_of_response(response) == Dialog.from_uac(request, response).id
    bye = in_dialog_request("BYE", 1)
    assert dialog_id_of_request(bye) == Dialog.from_uas(request, response).id


# ---------------------------------------------------------------------------------------------
# Requests within the dialog (§12.2.1.1)


def test_request_carries_tags_call_id_and_max_forwards() -> None:
    """RFC 3261 §12.2.1.1: From with the local tag, To with the remote tag, the dialog's Call-ID."""
    bye = uac_dialog().create_request("BYE")
    assert bye.from_.tag == "1928301774" and bye.from_.uri == parse_sip_uri("sip:alice@atlanta.example.com")
    assert bye.to.tag == "a6c85cf" and bye.to.uri == parse_sip_uri("sip:bob@biloxi.example.com")
    assert bye.call_id == CALL_ID
    assert bye.headers.get("Max-Forwards") == "70"
    assert (bye.cseq.number, bye.cseq.method) == (314160, "BYE")


def test_without_route_set_the_request_goes_to_the_remote_target() -> None:
    """RFC 3261 §12.2.1.1: with an empty route set, the Request-URI is the remote target, no Route."""
    bye = uac_dialog().create_request("BYE")
    assert bye.uri == parse_sip_uri("sip:bob@192.0.2.4")
    assert "Route" not in bye.headers


def test_loose_routing_puts_remote_target_in_request_uri() -> None:
    """RFC 3261 §12.2.1.1: when the first route has lr, the Request-URI is the remote target and
    the route set becomes the Route headers, in order."""
    bye = uac_dialog(RECORD_ROUTE).create_request("BYE")
    assert bye.uri == parse_sip_uri("sip:bob@192.0.2.4")
    assert bye.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]


def test_strict_routing_puts_first_route_in_request_uri() -> None:
    """RFC 3261 §12.2.1.1: when the first route lacks lr, its URI is the Request-URI, the rest of
    the route set follows as Route headers and the remote target is the last Route."""
    dialog = uac_dialog(["<sip:p2.example.com;lr>", "<sip:p1.example.com>"])  # p1 is strict
    bye = dialog.create_request("BYE")
    assert bye.uri == parse_sip_uri("sip:p1.example.com")
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.4>"]


def test_strict_route_loses_parameters_not_allowed_in_request_uri() -> None:
    """RFC 3261 §12.2.1.1, §19.1.1: the method parameter and headers cannot be in a Request-URI."""
    dialog = uac_dialog(["<sip:p1.example.com;method=INVITE?Subject=x>"])
    bye = dialog.create_request("BYE")
    assert str(bye.uri) == "sip:p1.example.com"


def test_each_new_request_increments_the_local_cseq() -> None:
    """RFC 3261 §12.2.1.1: the CSeq number of each new request is one more than the last."""
    dialog = uac_dialog()
    numbers = [dialog.create_request(m).cseq.number for m in ("INFO", "INVITE", "BYE")]
    assert numbers == [314160, 314161, 314162]
    assert dialog.local_cseq == 314162


def test_uas_first_request_starts_the_local_cseq() -> None:
    """RFC 3261 §12.2.1.1: an empty local CSeq gets a value with the first request (here 1)."""
    dialog = uas_dialog()
    assert dialog.create_request("BYE").cseq.number == 1


def test_ack_reuses_the_invite_cseq_number() -> None:
    """RFC 3261 §13.2.2.4: the ACK for a 2xx has the CSeq number of the INVITE, method ACK; the
    local CSeq does not move."""
    dialog = uac_dialog(RECORD_ROUTE)
    ack = dialog.create_ack(314159)
    assert (ack.method, ack.cseq.number, ack.cseq.method) == ("ACK", 314159, "ACK")
    assert ack.uri == dialog.remote_target
    assert ack.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert dialog.local_cseq == 314159


def test_ack_and_cancel_are_not_new_requests() -> None:
    """RFC 3261 §12.2.1.1, §9.1: ACK and CANCEL take the CSeq number of the request they follow."""
    dialog = uac_dialog()
    for method in ("ACK", "CANCEL"):
        with pytest.raises(ValueError):
            dialog.create_request(method)
    assert dialog.local_cseq == 314159


def test_request_takes_via_body_and_content_type() -> None:
    """RFC 3261 §8.1.1: the caller supplies the Via; the body goes with its Content-Type."""
    via = parse_via("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKreinvite")
    extra = Headers([("Contact", "<sip:alice@pc33.atlanta.example.com>")])
    reinvite = uac_dialog().create_request(
        "INVITE", headers=extra, body=b"v=0\r\n", content_type="application/sdp", via=via
    )
    assert reinvite.top_via.branch == "z9hG4bKreinvite"
    assert reinvite.headers.get("Contact") == "<sip:alice@pc33.atlanta.example.com>"
    assert reinvite.content_type == "application/sdp"
    assert reinvite.body == b"v=0\r\n"


def test_caller_cannot_override_dialog_headers() -> None:
    """RFC 3261 §12.2.1.1: From, To, Call-ID, CSeq and Route come from the dialog state."""
    with pytest.raises(ValueError):
        uac_dialog().create_request("INFO", headers=Headers([("Call-ID", "other")]))


# ---------------------------------------------------------------------------------------------
# Requests received within the dialog (§12.2.2)


def test_lower_cseq_is_rejected_with_500() -> None:
    """RFC 3261 §12.2.2: a request with a CSeq lower than the remote CSeq is out of order: 500."""
    dialog = uas_dialog()
    assert dialog.receive_request(in_dialog_request("INFO", 314158)) == 500
    assert dialog.remote_cseq == 314159


def test_higher_cseq_is_accepted_and_recorded() -> None:
    """RFC 3261 §12.2.2: an in-order request updates the remote CSeq."""
    dialog = uas_dialog()
    assert dialog.receive_request(in_dialog_request("INFO", 314160)) is None
    assert dialog.remote_cseq == 314160


def test_first_request_sets_an_empty_remote_cseq() -> None:
    """RFC 3261 §12.2.2: with an empty remote CSeq (the UAC's), any CSeq is accepted and recorded."""
    request = invite()
    dialog = Dialog.from_uac(request, answer(request))
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKbye"),
            ("To", '"Alice" <sip:alice@atlanta.example.com>;tag=1928301774'),
            ("From", "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf"),
            ("Call-ID", CALL_ID),
            ("CSeq", "7 BYE"),
        ]
    )
    assert dialog.receive_request(Request("BYE", "sip:alice@pc33.atlanta.example.com", headers)) is None
    assert dialog.remote_cseq == 7


def test_ack_is_not_checked_against_the_remote_cseq() -> None:
    """RFC 3261 §12.2.2, §13.2.2.4: the ACK carries the INVITE's CSeq and cannot be rejected."""
    dialog = uas_dialog()
    dialog.receive_request(in_dialog_request("INFO", 314160))
    assert dialog.receive_request(in_dialog_request("ACK", 314159)) is None
    assert dialog.remote_cseq == 314160


def test_reinvite_refreshes_the_remote_target() -> None:
    """RFC 3261 §12.2.2: a target refresh request replaces the remote target with its Contact."""
    dialog = uas_dialog()
    dialog.receive_request(in_dialog_request("INVITE", 314160, contact="<sip:alice@198.51.100.7:5070>"))
    assert dialog.remote_target == parse_sip_uri("sip:alice@198.51.100.7:5070")


def test_update_refreshes_the_remote_target() -> None:
    """RFC 3311 §5.2: UPDATE is a target refresh request."""
    dialog = uas_dialog()
    dialog.receive_request(in_dialog_request("UPDATE", 314160, contact="<sip:alice@198.51.100.7>"))
    assert dialog.remote_target == parse_sip_uri("sip:alice@198.51.100.7")


def test_other_requests_do_not_refresh_the_remote_target() -> None:
    """RFC 3261 §12.2.2: only target refresh requests change the remote target."""
    dialog = uas_dialog()
    dialog.receive_request(in_dialog_request("INFO", 314160, contact="<sip:alice@198.51.100.7>"))
    assert dialog.remote_target == parse_sip_uri("sip:alice@pc33.atlanta.example.com")


def test_request_in_terminated_dialog_gets_481() -> None:
    """RFC 3261 §12.2.2: a request for a dialog that no longer exists is answered 481."""
    dialog = uas_dialog()
    dialog.terminate()
    assert dialog.receive_request(in_dialog_request("INFO", 314160)) == 481


def test_request_of_another_dialog_is_refused() -> None:
    """RFC 3261 §12.2.2: requests are matched to dialogs by Call-ID and tags."""
    with pytest.raises(ValueError):
        uas_dialog().receive_request(in_dialog_request("INFO", 314160, from_tag="intruder"))


# ---------------------------------------------------------------------------------------------
# Responses to requests sent within the dialog (§12.2.1.2, §13.2.2.4)


def test_2xx_to_reinvite_refreshes_the_remote_target() -> None:
    """RFC 3261 §12.2.1.2: a 2xx to a target refresh request replaces the remote target."""
    dialog = uac_dialog()
    reinvite = dialog.create_request("INVITE", via=parse_via("SIP/2.0/UDP h;branch=z9hG4bKre"))
    dialog.update_from_response(in_dialog_response(reinvite, 200, contact="<sip:bob@203.0.113.9>"))
    assert dialog.remote_target == parse_sip_uri("sip:bob@203.0.113.9")


def test_failure_to_reinvite_keeps_the_remote_target() -> None:
    """RFC 3261 §12.2.1.2: only a 2xx refreshes the target."""
    dialog = uac_dialog()
    reinvite = dialog.create_request("INVITE", via=parse_via("SIP/2.0/UDP h;branch=z9hG4bKre"))
    dialog.update_from_response(in_dialog_response(reinvite, 491, contact="<sip:bob@203.0.113.9>"))
    assert dialog.remote_target == parse_sip_uri("sip:bob@192.0.2.4")
    assert dialog.state == "confirmed"


def test_2xx_confirms_an_early_dialog_and_recomputes_its_route_set() -> None:
    """RFC 3261 §13.2.2.4: the 2xx confirms the early dialog; the route set comes from the 2xx."""
    request = invite(record_route=RECORD_ROUTE)
    dialog = Dialog.from_uac(request, answer(request, 180))
    ok = make_response(invite(record_route=["<sip:p9.example.com;lr>"]), 200, to_tag="a6c85cf")
    ok.headers.add("Contact", "<sip:bob@192.0.2.99>")
    dialog.update_from_response(ok)
    assert dialog.state == "confirmed"
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p9.example.com;lr"]
    assert dialog.remote_target == parse_sip_uri("sip:bob@192.0.2.99")


def test_failure_final_ends_an_early_dialog() -> None:
    """RFC 3261 §12.3: a non-2xx final response to the INVITE terminates its early dialogs."""
    request = invite()
    dialog = Dialog.from_uac(request, answer(request, 183))
    dialog.update_from_response(make_response(request, 486, to_tag="a6c85cf"))
    assert dialog.state == "terminated"


@pytest.mark.parametrize("status", [481, 408])
def test_481_or_408_ends_the_dialog(status: int) -> None:
    """RFC 3261 §12.2.1.2: a 481 or 408 to a request within the dialog terminates it."""
    dialog = uac_dialog()
    info = dialog.create_request("INFO", via=parse_via("SIP/2.0/UDP h;branch=z9hG4bKinfo"))
    dialog.update_from_response(in_dialog_response(info, status))
    assert dialog.state == "terminated"


def test_response_from_another_fork_is_refused() -> None:
    """RFC 3261 §12.1.2, §13.2.2.4: a 2xx with another To tag belongs to another dialog."""
    request = invite()
    dialog = Dialog.from_uac(request, answer(request, 180))
    with pytest.raises(ValueError):
        dialog.update_from_response(answer(request, 200, to_tag="otherfork"))


def test_new_tags_are_random() -> None:
    """RFC 3261 §19.3: tags are globally unique, with at least 32 bits of randomness."""
    tags = {new_tag() for _ in range(100)}
    assert len(tags) == 100
    assert all(len(t) >= 8 for t in tags)


def test_route_set_entries_are_addresses() -> None:
    """RFC 3261 §12.1.1: route set entries keep their URI parameters (lr)."""
    dialog = uas_dialog(RECORD_ROUTE)
    assert dialog.route_set[0] == parse_address("<sip:p2.example.com;lr>")
