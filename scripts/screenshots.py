"""Screenshots of the home page's main pages for README (docs/screenshots/), at desktop
(1280x800) and phone (390x844) width, in headless Chromium (Debian's /usr/bin/chromium via
Playwright).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Makes a throwaway database (harness.db, dropped at the end) with the demo organisation and a
little made-up use (contacts, a scheduled activity, voicemail messages, calls over two
weeks), serves the web app on a loopback port and logs in as the demo admin Maija. The
browser runs in Finnish (locale fi-FI, time zone Europe/Helsinki, Finnish widgets)."""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import sys
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from playwright.async_api import Page, async_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from harness.db import drop_database, fresh_database  # noqa: E402
from harness.kannel import free_port  # noqa: E402
from vipcall import directory  # noqa: E402
from vipcall.config import Settings  # noqa: E402
from vipcall.db.engine import create_engine, session_factory, transaction  # noqa: E402
from vipcall.db.models import CallRecord, Mailbox, VoicemailMessage  # noqa: E402
from vipcall.directory.demo import DEMO_PASSWORD  # noqa: E402
from vipcall.web.app import create_app  # noqa: E402

PASSWORD = DEMO_PASSWORD
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
#: Chromium on Linux takes the language of its own widgets (the date and time inputs) from the
#: environment, not from the page's locale: Finnish dates and a 24 h clock need these (and the
#: chromium-l10n package, scripts/bootstrap.sh).
FINNISH_ENV = {"LANG": "fi_FI.UTF-8", "LANGUAGE": "fi"}
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PAGES = ["login", "activity", "voicemail", "forwarding", "contacts", "mailbox", "apps",
         "history", "admin", "admin?tab=organization"]  # fmt: skip


def tone(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = bytearray()
        for i in range(int(8000 * seconds)):
            v = int(8000 * math.sin(2 * math.pi * 440 * i / 8000))
            frames += v.to_bytes(2, "little", signed=True)
        w.writeframes(bytes(frames))
    return buf.getvalue()


async def seed(url: str) -> str:
    """The demo organisation plus some use; Maija's username."""
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as s:
            demo = await directory.ensure_demo(s)
            maija, matti, liisa = demo.users
            await directory.set_role(s, maija.id, 2)
            c = await directory.add_contact(s, maija.id, name="Asiakas Oy", number="050 555 1234")
            await directory.set_contact_vip(s, maija.id, c.id, True)
            await directory.add_contact(s, maija.id, name="Huoltoyhtiö", number="09 123 4567")
            await directory.set_colleague_vip(s, maija.id, matti.id, True)
            await directory.set_forwarding(s, maija.id, "050 555 1234", activity=5)
            now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            tomorrow = now + timedelta(days=1)
            await directory.add_scheduled_activity(
                s, maija.id, 4, tomorrow.replace(hour=8), tomorrow.replace(hour=10)
            )
            await directory.add_scheduled_activity(
                s, maija.id, 3, tomorrow.replace(hour=9), tomorrow.replace(hour=10)
            )
            await directory.add_softphone(s, maija.id, label="Työkannettava / work laptop")
            await directory.set_dial_policy(
                s, demo.organization, allowed_countries=["FI", "SE", "EE"],
                denied_prefixes=["+3587001", "+882"],
            )  # fmt: skip
            box = (await s.scalars(select(Mailbox).where(Mailbox.user_id == maija.id))).one()
            for i, (caller, secs) in enumerate((("+358505551234", 7), ("+358401234568", 4))):
                s.add(VoicemailMessage(
                    mailbox_id=box.id, caller_number=caller, called_number=maija.mobile_number,
                    created_at=now - timedelta(hours=3 + 20 * i), duration_ms=secs * 1000,
                    audio=tone(secs), heard=i == 1,
                ))  # fmt: skip
            routes = ["rang", "rang", "voicemail", "forwarded", "rang", "absence_notice"]
            n = 0
            for day in range(14):
                for k in range((day * 7) % 5 + 1):
                    n += 1
                    start = now - timedelta(days=day, hours=k * 2 + 1)
                    outgoing = k % 3 == 2
                    answered = routes[n % len(routes)] == "rang" and n % 4 != 0
                    s.add(CallRecord(
                        channel_id=f"demo-{n}", started_at=start,
                        answered_at=start + timedelta(seconds=5) if answered or outgoing else None,
                        ended_at=start + timedelta(seconds=60 + 17 * k),
                        route="rang" if outgoing else routes[n % len(routes)],
                        caller_number=maija.mobile_number if outgoing else "+35850555123" + str(k),
                        called_number="+358505551234" if outgoing else maija.mobile_number,
                        caller_user_id=maija.id if outgoing else None,
                        callee_user_id=None if outgoing else maija.id,
                        caller_org_id=demo.organization.id if outgoing else None,
                        callee_org_id=None if outgoing else demo.organization.id,
                    ))  # fmt: skip
            del liisa
            return maija.username
    finally:
        await engine.dispose()


async def shoot(page: Page, base: str, out: Path, size: str) -> list[Path]:
    made = []
    await page.goto(f"{base}/")
    await page.wait_for_selector("body[data-ready]")
    for route in PAGES:
        name, _, query = route.partition("?")
        if name != "login":
            await page.goto(f"{base}/#/{route}")
            await page.wait_for_selector(f"#page-{name}")
        if query.startswith("tab="):
            await page.wait_for_selector(f"#admin-{query[4:]}")
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(300)
        shot = f"{name}-{query[4:]}" if query.startswith("tab=") else name
        path = out / f"{shot}-{size}.png"
        await page.screenshot(path=str(path), full_page=size == "desktop")
        made.append(path)
        if name == "login":
            await page.fill("#login-form input[name=username]", USER)
            await page.fill("#login-form input[name=password]", PASSWORD)
            await page.click("#login-form button[type=submit]")
            await page.wait_for_selector("#page-activity")
    return made


USER = ""


async def main(out: Path) -> None:
    global USER
    url = await fresh_database("vipcall_shots")
    try:
        USER = await seed(url)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(
            create_app(Settings(database_url=url)), host="127.0.0.1", port=port,
            log_level="warning", timeout_graceful_shutdown=1,
        ))  # fmt: skip
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        out.mkdir(parents=True, exist_ok=True)
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=CHROMIUM_ARGS,
                env={**os.environ, **FINNISH_ENV},
            )
            for size, (w, h) in SIZES.items():
                ctx = await browser.new_context(
                    viewport={"width": w, "height": h}, locale="fi-FI",
                    timezone_id="Europe/Helsinki", device_scale_factor=1,
                )  # fmt: skip
                base = f"http://127.0.0.1:{port}"
                for path in await shoot(await ctx.new_page(), base, out, size):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                await ctx.close()
            await browser.close()
        server.should_exit = True
        await task
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out.resolve()))
