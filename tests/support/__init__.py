"""Reusable test helpers (import as ``tests.support``)."""
