"""Each page against the real API in headless Chromium: a change made on the page is in
PostgreSQL (what the next call reads), a refused change is shown next to its field and
changes nothing, a voicemail message plays, a presence change from elsewhere shows live."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.notices.parts import wav
from tests.web.browser.conftest import NewPage, log_in
from tests.web.browser.live import PHONE
from tests.web.conftest import People
from vipcall.db.engine import session_factory, transaction
from vipcall.db.models import Contact, Forwarding, Mailbox, User, VoicemailMessage
from vipcall.directory import presence as p

pytestmark = pytest.mark.asyncio(loop_scope="session")

HELSINKI = ZoneInfo("Europe/Helsinki")


async def _user(engine: AsyncEngine, user_id: int) -> User:
    async with session_factory(engine)() as s:
        user = await s.get(User, user_id)
        assert user is not None
        return user


async def _open(new_page: NewPage, username: str, route: str, **kw: object) -> Page:
    page = await new_page(**kw)
    await log_in(page, username)
    await page.goto(f"/#/{route}")
    await page.wait_for_selector(f"#page-{route}")
    return page


async def test_activity_and_role_change_on_click(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _open(new_page, people.pekka.username, "activity")
    await page.click("label[for=activity-5]")
    await page.wait_for_function(
        "document.getElementById('presence-badge').dataset.activity === '5'"
    )
    await page.click("label[for=role-4]")
    await page.wait_for_function("document.getElementById('presence-badge').dataset.role === '4'")
    user = await _user(engine, people.pekka.id)
    assert (user.activity, user.role) == (5, 4)
    assert "Poissa" in await page.inner_text("#presence-badge")


async def test_a_scheduled_activity_is_drawn_on_the_week_and_removed(
    new_page: NewPage, people: People
) -> None:
    page = await _open(new_page, people.pekka.username, "activity")
    await page.select_option("#schedule-form select[name=activity]", "3")
    await page.click("#schedule-form button[type=submit]")
    block = page.locator("#week-timeline .tl-block")
    await block.first.wait_for()
    assert "Lounaalla" in await block.first.inner_text()
    assert await page.locator("#schedule-list li").count() == 1

    # ends before it starts: refused next to the field, nothing added
    await page.fill("#schedule-form input[name=starts_at]", "2030-01-02T12:00")
    await page.fill("#schedule-form input[name=ends_at]", "2030-01-02T11:00")
    await page.click("#schedule-form button[type=submit]")
    await page.wait_for_selector("#schedule-form .error:not(:empty)")
    assert await page.locator("#schedule-list li").count() == 1

    await page.click("#schedule-list li button.danger")
    await page.wait_for_selector("#schedule-list", state="detached")
    assert await block.count() == 0


async def test_forwarding_refused_in_words_next_to_the_field_then_applied_and_cleared(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _open(new_page, people.pekka.username, "forwarding")
    target = "#forwarding-form input[name=target]"

    await page.fill(target, people.pekka.mobile)  # his own number: a loop
    await page.click("#forwarding-form button[type=submit]")
    error = page.locator('#forwarding-form .error[data-for="target"]')
    await error.wait_for()
    assert await error.inner_text()
    assert await page.get_attribute(target, "aria-invalid") == "true"
    async with session_factory(engine)() as s:
        assert (await s.scalars(select(Forwarding))).all() == []

    await page.fill(target, "050 987 6543")
    await page.click("#forwarding-form button[type=submit]")
    await page.wait_for_function(
        f"document.querySelector('{target}').value === '+358509876543'"
    )
    assert await error.inner_text() == ""
    async with session_factory(engine)() as s:
        rows = (await s.scalars(select(Forwarding))).all()
    assert [(r.user_id, r.kind, r.target) for r in rows] == [
        (people.pekka.id, "immediate", "+358509876543")
    ]

    await page.click("#forwarding-form button.danger")
    await page.wait_for_function(f"document.querySelector('{target}').value === ''")
    async with session_factory(engine)() as s:
        assert (await s.scalars(select(Forwarding))).all() == []


async def test_a_vip_contact_is_added_and_on_the_vip_list(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _open(new_page, people.pekka.username, "contacts")
    await page.fill("#contact-form input[name=name]", "Tärkeä Asiakas")
    await page.fill("#contact-form input[name=number]", "050 555 1234")
    await page.check("#contact-form input[name=vip]")
    await page.click("#contact-form button[type=submit]")
    await page.wait_for_selector("#vip-list li[data-kind=contact]")
    assert "Tärkeä Asiakas" in await page.inner_text("#vip-list")
    assert "+358 50 555 1234" in await page.inner_text("#contacts-list")
    async with session_factory(engine)() as s:
        contact = (await s.scalars(select(Contact))).one()
    assert (contact.owner_user_id, contact.number, contact.is_vip) == (
        people.pekka.id,
        "+358505551234",
        True,
    )

    # a colleague found in the directory is made a VIP with one tap
    await page.fill("#directory-search input[name=q]", "Maija")
    await page.click("#directory-search button[type=submit]")
    row = page.locator(f"#directory-results tr[data-id='{people.maija.id}']")
    await row.locator("input[type=checkbox]").check()
    await page.wait_for_selector(f"#vip-list li[data-kind=colleague][data-id='{people.maija.id}']")


async def test_a_voicemail_message_plays_in_the_browser_and_is_then_heard(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    async with transaction(session_factory(engine)) as s:
        box = (await s.scalars(select(Mailbox).where(Mailbox.user_id == people.pekka.id))).one()
        s.add(
            VoicemailMessage(
                mailbox_id=box.id,
                caller_number="+358501112233",
                called_number=people.pekka.mobile,
                duration_ms=2000,
                audio=wav(2.0),
            )
        )
    page = await _open(new_page, people.pekka.username, "mailbox")
    item = page.locator("ul.messages li").first
    assert "+358 50 111 2233" in await item.inner_text()
    assert "Uusi" in await item.inner_text()
    audio = item.locator("audio")
    await audio.evaluate("a => a.play()")
    await page.wait_for_function(
        "document.querySelector('ul.messages audio').currentTime > 0.2", timeout=10_000
    )
    assert await audio.evaluate("a => a.duration") == pytest.approx(2.0, abs=0.05)
    async with session_factory(engine)() as s:
        msg = (await s.scalars(select(VoicemailMessage))).one()
    for _ in range(50):
        if msg.heard:
            break
        await page.wait_for_timeout(100)
        async with session_factory(engine)() as s:
            msg = (await s.scalars(select(VoicemailMessage))).one()
    assert msg.heard, "playing marks the message heard"
    download = item.locator("a[download]")
    assert (await download.get_attribute("href")).endswith("download=1")

    await item.locator("button.danger").click()
    await page.wait_for_selector("text=Ei viestejä")


async def test_a_presence_change_made_elsewhere_shows_without_a_reload(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _open(new_page, people.pekka.username, "activity")
    await page.wait_for_function("document.body.dataset.live === 'open'")
    marker = await page.evaluate("window.__marker = Math.random()")
    async with transaction(session_factory(engine)) as s:
        await p.set_activity(s, people.pekka.id, 4)
    await page.wait_for_function(
        "document.getElementById('presence-badge').dataset.activity === '4'", timeout=10_000
    )
    assert await page.is_checked("#activity-4")
    assert await page.evaluate("window.__marker") == marker, "no reload happened"


PAGES = ("activity", "voicemail", "forwarding", "contacts", "mailbox", "service-numbers",
         "apps", "history", "admin")  # fmt: skip


async def test_every_page_fits_a_phone_and_labels_every_control(
    new_page: NewPage, people: People
) -> None:
    page = await new_page(viewport=PHONE)
    await log_in(page, people.maija.username)
    for route in PAGES:
        await page.goto(f"/#/{route}")
        await page.wait_for_selector(f"#page-{route}")
        assert await page.locator(f"#page-{route} h1").count() == 1
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{route} is {overflow}px wider than a phone"
        unlabelled = await page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main textarea')]
                .filter(e => e.type !== 'hidden')
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.name || e.outerHTML)"""
        )
        assert unlabelled == [], f"{route}: controls without a label {unlabelled}"
        small = await page.evaluate(
            """() => [...document.querySelectorAll('main button, main .button, #nav a')]
                .filter(e => e.offsetParent && e.getBoundingClientRect().height < 44)
                .map(e => e.textContent)"""
        )
        assert small == [], f"{route}: touch targets under 44px {small}"


async def test_the_mailbox_page_names_each_phone_key_in_finnish_and_english(
    new_page: NewPage, people: People
) -> None:
    page = await _open(new_page, people.pekka.username, "mailbox")
    main = page.locator(".keymap[data-menu=main]")
    await main.wait_for()
    assert await main.locator("h3").inner_text() == "Päävalikko / Main menu"
    words = await main.locator("dd").all_inner_texts()
    assert words[0] == "uudet viestit / new messages"
    assert len(words) == 5
    options = await page.locator(".keymap[data-menu=options] dd").all_inner_texts()
    assert "vaihda PIN-koodi / change PIN" in options


async def test_overlapping_scheduled_activities_are_drawn_on_lanes_of_their_own(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    # the service allows overlaps (the later-starting one is in effect): 4 from 10 to 12, 3
    # from 11 to 12 and 2 from 12 to 13 tomorrow, Helsinki time
    day = (datetime.now(HELSINKI) + timedelta(days=1)).date()
    at = lambda hour: datetime.combine(day, time(hour), HELSINKI)  # noqa: E731
    async with transaction(session_factory(engine)) as s:
        ids = [
            (await p.add_scheduled_activity(s, people.pekka.id, a, at(start), at(end))).id
            for a, start, end in ((4, 10, 12), (3, 11, 12), (2, 12, 13))
        ]
    page = await _open(new_page, people.pekka.username, "activity")
    blocks = page.locator("#week-timeline .tl-block")
    await blocks.first.wait_for()
    assert await blocks.count() == 3
    boxes = [await blocks.nth(i).bounding_box() for i in range(3)]
    assert all(b is not None for b in boxes)
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = boxes[i], boxes[j]
            assert a is not None and b is not None
            side = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            above = a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            apart = side or above
            assert apart, f"blocks {i} and {j} are drawn over each other: {a} {b}"
    lanes = await blocks.evaluate_all("bs => bs.map(b => [Number(b.dataset.id), b.dataset.lane])")
    assert sorted(lane for _, lane in lanes) == ["0", "0", "1"]
    assert dict(lanes)[ids[1]] == "1"  # 3 overlaps 4; 2 starts as 4 ends: back on lane 0
    # the row grew to two lanes; the row of a day with nothing scheduled stayed one lane high
    assert await page.locator("#week-timeline .tl-track[data-lanes='2']").count() == 1
