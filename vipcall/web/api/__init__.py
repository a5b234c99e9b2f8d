"""The REST API's areas, one module each (listed in :mod:`vipcall.web.routes`)."""
