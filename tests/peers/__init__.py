"""Real third-party SIP peers (Kamailio, SIPp scenarios) used by interop tests."""
