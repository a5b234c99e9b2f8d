"""The home page and REST API: its own process (``vipcall web``), so web traffic never
competes with the call-routing event loop. Handlers call the ``vipcall.directory`` service
layer, the same one the CLI and the call flows use."""
