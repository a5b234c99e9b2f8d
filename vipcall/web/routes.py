"""The API's areas: one line per router (like the call app's dispatch table).

A new area is one module under ``vipcall/web/api/`` exporting ``router`` plus one line here.
"""

from __future__ import annotations

from fastapi import APIRouter

from vipcall.web.api import session

ROUTERS: tuple[APIRouter, ...] = (session.router,)
