"""Where a call goes: pure decisions over a snapshot of the users' state.

Nothing in this package does I/O: :mod:`vipcall.store` loads the snapshot and the flows
run by :mod:`vipcall.service.dispatch` execute the decisions.
"""
