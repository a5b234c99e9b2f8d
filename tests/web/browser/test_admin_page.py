"""The admin page's forms in headless Chromium against the real API: each change lands in
PostgreSQL (what the next call reads), a refused one is shown and changes nothing, and an
admin sees only their own organisation's users."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.browser.conftest import NewPage, log_in
from tests.web.conftest import People
from vipcall.db.engine import session_factory
from vipcall.db.models import (
    Group,
    GroupMember,
    Organization,
    ServiceNumber,
    ServiceNumberMember,
    User,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _admin(new_page: NewPage, username: str, tab: str) -> Page:
    page = await new_page()
    await log_in(page, username)
    await page.goto(f"/#/admin?tab={tab}")
    await page.wait_for_selector(f"#admin-{tab}")
    return page


async def _users_of(engine: AsyncEngine, organization_id: int) -> dict[str, str]:
    async with session_factory(engine)() as s:
        rows = await s.execute(
            select(User.display_name, User.mobile_number).where(
                User.organization_id == organization_id
            )
        )
        return dict(rows.tuples().all())


async def test_a_csv_file_imports_its_users(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _admin(new_page, people.maija.username, "users")
    csv = "display_name;mobile;landline;email\nAnni Aalto;040 555 0101;;anni@example.invalid\n" \
          "Bertta Berg;+358 50 555 0102;09 555 0103;\n"  # fmt: skip
    await page.set_input_files(
        "#admin-import-form input[name=file]",
        files=[{"name": "users.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    await page.click("#admin-import-form button[type=submit]")
    await page.wait_for_selector("#import-result .ok")
    assert "Tuotu 2 käyttäjää" in await page.inner_text("#import-result")
    listed = await page.inner_text("#admin-user-list")
    assert "Anni Aalto" in listed and "Bertta Berg" in listed
    assert "+358 50 555 0102" in listed
    users = await _users_of(engine, people.maija.organization_id)
    assert users["Anni Aalto"] == "+358405550101"
    assert users["Bertta Berg"] == "+358505550102"


async def test_a_bad_csv_row_is_listed_and_nothing_is_imported(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    before = await _users_of(engine, people.maija.organization_id)
    page = await _admin(new_page, people.maija.username, "users")
    await page.fill(
        "#admin-import-form textarea[name=text]",
        "display_name,mobile\nHyvä Rivi,040 555 0201\nHuono Rivi,123\n",
    )
    await page.click("#admin-import-form button[type=submit]")
    problem = page.locator("#import-result .import-problems li[data-row='3']")
    await problem.wait_for()
    text = await problem.inner_text()
    assert "Rivi 3" in text and "mobile" in text and "123" in text
    assert "Mitään ei tuotu" in await page.inner_text("#import-result")
    assert await page.locator("#import-result .import-problems li").count() == 1
    assert await _users_of(engine, people.maija.organization_id) == before
    assert "Hyvä Rivi" not in await page.inner_text("#admin-user-list")


async def test_a_no_voicemail_group_and_its_members(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _admin(new_page, people.maija.username, "groups")
    await page.fill("#admin-group-form input[name=name]", "Ei vastaajaa")
    await page.select_option("#admin-group-form select[name=kind]", "no_voicemail")
    await page.click("#admin-group-form button[type=submit]")
    group = page.locator("#admin-group-list section", has_text="Ei vastaajaa")
    await group.wait_for()
    assert "No voicemail" in await group.locator("h2").inner_text()
    # another organisation's user is not offered as a member
    options = await group.locator(".member-form select[name=user_id] option").all_inner_texts()
    assert any("Pekka" in o for o in options)
    assert not any("Outi" in o for o in options)
    await group.locator(".member-form select[name=user_id]").select_option(str(people.pekka.id))
    await group.locator(".member-form button[type=submit]").click()
    await group.locator(f".member-list li[data-id='{people.pekka.id}']").wait_for()
    async with session_factory(engine)() as s:
        made = (await s.scalars(select(Group))).one()
        members = (await s.scalars(select(GroupMember.user_id))).all()
    assert (made.organization_id, made.kind, made.name) == (
        people.maija.organization_id, "no_voicemail", "Ei vastaajaa",
    )  # fmt: skip
    assert members == [people.pekka.id]

    await group.locator(f".member-list li[data-id='{people.pekka.id}'] button.danger").click()
    await group.locator("text=Ei jäseniä").wait_for()
    async with session_factory(engine)() as s:
        assert (await s.scalars(select(GroupMember))).all() == []


async def test_a_service_number_and_its_members(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _admin(new_page, people.maija.username, "service-numbers")
    form = page.locator("#admin-sn-form")
    await form.locator("input[name=name]").fill("Vaihde")
    await form.locator("input[name=number]").fill("05 123 4000")
    await form.locator("select[name=strategy]").select_option("longest_idle")
    await form.locator("button[type=submit]").click()
    sn = page.locator("#admin-sn-list section", has_text="Vaihde")
    await sn.wait_for()
    assert "+358 5 123 4000" in await sn.locator("h2").inner_text()

    # a refused number is shown by its field and adds nothing
    await form.locator("input[name=name]").fill("Toinen")
    await form.locator("input[name=number]").fill("05 123 4000")  # taken by the first
    await form.locator("button[type=submit]").click()
    await form.locator('.error[data-for="number"]:not(:empty)').wait_for()

    await sn.locator(".member-form select[name=user_id]").select_option(str(people.pekka.id))
    await sn.locator(".member-form button[type=submit]").click()
    member = sn.locator(f".member-list li[data-id='{people.pekka.id}']")
    await member.wait_for()
    assert "Sisällä" in await member.inner_text() or "Ulkona" in await member.inner_text()
    async with session_factory(engine)() as s:
        made = (await s.scalars(select(ServiceNumber))).one()
        members = (await s.scalars(select(ServiceNumberMember.user_id))).all()
    assert (made.organization_id, made.number, made.strategy) == (
        people.maija.organization_id, "+35851234000", "longest_idle",
    )  # fmt: skip
    assert members == [people.pekka.id]


async def test_the_organisation_form(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _admin(new_page, people.maija.username, "organization")
    form = page.locator("#admin-org-form")
    red2 = form.locator("input[name=red_2]")
    assert await red2.is_checked()  # 2..6 red by default
    await red2.uncheck()
    await form.locator("input[name=switchboard_number]").fill("05 123 4000")
    await form.locator("input[name=customer_service_number]").fill("05 123 4100")
    await form.locator("input[name=allowed_countries]").fill("fi, se")
    await form.locator("input[name=denied_prefixes]").fill("00882, +46 709")
    await form.locator("input[name=max_messages]").fill("42")
    await form.locator("button[type=submit]").click()
    # shown back as the service keeps them
    countries = form.locator("input[name=allowed_countries]")
    await page.wait_for_function(
        "document.querySelector('#admin-org-form input[name=allowed_countries]').value === 'FI, SE'"
    )
    assert await form.locator("input[name=denied_prefixes]").input_value() == "+46709, +882"
    assert await form.locator("input[name=switchboard_number]").input_value() == "+35851234000"

    async def org() -> Organization:
        async with session_factory(engine)() as s:
            found = await s.get(Organization, people.maija.organization_id)
            assert found is not None
            return found

    saved = await org()
    assert 2 not in saved.red_activities and 3 in saved.red_activities
    assert saved.switchboard_number == "+35851234000"
    assert saved.customer_service_number == "+35851234100"
    assert (saved.allowed_countries, saved.denied_prefixes) == (["FI", "SE"], ["+46709", "+882"])
    assert saved.vm_max_messages == 42

    # a bad country code: said next to its field, nothing changed (not the good fields either)
    await countries.fill("FI, XX")
    await form.locator("input[name=switchboard_number]").fill("05 123 4999")
    await form.locator("button[type=submit]").click()
    error = form.locator('.error[data-for="allowed_countries"]')
    await error.wait_for()
    assert "XX" in await error.inner_text()
    assert await countries.get_attribute("aria-invalid") == "true"
    after = await org()
    assert (after.allowed_countries, after.switchboard_number) == (["FI", "SE"], "+35851234000")

    # empty: any country again
    await countries.fill("")
    await form.locator("input[name=switchboard_number]").fill("+35851234000")
    await form.locator("button[type=submit]").click()
    await page.wait_for_function(
        "!document.querySelector('#admin-org-form input[name=allowed_countries]')"
        ".hasAttribute('aria-invalid')"
    )
    for _ in range(50):
        if (await org()).allowed_countries is None:
            break
        await page.wait_for_timeout(100)
    assert (await org()).allowed_countries is None


async def test_the_call_totals_name_each_route_in_finnish_and_english(
    new_page: NewPage, people: People
) -> None:
    page = await _admin(new_page, people.maija.username, "totals")
    term = page.locator("#org-totals dt[data-route=voicemail]")
    await term.wait_for()
    assert await term.inner_text() == "Vastaaja / Voicemail"
    assert await page.locator("#org-totals dt[data-route]").count() == 6


async def test_an_admin_page_never_shows_another_organisations_users(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    outi = await _admin(new_page, people.outi.username, "users")
    await outi.wait_for_selector(f"#admin-user-list tr[data-id='{people.outi.id}']")
    listed = await outi.inner_text("#admin-user-list")
    assert "Maija" not in listed and "Pekka" not in listed
    assert await outi.locator("#admin-user-list tr[data-id]").count() == 1
    # a search for the other organisation's user finds nothing either
    await outi.fill("#admin-users form[role=search] input[name=q]", "Pekka")
    await outi.click("#admin-users form[role=search] button[type=submit]")
    await outi.wait_for_selector("#admin-user-list >> text=Ei käyttäjiä")
    # nor is that user offered as a member of Outi's groups
    await outi.goto("/#/admin?tab=groups")
    await outi.wait_for_selector("#admin-groups")
    await outi.fill("#admin-group-form input[name=name]", "Naapurin ryhmä")
    await outi.click("#admin-group-form button[type=submit]")
    options = outi.locator("#admin-group-list .member-form select[name=user_id] option")
    await options.first.wait_for(state="attached")
    texts = await options.all_inner_texts()
    assert any("Outi" in t for t in texts)
    assert not any("Maija" in t or "Pekka" in t for t in texts)

    maija = await _admin(new_page, people.maija.username, "users")
    await maija.wait_for_selector(f"#admin-user-list tr[data-id='{people.pekka.id}']")
    assert "Outi" not in await maija.inner_text("#admin-user-list")
    async with session_factory(engine)() as s:
        total = await s.scalar(select(func.count()).select_from(User))
    assert total == 3  # all three exist; each admin saw only their own
