"""A browser that speaks no SIP: headless Chromium running janus.js against a Janus gateway's SIP plugin.

:class:`JanusBrowserPeer` is a :class:`tests.peers.browser.BrowserPeer` (same Chromium, fake microphone,
DevTools pipe, recording upload) that opens ``tests/peers/browser/janus.html`` instead of the JsSIP page.
That page (``janus-phone.js``) creates a Janus session over the Janus API (HTTP long-polling), attaches
to ``janus.plugin.sip`` and asks the plugin to register, call, accept and hang up; the SIP signalling
and the SIP side's RTP are Janus's, the browser only does WebRTC towards Janus (see
:mod:`tests.peers.janus`).

The events and states are phone.js's (:meth:`BrowserPeer.wait_for`), with two differences: ``confirmed``
means accepted *and* the PeerConnection to Janus is up, and every SIP plugin event also arrives as a
``sip`` event (``wait_event("sip", event="incomingcall")``).

Example::

    with JanusBrowserPeer(tmp_path / "alice", netns=c, play_wav=speech) as alice:
        alice.register("alice", "alice-secret", janus.api_url, domain=kamailio.domain,
                       proxy=kamailio.uri("udp"))
        alice.call("sip:bob@10.200.50.1")
        alice.wait_for("confirmed")
        ...

Needs what BrowserPeer needs plus ``build/janus.js`` (``npm run build`` in tests/peers/browser, done by
``make test``); :func:`janus_browser_unavailable_reason` says what is missing.
"""

from __future__ import annotations

import json

from tests.peers.browser import PAGE_DIR, BrowserPeer, browser_unavailable_reason

__all__ = ["JANUS_BUNDLE", "JanusBrowserPeer", "janus_browser_unavailable_reason"]

JANUS_BUNDLE = PAGE_DIR / "build" / "janus.js"


def janus_browser_unavailable_reason() -> str | None:
    """None when a JanusBrowserPeer can start here, else why not (for pytest.skip)."""
    reason = browser_unavailable_reason()
    if reason is not None:
        return reason
    if not JANUS_BUNDLE.exists():
        return f"janus.js not built: run `npm ci && npm run build` in {PAGE_DIR} (make test does it)"
    return None


class JanusBrowserPeer(BrowserPeer):
    """One headless Chromium tab running janus.js with Janus's SIP plugin; see the module docstring."""

    static_files = {
        **BrowserPeer.static_files,
        "/janus.html": (PAGE_DIR / "janus.html", "text/html"),
        "/janus-phone.js": (PAGE_DIR / "janus-phone.js", "text/javascript"),
        "/build/janus.js": (JANUS_BUNDLE, "text/javascript"),
    }
    page_path = "/janus.html"

    def register(  # type: ignore[override]  # a Janus API URL and a SIP proxy instead of a WebSocket URL
        self,
        user: str,
        password: str,
        janus_url: str,
        *,
        domain: str,
        proxy: str,
        display_name: str = "",
        timeout: float = 15,
    ) -> None:
        """Open a Janus session at ``janus_url``, attach the SIP plugin and have it register
        ``sip:user@domain`` (digest ``password``) at the SIP ``proxy`` (``sip:host:port``); returns once
        the plugin reports ``registered`` (raises on ``registration_failed``)."""
        args = json.dumps([janus_url, f"sip:{user}@{domain}", password, proxy, display_name])[1:-1]
        self.evaluate(f"phone.register({args})", timeout=timeout)

    def call(self, uri: str, srtp: str | None = None) -> int:
        """Have the SIP plugin call ``uri``; ``srtp`` None offers plain RTP/AVP on the SIP leg,
        ``"sdes_optional"`` RTP/AVP with a=crypto, ``"sdes_mandatory"`` RTP/SAVP (SDES, RFC 4568)."""
        return int(self.evaluate(f"phone.call({json.dumps(uri)}, {json.dumps(srtp)})"))

    def hold(self, timeout: float = 10) -> None:
        raise NotImplementedError("janus-phone.js has no hold")

    def resume(self, timeout: float = 10) -> None:
        raise NotImplementedError("janus-phone.js has no hold")
