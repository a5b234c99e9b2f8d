"""The call-time storage behind the ports in :mod:`vipcall.calls.context`.

Hot reads go straight through an asyncpg pool as prepared statements outside any
transaction; writes go through the directory service layer the CLI and the web share.
"""
