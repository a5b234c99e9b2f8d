"""Where a call goes: pure decisions over a snapshot of the users' state.

Nothing in this package does I/O except :mod:`vipcall.routing.lookup`, which loads the
snapshot. The call flows in :mod:`vipcall.calls` execute the decisions.
"""
