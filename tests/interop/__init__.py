"""Interop tests against real third-party SIP software (Kamailio, SIPp)."""
