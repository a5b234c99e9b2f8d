"""The API's areas: one line per router (like the call app's dispatch table).

A new area is one module under ``vipcall/web/api/`` exporting ``router`` plus one line here.
"""

from __future__ import annotations

from fastapi import APIRouter

from vipcall.web.api import (
    admin_groups,
    admin_organization,
    admin_service_numbers,
    admin_users,
    auth,
    contacts,
    events,
    forwarding,
    history,
    me,
    memberships,
    messages,
    presence,
    session,
    softphones,
    voicemail,
)

ROUTERS: tuple[APIRouter, ...] = (
    session.router,
    auth.router,  # password by code, API tokens
    admin_users.router,
    admin_groups.router,
    admin_service_numbers.router,
    admin_organization.router,
    me.router,  # the user's own settings ("me" area)
    presence.router,  # activity, role, scheduled activities
    forwarding.router,  # immediate and per-activity forwarding
    voicemail.router,  # voicemail settings, greeting, name, PIN, key map
    messages.router,  # the mailbox
    contacts.router,  # directory search, personal contacts, VIP list
    memberships.router,  # service numbers: log in / out
    softphones.router,  # apps: softphone accounts, SIP settings, QR code
    history.router,  # call history, calls per day, the organisation's totals
    events.router,  # live updates (text/event-stream)
)
