"""The organisation's toll-fraud guard, set by CLI and enforced where targets are set:
forwarding, the voicemail keys and service-number overflow refuse a blocked destination and
change nothing; bad input is one line and changes nothing."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support import cli as support_cli
from vipcall import directory as d
from vipcall.db.models import Forwarding, Organization
from vipcall.directory.servicenumbers import create_service_number

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA = "fi0401234567@taipalsaari.fi"  # a demo user


@pytest_asyncio.fixture(loop_scope="session")
async def cli(
    database_url: str, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> support_cli.Cli:
    c = support_cli.Cli(database_url, capsys)
    await c.ok("demo")
    return c


async def policy_row(sessions: async_sessionmaker[AsyncSession]) -> tuple[object, object]:
    async with sessions() as s:
        org = await s.scalar(select(Organization).where(Organization.domain == "taipalsaari.fi"))
        assert org is not None
        return org.allowed_countries, org.denied_prefixes


async def test_set_dial_policy_by_cli_and_forwarding_abroad_is_refused(
    cli: support_cli.Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    out = await cli.ok("org", "set-dial-policy", "taipalsaari.fi", "--allow", "fi,ee",
                       "--deny", "+3587001, 00882")  # fmt: skip
    assert out.strip() == ("taipalsaari.fi: calls allowed to EE,FI; denied prefixes +3587001,+882")
    assert await policy_row(sessions) == (["EE", "FI"], ["+3587001", "+882"])
    code, _, err = await cli("forward", "set", MAIJA, "+46 70 123 4567")
    assert code != 0
    assert "does not allow" in support_cli.one_error_line(err)
    async with sessions() as s:
        assert (await s.scalars(select(Forwarding))).all() == []
    await cli.ok("forward", "set", MAIJA, "+372 5551 2345")  # Estonia is allowed


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--allow", "XX"], "'XX' is not an ISO country code"),
        (["--deny", "3587001"], "is not a number prefix"),
        (["--allow", ","], "allow at least one country"),
    ],
)
async def test_bad_policy_is_one_line_and_changes_nothing(
    cli: support_cli.Cli,
    sessions: async_sessionmaker[AsyncSession],
    args: list[str],
    words: str,
) -> None:
    before = await policy_row(sessions)
    code, _, err = await cli("org", "set-dial-policy", "taipalsaari.fi", *args)
    assert code != 0
    assert words in support_cli.one_error_line(err)
    assert await policy_row(sessions) == before


async def test_voicemail_key_1_and_overflow_refuse_a_denied_prefix(
    cli: support_cli.Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await cli.ok("org", "set-dial-policy", "taipalsaari.fi", "--deny", "+882")
    async with sessions() as s, s.begin():
        with pytest.raises(d.ForwardRefused) as refused:
            await d.update_voicemail_settings(
                s, MAIJA, offer_transfer=True, transfer_target="+882 16 123456"
            )
        assert refused.value.reason.value == "blocked-destination"
    async with sessions() as s, s.begin():
        with pytest.raises(d.InvalidField) as bad:
            await create_service_number(
                s, "taipalsaari.fi", number="09 555 0100", kind="group", name="Ryhmä",
                overflow="number", overflow_target="+882 16 123456",
            )  # fmt: skip
        assert bad.value.field == "overflow_target"
