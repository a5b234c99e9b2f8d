"""vipcall: a cloud mobile-PBX (VIP) service steering calls through Asterisk 22 over ARI."""

__version__ = "0.1.0"
