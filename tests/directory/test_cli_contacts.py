"""Admin CLI for issue 7's settings: ``contact add/edit/delete/list/vip/vips/search``,
``voicemail show/set/pin/greeting/name`` and ``org set-voicemail-limits``.

Every error case checks the exit code, the one-line ``vipcall: error: ...`` on stderr and that
the database is unchanged afterwards."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support import cli as support_cli
from vipcall import directory as d
from vipcall.db.models import Contact, Organization, VipColleague, VoicemailSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA = "fi0401234567@taipalsaari.fi"  # mobile 040 123 4567, landline 05 123 4010
MATTI = "fi0401234568@taipalsaari.fi"
LIISA_MOBILE = "050 123 4569"


Cli = support_cli.Cli


@pytest_asyncio.fixture(loop_scope="session")
async def cli(database_url: str, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(database_url, capsys)
    await c.ok("demo")
    return c


one_error_line = support_cli.one_error_line


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything these commands may write."""
    async with sessions() as s:
        contacts = (await s.execute(select(Contact.__table__).order_by(Contact.id))).all()
        vips = (await s.execute(select(VipColleague.__table__))).all()
        settings = (await s.execute(select(VoicemailSettings.__table__).order_by("user_id"))).all()
        orgs = (await s.execute(select(Organization.__table__).order_by("id"))).all()
    return {"contacts": contacts, "vips": sorted(vips), "settings": settings, "orgs": orgs}


def rows(out: str) -> list[list[str]]:
    """A ``format_table`` output without its header, cells split on two spaces."""
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in out.splitlines()[1:]]


def fields(out: str) -> dict[str, str]:
    """``key:  value`` lines of a ``show`` command."""
    result = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        result[key.strip()] = value.strip()
    return result


async def test_contact_lifecycle(cli: Cli) -> None:
    out = await cli.ok("contact", "add", MAIJA, "--name", "Kalle K", "--number", "(040) 765-4321")
    assert out.strip() == f"{MAIJA}: added contact 1: Kalle K +358407654321"
    out = await cli.ok(
        "contact", "add", "040 123 4567", "--name", "Aino", "--number", "00358507654321", "--vip"
    )
    assert out.strip() == f"{MAIJA}: added contact 2: Aino +358507654321 (VIP)"
    out = await cli.ok("contact", "list", MAIJA)
    assert out.splitlines()[0].split() == ["ID", "NAME", "NUMBER", "VIP"]
    assert rows(out) == [
        ["2", "Aino", "+358507654321", "yes"],
        ["1", "Kalle K", "+358407654321", "no"],
    ]

    out = await cli.ok("contact", "edit", "1", "--number", "+358 40 111 2222", "--name", "Kalle")
    assert out.strip() == "contact 1: Kalle +358401112222"
    out = await cli.ok("contact", "vip", MAIJA, "1", "on")
    assert out.strip() == f"{MAIJA}: contact 1 (Kalle +358401112222) is VIP"
    out = await cli.ok("contact", "vip", MAIJA, "2", "off")
    assert out.strip() == f"{MAIJA}: contact 2 (Aino +358507654321) is no longer VIP"
    out = await cli.ok("contact", "vip", MAIJA, "--colleague", LIISA_MOBILE, "on")
    assert out.strip() == f"{MAIJA}: colleague fi0501234569@taipalsaari.fi (Liisa Korhonen) is VIP"
    # The option may come after on|off too.
    await cli.ok("contact", "vip", MAIJA, "on", "--colleague", MATTI)

    out = await cli.ok("contact", "vips", MAIJA)
    assert out.splitlines()[0].split() == ["KIND", "ID", "NAME", "NUMBERS"]
    assert rows(out) == [
        ["colleague", "3", "Liisa Korhonen (fi0501234569@taipalsaari.fi)", "+358501234569"],
        ["colleague", "2", "Matti Virtanen (fi0401234568@taipalsaari.fi)", "+358401234568"],
        ["contact", "1", "Kalle", "+358401112222"],
    ]
    await cli.ok("contact", "vip", MAIJA, "--colleague", "fi0401234568@taipalsaari.fi", "off")
    out = await cli.ok("contact", "delete", "1")
    assert out.strip() == "deleted contact 1: Kalle +358401112222"
    out = await cli.ok("contact", "vips", MAIJA)
    assert [r[0:2] for r in rows(out)] == [["colleague", "3"]]
    # Matti's VIP list is empty: just the header.
    assert (await cli.ok("contact", "vips", MATTI)).strip().split() == [
        "KIND",
        "ID",
        "NAME",
        "NUMBERS",
    ]


async def test_colleague_saved_as_external_contact_is_still_vip(cli: Cli) -> None:
    await cli.ok("contact", "vip", MAIJA, "--colleague", LIISA_MOBILE, "on")
    await cli.ok("contact", "add", MAIJA, "--name", "Liisa", "--number", "+358 50 1234569")
    out = await cli.ok("contact", "vips", MAIJA)
    assert rows(out) == [
        ["colleague", "3", "Liisa Korhonen (fi0501234569@taipalsaari.fi)", "+358501234569"]
    ]


async def test_directory_search(cli: Cli) -> None:
    out = await cli.ok("contact", "search", "--org", "taipalsaari.fi", "040 123")
    assert [r[1] for r in rows(out)] == [MAIJA, MATTI]
    out = await cli.ok("contact", "search", "--org", "taipalsaari.fi", "korhonen")
    assert [r[2] for r in rows(out)] == ["Liisa Korhonen"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("contact", "add", MAIJA, "--name", "X", "--number", "123"),
            "field number: '123' is not a valid phone number",
        ),
        (
            ("contact", "add", MAIJA, "--name", " ", "--number", "0401112222"),
            "field name: must not be empty",
        ),
        (
            ("contact", "add", MAIJA, "--name", "Dup", "--number", "+358407654321"),
            "field number: +358407654321 is already saved as contact 1 (Kalle)",
        ),
        (
            ("contact", "add", "nobody", "--name", "X", "--number", "0401112222"),
            "unknown user 'nobody'",
        ),
        (("contact", "edit", "1"), "contact edit: give --name and/or --number"),
        (("contact", "edit", "1", "--number", "12", "--name", "Y"), "field number: '12'"),
        (("contact", "edit", "99", "--name", "Y"), "unknown contact '99'"),
        (("contact", "edit", "x", "--name", "Y"), "unknown contact 'x'"),
        (("contact", "delete", "99"), "unknown contact '99'"),
        (("contact", "vip", MATTI, "1", "on"), f"unknown contact '1' of {MATTI}"),
        (("contact", "vip", MAIJA, "1", "maybe"), "vip: 'maybe' is not on or off"),
        (("contact", "vip", MAIJA, "on"), "contact vip: give either a contact ID or --colleague"),
        (("contact", "vip", MAIJA, "1", "on", "--colleague", MATTI), "give either"),
        (
            ("contact", "vip", MAIJA, "--colleague", MAIJA, "on"),
            "field colleague: a user cannot mark themself VIP",
        ),
        (("contact", "vip", MAIJA, "--colleague", "05 123 4010", "on"), "cannot mark themself"),
        (
            ("contact", "vip", MAIJA, "--colleague", "fi0447654321@lappeenranta.fi", "on"),
            "field colleague: fi0447654321@lappeenranta.fi is not in the organisation of " + MAIJA,
        ),
        (("contact", "vip", MAIJA, "--colleague", "0409999999", "on"), "unknown user '0409999999'"),
        (("contact", "search", "--org", "taipalsaari.fi", " "), "field query: must not be empty"),
        (("contact", "search", "--org", "nowhere.fi", "x"), "unknown organisation 'nowhere.fi'"),
    ],
)
async def test_contact_errors_change_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], argv: tuple[str, ...], message: str
) -> None:
    await cli.ok("org", "create", "--name", "Lappeenranta", "--domain", "lappeenranta.fi")
    await cli.ok(
        "user", "create", "--org", "lappeenranta.fi", "--name", "P", "--mobile", "0447654321"
    )
    await cli.ok("contact", "add", MAIJA, "--name", "Kalle", "--number", "040 765 4321")
    before = await snapshot(sessions)
    code, out, err = await cli(*argv)
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert message in line, line
    assert await snapshot(sessions) == before


async def test_voicemail_show_defaults(cli: Cli) -> None:
    out = await cli.ok("voicemail", "show", MAIJA)
    assert fields(out) == {
        "user": f"{MAIJA} (Maija Meikäläinen), taipalsaari.fi",
        "notify by": "sms (SMS to +358401234567)",
        "announce activity": "off",
        "announce end time": "off",
        "key 1 (work matters)": "off",
        "key 2 (ring the user)": "off",
        "absence key 1": "off",
        "notice on scheduled red": "off",
        "repeat callers": "off (3 calls within 10 min when on)",
        "PIN": "not set",
        "greeting": "default",
        "recorded name": "no",
        "mailbox limits": "message at most 180 s, 100 messages, unheard kept 28 days, "
        "heard 29 days",
    }


async def test_voicemail_set(cli: Cli) -> None:
    out = await cli.ok(
        "voicemail", "set", MAIJA,
        "--notify", "both",
        "--announce-activity", "on",
        "--announce-end-time", "on",
        "--key1", "050 765 4321",
        "--key2", "on",
        "--customer-service", "05 123 4100",
        "--absence-key1", "on",
        "--notice-on-scheduled-red", "on",
        "--repeat-callers", "on",
        "--repeat-calls", "4",
        "--repeat-minutes", "15",
    )  # fmt: skip
    shown = fields(out)
    assert shown["notify by"] == (
        "both (SMS to +358401234567, e-mail to maija.meikalainen@taipalsaari.fi)"
    )
    assert shown["announce activity"] == shown["announce end time"] == "on"
    assert shown["key 1 (work matters)"] == "+358507654321"
    assert shown["key 2 (ring the user)"] == "on"
    assert shown["absence key 1"] == "+35851234100"
    assert shown["notice on scheduled red"] == "on"
    assert shown["repeat callers"] == "on (4 calls within 15 min)"
    assert await cli.ok("voicemail", "show", MAIJA) == out
    # Only what is given changes; key 1 off clears its number.
    out = await cli.ok("voicemail", "set", MAIJA, "--key1", "none", "--notify", "email")
    shown = fields(out)
    assert shown["key 1 (work matters)"] == "off"
    assert shown["notify by"] == "email (e-mail to maija.meikalainen@taipalsaari.fi)"
    assert shown["absence key 1"] == "+35851234100"
    out = await cli.ok("voicemail", "set", MAIJA, "--absence-key1", "off")
    assert fields(out)["absence key 1"] == "off (number +35851234100)"
    out = await cli.ok("voicemail", "set", MAIJA, "--customer-service", "none")
    assert fields(out)["absence key 1"] == "off"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--notify", "fax"), "--notify: 'fax' is not one of sms, email, both, none"),
        (("--key2", "yes"), "--key2: 'yes' is not on or off"),
        (("--key1", "123"), "--key1 refused (invalid-number): '123'"),
        (
            ("--key1", "0600 123456"),
            "--key1 refused (premium-or-shared-cost): +358600123456 is a premium-rate",
        ),
        (
            ("--key1", "040 123 4567"),
            "--key1 refused (own-number): +358401234567 is the user's own number",
        ),
        (("--customer-service", "05 123 4010"), "--customer-service refused (own-number)"),
        (("--absence-key1", "on"), "--absence-key1: absence notice key 1 needs a number"),
        (("--repeat-calls", "1"), "--repeat-calls: must be between 2 and 20, not 1"),
        (("--repeat-minutes", "ten"), "--repeat-minutes: 'ten' is not a whole number"),
        # A bad value among good ones: nothing is written.
        (("--key2", "on", "--announce-activity", "on", "--repeat-calls", "0"), "--repeat-calls"),
        ((), "voicemail set: nothing to change"),
    ],
)
async def test_voicemail_set_errors_change_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], argv: tuple[str, ...], message: str
) -> None:
    before = await snapshot(sessions)
    code, out, err = await cli("voicemail", "set", MAIJA, *argv)
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert message in line, line
    assert await snapshot(sessions) == before


def _wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(seconds * rate) * 2 * channels))
    return path


async def test_pin_greeting_and_name(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    assert (await cli.ok("voicemail", "pin", MAIJA, "4711")).strip() == f"{MAIJA}: PIN set"
    greeting = _wav(tmp_path / "greeting.wav", 2.0)
    out = await cli.ok("voicemail", "greeting", MAIJA, str(greeting))
    assert out.strip() == f"{MAIJA}: greeting stored (2.0 s, WAV 8 kHz mono)"
    out = await cli.ok("voicemail", "show", MAIJA)
    assert fields(out)["PIN"] == "set"
    assert fields(out)["greeting"] == "personal (recorded)"
    async with sessions() as s:
        stored = await s.scalar(
            select(VoicemailSettings.greeting_audio).where(VoicemailSettings.user_id == 1)
        )
    assert stored == greeting.read_bytes()
    if shutil.which("sox"):
        name = _wav(tmp_path / "name.wav", 1.0, rate=16000, channels=2)
        out = await cli.ok("voicemail", "name", MAIJA, str(name))
        assert out.strip() == (
            f"{MAIJA}: name stored (1.0 s, WAV 8 kHz mono, "
            "converted from WAV 16000 Hz stereo 16-bit)"
        )
        async with sessions() as s:
            stored = await s.scalar(
                select(VoicemailSettings.name_audio).where(VoicemailSettings.user_id == 1)
            )
        assert stored is not None
        with wave.open(io.BytesIO(stored)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert fields(await cli.ok("voicemail", "show", MAIJA))["recorded name"] == "yes"
    out = await cli.ok("voicemail", "greeting", MAIJA, "--delete")
    assert out.strip() == f"{MAIJA}: greeting deleted"
    out = await cli.ok("voicemail", "greeting", MAIJA, "--delete")
    assert out.strip() == f"{MAIJA}: no greeting to delete"
    assert (await cli.ok("voicemail", "pin", MAIJA, "--clear")).strip() == f"{MAIJA}: PIN removed"
    assert fields(await cli.ok("voicemail", "show", MAIJA))["PIN"] == "not set"


async def test_pin_and_audio_errors_change_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await cli.ok("voicemail", "pin", MAIJA, "4711")
    await cli.ok("voicemail", "greeting", MAIJA, str(_wav(tmp_path / "ok.wav", 1.0)))
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"definitely not a RIFF file" * 10)
    long_name = _wav(tmp_path / "long.wav", 11.0)
    cases: list[tuple[tuple[str, ...], str]] = [
        (("voicemail", "pin", MAIJA, "12"), "PIN: must be 4 to 8 digits"),
        (("voicemail", "pin", MAIJA, "12ab"), "PIN: must be 4 to 8 digits"),
        (("voicemail", "pin", MAIJA), "voicemail pin: give either a PIN or --clear"),
        (("voicemail", "pin", MAIJA, "1234", "--clear"), "give either a PIN or --clear"),
        (("voicemail", "greeting", MAIJA), "voicemail greeting: give either FILE or --delete"),
        (("voicemail", "greeting", MAIJA, str(tmp_path / "missing.wav")), "No such file"),
        (("voicemail", "greeting", MAIJA, str(junk)), f"{junk}: is not audio sox can read"),
        (("voicemail", "name", MAIJA, str(long_name)), "is 11.0 s long; at most 10 s"),
        (("voicemail", "show", "nobody"), "unknown user 'nobody'"),
    ]
    before = await snapshot(sessions)
    for argv, message in cases:
        code, out, err = await cli(*argv)
        assert code == 1 and out == "", argv
        line = one_error_line(err)
        assert message in line, line
    assert await snapshot(sessions) == before
    # The PIN is still the one set.
    async with sessions() as s:
        assert await d.verify_pin(s, MAIJA, "4711")


async def test_org_set_voicemail_limits(
    cli: Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    out = await cli.ok(
        "org", "set-voicemail-limits", "taipalsaari.fi", "--max-seconds", "120",
        "--keep-heard-days", "7",
    )  # fmt: skip
    assert out.strip() == (
        "taipalsaari.fi: voicemail limits: message at most 120 s, 100 messages, "
        "unheard kept 28 days, heard 7 days"
    )
    out = await cli.ok("voicemail", "show", MAIJA)
    assert fields(out)["mailbox limits"].startswith("message at most 120 s, 100 messages")
    before = await snapshot(sessions)
    for argv, message in (
        (("--max-messages", "0"), "--max-messages: must be between 1 and 10000, not 0"),
        (("--max-seconds", "-1"), "--max-seconds: must be between"),
        (("--keep-unheard-days", "a"), "--keep-unheard-days: 'a' is not a whole number"),
        (("--max-messages", "50", "--keep-heard-days", "0"), "--keep-heard-days"),
        ((), "org set-voicemail-limits: nothing to change"),
    ):
        code, out, err = await cli("org", "set-voicemail-limits", "taipalsaari.fi", *argv)
        assert code == 1 and out == ""
        assert message in one_error_line(err)
    code, _, err = await cli("org", "set-voicemail-limits", "nowhere.fi", "--max-messages", "5")
    assert code == 1 and "unknown organisation 'nowhere.fi'" in one_error_line(err)
    assert await snapshot(sessions) == before


async def test_console_help_lists_the_nouns(cli: Cli) -> None:
    code, out, _ = await cli("--help")
    assert code == 0
    assert "contact" in out and "voicemail" in out
    proc = subprocess.run(
        [sys.executable, "-m", "vipcall", "contact", "vip", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert proc.returncode == 0 and "--colleague USER2" in proc.stdout
