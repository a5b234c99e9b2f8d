"""The home page end to end: what a user does in the browser (headless Chromium) routes the
next real call through Asterisk (SIPp parties), and what they do by phone shows on the page.

- the activity set on the page sends the next landline call to voicemail; the message the
  caller left plays in the browser;
- a VIP contact added on the page rings through the absence notice;
- 983<n> dialled from the handset updates an open page without a reload."""

from __future__ import annotations

import re

from harness.app import AppProcess, eventually
from tests.scenarios.home_page.conftest import OpenPage
from tests.support.people import fresh_external, messages_of, state_of
from tests.support.voicemail import default_greeting_seconds
from vipcall.presence.model import Activity, Role


def _decisions(app: AppProcess, since: int, dialled: str) -> list[str]:
    text = app.log_path.read_text(errors="replace")[since:]
    return re.findall(rf" -> {re.escape(dialled)}: (\w+)\(", text)


def _notices(app: AppProcess, since: int, user_id: int) -> list[str]:
    text = app.log_path.read_text(errors="replace")[since:]
    return re.findall(rf"absence notice (\d)/2 for user {user_id}: key (\S+) ->", text)


def _log_mark(app: AppProcess) -> int:
    return len(app.log_path.read_text(errors="replace"))


async def test_activity_set_on_the_page_routes_the_next_call_and_its_message_plays(
    vipcall, people, parties, database, open_page: OpenPage
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    page = await open_page(maija, "activity")

    await page.click("label[for=activity-3]")  # Lounaalla / Lunch: red, landline not reachable
    await page.wait_for_function(
        "document.getElementById('presence-badge').dataset.activity === '3'"
    )
    assert (await state_of(database, maija.id))["activity"] == 3

    handset = await parties.handset().start()
    mark = _log_mark(vipcall)
    hold = str(int((default_greeting_seconds(maija.landline) + 3.0) * 1000))
    call = await parties.external_caller(
        "+358501110077", maija.landline, "uac_message.xml", hold=hold
    ).run()
    handset.kill()
    assert call.ok, call.log
    assert not (await handset.wait()).received("INVITE"), "the handset did not ring"
    assert _decisions(vipcall, mark, maija.landline) == ["Voicemail"]
    await eventually(lambda: messages_of(database, maija.id))

    await page.goto("/#/mailbox")
    item = page.locator("ul.messages li").first
    await item.wait_for()
    assert "+358 50 111 0077" in await item.inner_text()
    await item.locator("audio").evaluate("a => a.play()")
    await page.wait_for_function(
        "document.querySelector('ul.messages audio').currentTime > 0.5", timeout=15_000
    )
    seconds = await item.locator("audio").evaluate("a => a.duration")
    assert seconds > 1.0, "the caller's recorded message, not an empty file"


async def test_a_vip_contact_added_on_the_page_rings_through_the_absence_notice(
    vipcall, people, parties, open_page: OpenPage
) -> None:
    org = await people.org()
    maija = await people.user(org)
    await people.set_role(maija, int(Role.ABSENCE_NOTICE))
    await people.set_activity(maija, int(Activity.ON_HOLIDAY))
    caller = fresh_external()

    page = await open_page(maija, "contacts")
    await page.fill("#contact-form input[name=name]", "Asiakas Oy")
    await page.fill("#contact-form input[name=number]", "0" + caller[4:])  # as typed
    await page.check("#contact-form input[name=vip]")
    await page.click("#contact-form button[type=submit]")
    await page.wait_for_selector("#vip-list li[data-kind=contact]")

    handset = await parties.handset().start()
    mark = _log_mark(vipcall)
    call = await parties.external_caller(caller, maija.mobile, "uac_call.xml", hold="1500").run()
    phone = await handset.wait()
    assert call.ok, call.log
    assert phone.ok, phone.log
    assert phone.received("INVITE")[0].request_user == maija.mobile
    assert _decisions(vipcall, mark, maija.mobile) == ["Ring"]
    assert _notices(vipcall, mark, maija.id) == []


async def test_983_from_the_handset_updates_an_open_page(
    vipcall, people, parties, database, open_page: OpenPage
) -> None:
    org = await people.org()
    maija = await people.user(org)
    page = await open_page(maija, "activity")
    await page.wait_for_function("document.body.dataset.live === 'open'")
    await page.evaluate("window.__marker = 'not reloaded'")
    assert await page.is_checked("#activity-1")

    count, call = await vipcall.count_outcome(
        "activity_set", parties.handset_caller(maija.mobile, "9835", "uac_until_bye.xml").run()
    )
    assert call.ok, call.log
    assert count == 1
    assert (await state_of(database, maija.id))["activity"] == 5

    await page.wait_for_function(
        "document.getElementById('presence-badge').dataset.activity === '5'", timeout=10_000
    )
    assert await page.is_checked("#activity-5")
    assert "Poissa" in await page.inner_text("#presence-badge")
    assert await page.evaluate("window.__marker") == "not reloaded"
