"""Test people: organisations and users with fresh, valid Finnish numbers."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime

from vipcall import directory
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.directory import add_softphone, create_organization, create_user

_serial = itertools.count(int(secrets.token_hex(2), 16) % 5000 * 100)


def fresh_mobile() -> str:
    return f"+35840{1000000 + next(_serial) % 8999999:07d}"


def fresh_landline() -> str:
    return f"+3589{2000000 + next(_serial) % 7999999:07d}"


def fresh_external() -> str:
    return f"+35850{1000000 + next(_serial) % 8999999:07d}"


@dataclass
class Person:
    id: int
    username: str
    mobile: str
    landline: str | None
    softphone: str | None = None
    softphone_password: str | None = None


class People:
    """Creates organisations and users in the test database through the service layer."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)

    async def org(self, **fields: object) -> str:
        """A new organisation (its domain); ``fields`` as for create_organization."""
        domain = f"org{secrets.token_hex(3)}.fi"
        async with transaction(self.sessions) as s:
            await create_organization(s, name=f"Test {domain}", domain=domain, **fields)  # type: ignore[arg-type]
        return domain

    async def user(self, org: str, *, landline: bool = False, softphone: bool = False) -> Person:
        async with transaction(self.sessions) as s:
            u = await create_user(
                s,
                organization=org,
                display_name="Test User",
                mobile=fresh_mobile(),
                landline=fresh_landline() if landline else None,
            )
            person = Person(u.id, u.username, u.mobile_number, u.landline_number)
            if softphone:
                phone = await add_softphone(s, u.id)
                person.softphone = phone.sip_username
                person.softphone_password = phone.sip_password
        return person

    async def set_activity(self, person: Person, activity: int) -> None:
        async with transaction(self.sessions) as s:
            await directory.set_activity(s, person.id, activity)

    async def set_role(self, person: Person, role: int) -> None:
        async with transaction(self.sessions) as s:
            await directory.set_role(s, person.id, role)

    async def forward(
        self, person: Person, target: str | None, activity: int | None = None
    ) -> None:
        async with transaction(self.sessions) as s:
            await directory.set_forwarding(s, person.id, target, activity=activity)

    async def schedule(
        self, person: Person, activity: int, starts: datetime, ends: datetime
    ) -> None:
        async with transaction(self.sessions) as s:
            await directory.add_scheduled_activity(s, person.id, activity, starts, ends)

    async def without_voicemail(self, person: Person) -> None:
        """Put the user in their organisation's "No voicemail" group."""
        from sqlalchemy import text

        async with transaction(self.sessions) as s:
            group_id = await s.scalar(
                text(
                    "INSERT INTO groups (organization_id, name, kind)"
                    " SELECT organization_id, 'No voicemail', 'no_voicemail' FROM users"
                    " WHERE id = :u ON CONFLICT (organization_id, name)"
                    " DO UPDATE SET kind = EXCLUDED.kind RETURNING id"
                ),
                {"u": person.id},
            )
            await s.execute(
                text("INSERT INTO group_members (group_id, user_id) VALUES (:g, :u)"),
                {"g": group_id, "u": person.id},
            )

    async def close(self) -> None:
        await self.engine.dispose()


async def messages_of(database_url: str, user_id: int) -> list[dict[str, object]]:
    """The voicemail messages stored for a user, oldest first (audio included)."""
    from sqlalchemy import text

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT m.id, m.caller_number, m.called_number, m.duration_ms, m.audio"
                    " FROM voicemail_messages m JOIN mailboxes b ON b.id = m.mailbox_id"
                    " WHERE b.user_id = :u ORDER BY m.created_at"
                ),
                {"u": user_id},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


async def state_of(database_url: str, user_id: int) -> dict[str, object]:
    """A user's stored presence state: activity, role and immediate forwarding target."""
    from sqlalchemy import text

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT u.activity, u.role, (SELECT f.target FROM forwardings f"
                        " WHERE f.user_id = u.id AND f.kind = 'immediate') AS forward"
                        " FROM users u WHERE u.id = :u"
                    ),
                    {"u": user_id},
                )
            ).one()
            return dict(row._mapping)
    finally:
        await engine.dispose()
