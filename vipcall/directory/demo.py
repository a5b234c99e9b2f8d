"""The demo organisation ``make run`` starts with (idempotent).

Every demo user can log in to the home page with :data:`DEMO_PASSWORD` (set when the user
has no password yet, so a password changed on the home page stays); Maija Meikäläinen is
the organisation's admin (pääkäyttäjä). Usernames: ``fi<mobile national digits>@taipalsaari.fi``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import Organization, Softphone, User
from vipcall.directory.organizations import create_organization, find_organization
from vipcall.directory.softphones import add_softphone, list_softphones
from vipcall.directory.users import create_user, get_user_by_number, hash_password

DEMO_DOMAIN = "taipalsaari.fi"
DEMO_NAME = "Taipalsaaren kunta"
DEMO_SWITCHBOARD = "+35851234000"  # 05 123 4000
#: The demo users' home-page password (a demo only: documented, not secret).
DEMO_PASSWORD = "demo-salasana"


@dataclass(frozen=True, slots=True)
class DemoUser:
    display_name: str
    mobile: str
    landline: str | None = None
    email: str | None = None
    is_admin: bool = False
    softphone: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "Maija Meikäläinen",
        "+358401234567",
        landline="+35851234010",  # 05 123 4010
        email="maija.meikalainen@taipalsaari.fi",
        is_admin=True,
    ),
    DemoUser(
        "Matti Virtanen",
        "+358401234568",
        email="matti.virtanen@taipalsaari.fi",
        softphone=True,
    ),
    DemoUser("Liisa Korhonen", "+358501234569", email="liisa.korhonen@taipalsaari.fi"),
)


@dataclass(frozen=True, slots=True)
class Demo:
    organization: Organization
    users: list[User]
    softphones: list[Softphone]
    created: bool  # anything was created by this call


async def ensure_demo(session: AsyncSession) -> Demo:
    """Create the demo organisation, its users and one softphone unless they exist.

    Safe to run again and again (existing rows are left as they are).
    """
    created = False
    org = await find_organization(session, DEMO_DOMAIN)
    if org is None:
        org = await create_organization(
            session,
            name=DEMO_NAME,
            domain=DEMO_DOMAIN,
            switchboard_number=DEMO_SWITCHBOARD,
            language="fi",
        )
        created = True
    users: list[User] = []
    phones: list[Softphone] = []
    for spec in DEMO_USERS:
        user = await get_user_by_number(session, spec.mobile)
        if user is None:
            user = await create_user(
                session,
                organization=org,
                display_name=spec.display_name,
                mobile=spec.mobile,
                landline=spec.landline,
                email=spec.email,
                is_admin=spec.is_admin,
                password=DEMO_PASSWORD,
            )
            created = True
        elif user.password_hash is None:
            user.password_hash = hash_password(DEMO_PASSWORD)
            await session.flush()
            created = True
        users.append(user)
        if spec.softphone:
            existing = list(await list_softphones(session, user))
            if not existing:
                existing = [await add_softphone(session, user, label="demo softphone")]
                created = True
            phones.extend(existing)
    return Demo(organization=org, users=users, softphones=phones, created=created)
