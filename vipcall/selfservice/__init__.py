"""Self-service by phone: feature codes (983n, 984n, 987...) and the activity number's
menu. The pure rules are in :mod:`vipcall.presence`; :mod:`.flow` executes them."""
