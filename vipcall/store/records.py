"""Writes of the call history (``call_records``), batched by
:class:`vipcall.history.recorder.Recorder`.

A call's notes arrive separately — the app's note of the decision (:class:`RecordStart`),
the end (:class:`RecordEnd`, from the app or the dialplan's report) — and may arrive in any
order (an app restarted while a call rang never wrote its start). Each is an upsert on the
channel id that only fills in what it knows, so any order gives the same row: the app's
decision sets the route and the parties (the dialplan's guess only fills a new row), the
earliest start and the latest end win, an answer once known stays.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from vipcall.history.rules import Note, RecordAnswer, RecordEnd, RecordStart, Route

_ORG = "(SELECT organization_id FROM users WHERE id = {})"
_SN_ORG = "(SELECT organization_id FROM service_numbers WHERE id = {})"
# A user or service number removed before its call's note is written (a report read from the
# spool later, the database away for a while): the record keeps no one, rather than a
# foreign-key error that would hold back every note of the batch.
_USER = "(SELECT id FROM users WHERE id = {})"
_SN = "(SELECT id FROM service_numbers WHERE id = {})"

UPSERT_START = f"""
INSERT INTO call_records AS r (channel_id, started_at, route, caller_number, called_number,
    caller_user_id, callee_user_id, caller_org_id, callee_org_id, service_number_id)
VALUES ($1, $2::timestamptz, COALESCE($3::text, $4::text), $5::text, $6::text,
    {_USER.format("$7::int")}, {_USER.format("$8::int")},
    {_ORG.format("$7::int")}, COALESCE({_ORG.format("$8::int")}, {_SN_ORG.format("$9::int")}),
    {_SN.format("$9::int")})
ON CONFLICT (channel_id) DO UPDATE SET
    started_at = LEAST(r.started_at, EXCLUDED.started_at),
    route = COALESCE($3::text, r.route),
    caller_number = COALESCE(EXCLUDED.caller_number, r.caller_number),
    called_number = COALESCE(EXCLUDED.called_number, r.called_number),
    caller_user_id = COALESCE(EXCLUDED.caller_user_id, r.caller_user_id),
    callee_user_id = COALESCE(EXCLUDED.callee_user_id, r.callee_user_id),
    caller_org_id = COALESCE(EXCLUDED.caller_org_id, r.caller_org_id),
    callee_org_id = COALESCE(EXCLUDED.callee_org_id, r.callee_org_id),
    service_number_id = COALESCE(EXCLUDED.service_number_id, r.service_number_id)
"""

UPSERT_END = f"""
INSERT INTO call_records AS r (channel_id, started_at, ended_at, answered_at, dial_status,
    route, caller_number, called_number, callee_user_id, callee_org_id, caller_user_id,
    caller_org_id)
VALUES ($1, COALESCE($2::timestamptz, $3::timestamptz), $3::timestamptz, $4::timestamptz,
    $5::text, $6::text, $7::text, $8::text, {_USER.format("$9::int")}, {_ORG.format("$9::int")},
    {_USER.format("$10::int")}, {_ORG.format("$10::int")})
ON CONFLICT (channel_id) DO UPDATE SET
    ended_at = GREATEST(r.ended_at, EXCLUDED.ended_at),
    answered_at = COALESCE(r.answered_at, EXCLUDED.answered_at),
    dial_status = COALESCE(EXCLUDED.dial_status, r.dial_status),
    caller_number = COALESCE(r.caller_number, EXCLUDED.caller_number),
    called_number = COALESCE(r.called_number, EXCLUDED.called_number),
    callee_user_id = COALESCE(r.callee_user_id, EXCLUDED.callee_user_id),
    callee_org_id = COALESCE(r.callee_org_id, EXCLUDED.callee_org_id),
    caller_user_id = COALESCE(r.caller_user_id, EXCLUDED.caller_user_id),
    caller_org_id = COALESCE(r.caller_org_id, EXCLUDED.caller_org_id)
"""


UPSERT_ANSWER = f"""
INSERT INTO call_records AS r (channel_id, started_at, answered_at, route, callee_user_id,
    callee_org_id)
VALUES ($1, $2::timestamptz, $2::timestamptz, $3::text, {_USER.format("$4::int")},
    {_ORG.format("$4::int")})
ON CONFLICT (channel_id) DO UPDATE SET
    answered_at = COALESCE(r.answered_at, EXCLUDED.answered_at),
    callee_user_id = COALESCE(EXCLUDED.callee_user_id, r.callee_user_id),
    callee_org_id = COALESCE(r.callee_org_id, EXCLUDED.callee_org_id)
"""


def _start_args(s: RecordStart) -> tuple[object, ...]:
    route = s.route.value if s.route is not None else None
    return (
        s.channel_id,
        s.started_at,
        route,
        Route.RANG.value,  # a new row needs a route: the call rang before it came back
        s.caller_number,
        s.called_number,
        s.caller_user_id,
        s.callee_user_id,
        s.service_number_id,
    )


def _end_args(e: RecordEnd) -> tuple[object, ...]:
    return (
        e.channel_id,
        e.started_at,
        e.ended_at,
        e.answered_at,
        e.dial_status,
        (e.route or Route.RANG).value,
        e.caller_number,
        e.called_number,
        e.callee_user_id,
        e.caller_user_id,
    )


def _answer_args(a: RecordAnswer) -> tuple[object, ...]:
    return (a.channel_id, a.answered_at, a.route.value, a.callee_user_id)


async def write_records(conn: asyncpg.Connection, notes: Sequence[Note]) -> None:
    """Write a batch of notes in one transaction, in the order they were made."""
    async with conn.transaction():
        for _, statement, args in _runs(notes):
            await conn.executemany(statement, args)


def _runs(notes: Sequence[Note]) -> list[tuple[type, str, list[tuple[object, ...]]]]:
    """Consecutive notes of one kind grouped (one ``executemany`` each), order kept."""
    runs: list[tuple[type, str, list[tuple[object, ...]]]] = []
    for note in notes:
        kind: type
        if isinstance(note, RecordStart):
            kind, statement, args = RecordStart, UPSERT_START, _start_args(note)
        elif isinstance(note, RecordAnswer):
            kind, statement, args = RecordAnswer, UPSERT_ANSWER, _answer_args(note)
        else:
            kind, statement, args = RecordEnd, UPSERT_END, _end_args(note)
        if runs and runs[-1][0] is kind:
            runs[-1][2].append(args)
        else:
            runs.append((kind, statement, [args]))
    return runs
