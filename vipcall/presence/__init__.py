"""Presence and self-service: activities, roles, forwarding and the feature codes that set
them. Pure rules here; the flows in :mod:`vipcall.calls` execute them."""
