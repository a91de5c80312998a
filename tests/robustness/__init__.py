"""Robustness and security tests: hostile input, resource limits, scanners."""
