"""CSV import: validate everything first, write in one transaction, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import transaction
from vipcall.db.models import Mailbox, User

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOMAIN = "taipalsaari.fi"
GOOD = (
    "display_name,mobile,landline,email\n"
    "Maija Meikäläinen,040 123 4567,09 1234 5678,maija@taipalsaari.fi\n"
    '"Virtanen, Matti",+358 40 1234568,,\n'
    "Liisa Korhonen,00358501234569,,liisa@taipalsaari.fi\n"
)


@pytest_asyncio.fixture(loop_scope="session")
async def org(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with transaction(sessions) as s:
        await d.create_organization(s, name="Taipalsaaren kunta", domain=DOMAIN)
    return DOMAIN


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(User)) or 0)


async def _import(sessions: async_sessionmaker[AsyncSession], source: str | Path) -> list[User]:
    async with transaction(sessions) as s:
        return await d.import_users_csv(s, source, DOMAIN)


async def test_import_ok(sessions: async_sessionmaker[AsyncSession], org: str) -> None:
    users = await _import(sessions, GOOD)
    assert [u.username for u in users] == [
        "fi0401234567@taipalsaari.fi",
        "fi0401234568@taipalsaari.fi",
        "fi0501234569@taipalsaari.fi",
    ]
    assert users[0].landline_number == "+358912345678"
    assert users[1].display_name == "Virtanen, Matti" and users[1].email is None
    assert await _count(sessions) == 3
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Mailbox)) == 3


async def test_import_semicolon_bom_file_optional_columns(
    sessions: async_sessionmaker[AsyncSession], org: str, tmp_path: Path
) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        "\ufeffMobile;Display_Name\n0401234567;Maija\n\n0401234568;Matti\n", encoding="utf-8"
    )
    users = await _import(sessions, path)
    assert [u.display_name for u in users] == ["Maija", "Matti"]
    # A path given as str works too.
    path2 = tmp_path / "more.csv"
    path2.write_text("display_name;mobile\nLiisa;050 123 4569\n", encoding="utf-8")
    assert len(await _import(sessions, str(path2))) == 1


async def test_bad_row_3_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], org: str
) -> None:
    text = (
        "display_name,mobile,landline,email\n"
        "Maija,040 123 4567,,\n"  # row 2
        "Matti,123,,\n"  # row 3: bad mobile
        "Liisa,050 123 4569,,\n"  # row 4
    )
    with pytest.raises(d.CsvImportError) as info:
        await _import(sessions, text)
    err = info.value
    assert str(err) == "row 3, field mobile: '123' is not a valid phone number"
    assert (err.row, err.field) == (3, "mobile")
    assert await _count(sessions) == 0


@pytest.mark.parametrize(
    ("text", "row", "field", "fragment"),
    [
        ("display_name,mobile\nA,0401234567\nB,0401234568\nC,\n", 4, "mobile", "is empty"),
        ("display_name,mobile,email\nA,0401234567,x@\n", 2, "email", "not a valid e-mail"),
        ("display_name,mobile\nA,0401234567,extra\n", 2, "columns", "expected 2 columns"),
        ("display_name,mobile,landline\nA,0401234567,0600 12345\n", 2, "landline", "premium"),
        ("display_name,phone\nA,0401234567\n", 1, "header", "unknown column 'phone'"),
        ("name,mobile\n", 1, "header", "unknown column 'name'"),
        ("display_name,landline\nA,0912345678\n", 1, "header", "missing column 'mobile'"),
        ("", 1, "header", "empty"),
        (",mobile\n", 1, "header", "unknown column ''"),
        (
            "display_name,mobile,landline\nA,0401234567,\nB,0401234568,040 123 4567\n",
            3,
            "landline",
            "+358401234567 is already on row 2",
        ),
        (
            "display_name,mobile\nA,0401234567\nB,+358401234567\n",
            3,
            "mobile",
            "already on row 2",
        ),
    ],
)
async def test_bad_rows(
    sessions: async_sessionmaker[AsyncSession],
    org: str,
    text: str,
    row: int,
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(d.CsvImportError) as info:
        await _import(sessions, text + ("\n" if "\n" not in text else ""))
    err = info.value
    assert (err.row, err.field) == (row, field), str(err)
    assert fragment in str(err)
    assert str(err).startswith(f"row {row}, field {field}: ")
    assert "\n" not in str(err)
    assert await _count(sessions) == 0


async def test_all_errors_collected(sessions: async_sessionmaker[AsyncSession], org: str) -> None:
    text = "display_name,mobile,email\nA,1,\nB,0401234568,bad\nC,0401234569,\n"
    with pytest.raises(d.CsvImportError) as info:
        await _import(sessions, text)
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "mobile"), (3, "email")]
    assert str(info.value).endswith("(and 1 more error)")


async def test_duplicate_against_database(
    sessions: async_sessionmaker[AsyncSession], org: str
) -> None:
    async with transaction(sessions) as s:
        await d.create_user(s, organization=DOMAIN, display_name="X", mobile="0501234569")
    with pytest.raises(d.CsvImportError) as info:
        await _import(sessions, GOOD)
    assert str(info.value) == (
        "row 4, field mobile: +358501234569 already belongs to user fi0501234569@taipalsaari.fi"
    )
    assert await _count(sessions) == 1


async def test_unknown_org_and_missing_file(
    sessions: async_sessionmaker[AsyncSession], org: str, tmp_path: Path
) -> None:
    with pytest.raises(d.UnknownOrganization):
        async with transaction(sessions) as s:
            await d.import_users_csv(s, GOOD, "nope.fi")
    with pytest.raises(d.InvalidField, match="cannot read"):
        await _import(sessions, tmp_path / "missing.csv")


async def test_parse_is_pure() -> None:
    rows = d.parse_users_csv(GOOD)
    assert [r.row for r in rows] == [2, 3, 4]
    assert rows[2].fields.mobile == "+358501234569"
