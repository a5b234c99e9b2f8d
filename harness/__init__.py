"""What the end-to-end tests and the benchmark both drive the real stack with.

- :mod:`harness.party`: SIPp parties (scenarios in ``harness/sipp/``) and their traces;
- :mod:`harness.app`: the vipcall app as its own process (``python -m vipcall serve``);
- :mod:`harness.db`: throwaway PostgreSQL databases;
- :mod:`harness.sandbox`: whether the Asterisk sandbox can run here, and what a run that
  needs it does when it cannot (skip, or fail under ``CI=true`` /
  ``VIPCALL_REQUIRE_SANDBOX=1``).

Importable from the repository root (pytest's ``pythonpath``, ``python -m bench.run``).
"""
