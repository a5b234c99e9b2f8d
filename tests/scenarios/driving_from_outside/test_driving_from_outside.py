"""README's "Driving it from outside" SIPp commands, read from README and run as written
against the test stack: the demo organisation, a handset and a PSTN far end answering, an
external caller reaching the demo user, the demo user's handset dialling 9833.

Only what must differ on the test stack is changed: the loopback addresses (the tests' own
127.0.1.x instead of `make run`'s 127.0.0.x, and Asterisk's test port), plus -nostdin, a
run timeout and trace files so the test can read what each party saw. If README's commands
change, this test reads the new ones; if they stop working, it fails."""

from __future__ import annotations

import asyncio
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.party import SippResult, parse_trace, port_busy, uri_user
from tests.support.people import fresh_external, state_of
from vipcall.db.engine import transaction
from vipcall.directory.demo import ensure_demo
from vipcall.sandbox import Instance

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[3] / "README.md"
DEMO_MOBILE = "+358401234567"


def readme_commands() -> list[list[str]]:
    """The ``sipp`` command lines of README's "Driving it from outside" block."""
    text = README.read_text()
    section = text.split("### Driving it from outside", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README: no ```sh block under 'Driving it from outside'"
    lines = block.group(1).replace("\\\n", " ").splitlines()
    return [shlex.split(line) for line in lines if line.strip().startswith("sipp ")]


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def key(argv: list[str], name: str) -> str | None:
    """The value of ``-key name value`` (or ``-set name value``)."""
    for i, arg in enumerate(argv[:-2]):
        if arg in ("-key", "-set") and argv[i + 1] == name:
            return argv[i + 2]
    return None


@dataclass
class Command:
    argv: list[str]
    workdir: Path
    addresses: dict[str, str]
    proc: asyncio.subprocess.Process | None = None

    @property
    def ip(self) -> str:
        return option(self.argv, "-i") or ""

    @property
    def answers(self) -> bool:
        return "uas" in Path(option(self.argv, "-sf") or "").name

    def test_argv(self) -> list[str]:
        """README's command, on the test stack's addresses, headless, with traces."""
        argv = [self.addresses.get(arg, arg) for arg in self.argv]
        name = f"{Path(option(argv, '-sf') or 'x').stem}-{option(argv, '-i')}"
        argv[1:1] = [
            "-nostdin", "-timeout", "40s",
            "-trace_msg", "-message_file", str(self.workdir / f"{name}.msg"),
            "-trace_err", "-error_file", str(self.workdir / f"{name}.err"),
        ]  # fmt: skip
        if not self.answers:
            argv[1:1] = ["-timeout_error"]
        return argv

    async def start(self) -> Command:
        argv = self.test_argv()
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=README.parent, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        port = int(option(argv, "-p") or 5060)
        for _ in range(250):
            if self.proc.returncode is not None or port_busy(option(argv, "-i") or "", port):
                break
            await asyncio.sleep(0.02)
        return self

    async def finish(self, timeout: float = 45) -> SippResult:
        """Wait for a caller to end, or stop an answering party (they run until Ctrl-C)."""
        assert self.proc is not None
        if self.answers:
            assert self.proc.returncode is None, "an answering party ended by itself"
            self.proc.terminate()
        _, stderr = await asyncio.wait_for(self.proc.communicate(), timeout)
        argv = self.test_argv()
        trace = Path(argv[argv.index("-message_file") + 1])
        errors = Path(argv[argv.index("-error_file") + 1])
        raw = trace.read_text(errors="replace") if trace.exists() else ""
        log = stderr.decode(errors="replace")
        if errors.exists():
            log += errors.read_text(errors="replace")
        rc = self.proc.returncode if self.proc.returncode is not None else -1
        return SippResult(rc, parse_trace(raw), log, raw)


def pick(commands: list[Command], ip: str, answers: bool) -> Command:
    found = [c for c in commands if c.ip == ip and c.answers == answers]
    assert len(found) == 1, f"README: expected one {'UAS' if answers else 'UAC'} on {ip}"
    return found[0]


async def test_readme_sipp_commands_work_as_written(
    asterisk: Instance, vipcall, people, parties, database, tmp_path
) -> None:
    # make run's addresses -> the test stack's
    addresses = {
        "127.0.0.2": asterisk.pstn_host, "127.0.0.3": asterisk.mobile_host,
        "127.0.0.1:5060": f"127.0.0.1:{asterisk.sip_port}",
    }  # fmt: skip
    commands = [Command(argv, tmp_path, addresses) for argv in readme_commands()]
    assert len(commands) == 4, [c.argv for c in commands]
    handset = pick(commands, "127.0.0.3", answers=True)
    far_end = pick(commands, "127.0.0.2", answers=True)
    caller = pick(commands, "127.0.0.2", answers=False)
    lunch = pick(commands, "127.0.0.3", answers=False)
    assert option(caller.argv, "-s") == DEMO_MOBILE and option(lunch.argv, "-s") == "9833"
    async with transaction(people.sessions) as s:
        demo = await ensure_demo(s)
    maija = next(u for u in demo.users if u.mobile_number == DEMO_MOBILE)

    try:
        await handset.start()
        await far_end.start()
        call = await (await caller.start()).finish()
        code = await (await lunch.start()).finish()
        # nothing in README calls out; the far end answers a call the demo user makes
        outgoing = await parties.handset_caller(DEMO_MOBILE, fresh_external()).run()
    finally:
        phone = await handset.finish()
        far = await far_end.finish()

    assert call.ok, call.log
    assert call.final_status() == 200
    invite = phone.received("INVITE")[0]
    assert invite.request_user == DEMO_MOBILE
    assert invite.header("X-Vipcall") == "delivered"
    assert uri_user(invite.header("From")) == key(caller.argv, "from")
    # the caller held the answered call for README's -set hold (2000 ms; 1000 without it)
    hold = int(key(caller.argv, "hold") or 0)
    assert hold >= 2000
    answered = call.received(200)[0].at
    bye = next(m for m in call.messages if m.direction == "sent" and m.method == "BYE").at
    assert bye - answered > hold / 1000 * 0.75
    assert code.ok, code.log
    assert (await state_of(database, maija.id))["activity"] == 3
    assert outgoing.ok, outgoing.log
    assert far.received("INVITE"), far.log

