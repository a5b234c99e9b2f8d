"""Direct routes: the calls Asterisk may ring without asking the app. Pure.

Most calls from outside ring a green user who forwards nowhere, and every such caller gets
the same answer: the user's handset rings. For those numbers the app writes the ring into
Asterisk ahead of time (:mod:`vipcall.service.direct`), and ``[vipcall-inbound]`` takes it
without a Stasis round trip. Everything else (and every call the entry does not fit) goes
to the app as before. What makes that safe, each in one place:

* **Whose calls.** :func:`direct_ring`: ``route_inbound`` itself, asked with no caller
  facts. VIP and repeat callers only ever turn an absence notice or a red landline into a
  ring, so when the answer without them is a ring of the handset alone, it is every caller's
  answer (``tests/routing/test_direct.py`` shows it over random users).
* **Which callers.** The entry keeps the caller's own caller ID, which is right only when
  :func:`vipcall.routing.rules.caller_id_change` changes nothing. The dialplan takes the
  entry only for caller IDs matching :data:`CALLER_ID_PATTERN` with a display name matching
  :data:`NAME_PATTERN` (both rendered into the dialplan); a property test shows every such
  caller ID needs no change. Any other caller (a landline, a foreign number, anonymous, a
  name with letters outside ASCII) goes to the app, which decides the same ring.
* **Until when.** :func:`valid_until`: the next start or end of a scheduled activity. The
  dialplan compares it with ``${EPOCH}``, so a schedule that begins sends calls back to the
  app at that second, with no timer anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from vipcall.presence.activity import Scheduled
from vipcall.routing.decisions import Handset, Ring
from vipcall.routing.rules import Policy, route_inbound
from vipcall.routing.snapshot import Subscriber

#: Caller IDs the dialplan lets take a direct route (POSIX ERE, Asterisk's ``REGEX``):
#: Finnish mobile numbers in E.164, which phonenumbers reads as valid and writes back
#: unchanged. Anchored at both ends; no ``{n}`` (braces would need escaping in a dialplan).
CALLER_ID_PATTERN = "^[+]358(4[0-8]|50)[0-9][0-9][0-9][0-9][0-9][0-9][0-9]$"
#: Display names that pass unchanged (printable ASCII; empty too): none holds a control or
#: format character (:func:`vipcall.routing.rules.showable_name`).
NAME_PATTERN = "^[ -~]*$"


def direct_ring(callee: Subscriber, called: str, policy: Policy) -> Ring | None:
    """The ring every caller from outside gets for ``called`` (one of the callee's numbers)
    at this moment, or ``None`` when the answer may depend on the caller or on other users.

    Only a ring of the handset alone: a user with softphones (rung only while registered,
    which the app checks per call) or a forwarding in effect (whose loop check reads other
    users' forwardings) stays with the app.
    """
    if callee.softphones or callee.forwardings_now:
        return None
    if called in (policy.activity_number, policy.voicemail_number):
        return None  # the service's own numbers have their own rules (route_call)
    anyone = replace(callee, caller_is_vip=False, earlier_stopped_calls=0)
    decision = route_inbound(anyone, called, policy)
    if isinstance(decision, Ring) and decision.targets == (Handset(callee.mobile),):
        return decision
    return None


def valid_until(periods: Iterable[Scheduled], now: datetime) -> datetime | None:
    """When the routing of a user with these scheduled activities may next change by the
    clock alone (the next start or end after ``now``); ``None``: not by the clock."""
    moments = [t for p in periods for t in (p.starts_at, p.ends_at) if t > now]
    return min(moments, default=None)


def entry_value(token: str, until: datetime | None, spec: str) -> str:
    """The AstDB value ``[vipcall-inbound]`` reads: ``token|until|ring spec``.

    ``token`` is the app's for this connection (``VIP_DIRECT_TOKEN``): an entry written by
    an earlier app or for an earlier database is never taken. ``until`` is whole seconds
    since the epoch, rounded down (the entry stops a fraction early, never late); ``0``:
    no end. ``spec`` is :func:`vipcall.calls.dialplan.ring_spec`.
    """
    seconds = 0 if until is None else int(until.timestamp())
    return f"{token}|{seconds}|{spec}"
