"""Voicemail bench (issue 7): caller hang-up -> message stored -> notices handed on.

    .venv/bin/python -m bench.voicemail                  # rates 2,5,10 messages/s, 10 s each
    .venv/bin/python -m bench.voicemail --rates 2,5 --duration 5
    .venv/bin/python -m bench.run --paths voicemail      # the same, through bench.run

The real chain, as the end-to-end tests drive it: a sandboxed Asterisk (instance
``benchvm``), a fresh database, the app as its own process (``harness.app``), Debian's
Kannel (bearerbox + smsbox + fakesmsc, ``harness.kannel``) and an aiosmtpd SMTP server on
loopback. Every user is red (activity 3) with a landline, a 0.5 s recorded greeting and
notices by SMS **and** email; each call of a step dials a different user's landline from
the PSTN trunk (SIPp, ``bench/sipp/vm_uac.xml``), so routing sends it straight to voicemail:
greeting, tone, the caller speaks (RTP from a pcap) and hangs up mid-message.

Per message, on one clock (this machine's):

* **hang-up**: the caller's BYE as SIPp sent it (its message trace);
* **stored**: ``voicemail_messages.created_at`` (``now()`` of the one statement that stores
  the message and enqueues its notices);
* **SMS accepted**: the gateway's answer ("0: Accepted for delivery") to the app's
  ``cgi-bin/sendsms`` request, timed by a pass-through HTTP relay in front of smsbox;
* **SMS at the SMSC**: the last part of the SMS coming out of Kannel at fakesmsc (its
  output read line by line as it is written);
* **email accepted**: the SMTP server's DATA handler (after "250 OK" is decided).

The notice worker runs as shipped (``VIPCALL_NOTICE_POLL_INTERVAL`` 1 s, two send slots)
unless ``--notice-poll`` says otherwise: its poll interval is part of the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import io
import os
import shlex
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import rig
from bench.measure import percentile, system_ticks
from harness.kannel import _GOT, KannelChain, free_port
from harness.party import SipMessage, Sipp, uri_user

BENCH_DIR = Path(__file__).resolve().parent
SCENARIO = BENCH_DIR / "sipp" / "vm_uac.xml"

CALLER_PORT = 46070
CALLER_MEDIA_PORT = 39110
RED_ACTIVITY = 3  # lunch: red by default
GREETING_SECONDS = 0.5
LISTENING = "+358401621485"

STAGES = ("stored", "sms_accepted", "sms_smsc", "email_accepted")
STAGE_TITLES = {
    "stored": "hang-up→stored",
    "sms_accepted": "hang-up→SMS accepted by sendsms",
    "sms_smsc": "hang-up→SMS at the SMSC",
    "email_accepted": "hang-up→email accepted by SMTP",
}


# ---------------------------------------------------------------------------------------
# pure: matching what each part saw into one timeline per message, and the figures


@dataclass
class Timeline:
    """One message: the wall-clock times (s since the epoch) each part saw it."""

    caller: str
    user_mobile: str
    user_email: str
    hangup: float | None = None
    stored: float | None = None
    sms_accepted: float | None = None
    sms_smsc: float | None = None
    email_accepted: float | None = None

    def after_hangup(self, stage: str) -> float | None:
        """Milliseconds from the hang-up to ``stage`` (None if either is missing)."""
        at = getattr(self, stage)
        if self.hangup is None or at is None:
            return None
        return (at - self.hangup) * 1000.0


def hangups(messages: list[SipMessage]) -> dict[str, float]:
    """Caller number -> when the caller sent its (first) BYE, from SIPp's message trace."""
    found: dict[str, float] = {}
    for m in messages:
        if m.direction == "sent" and m.method == "BYE":
            caller = uri_user(m.header("from"))
            if caller and caller not in found:
                found[caller] = m.at
    return found


def last_times(events: list[tuple[float, str]]) -> dict[str, float]:
    """Key -> the latest time it was seen (a concatenated SMS: its last part)."""
    found: dict[str, float] = {}
    for at, key in events:
        found[key] = max(at, found.get(key, at))
    return found


def first_times(events: list[tuple[float, str]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for at, key in events:
        found[key] = min(at, found.get(key, at))
    return found


def timelines(
    calls: list[tuple[str, str, str]],
    hangup: dict[str, float],
    stored: dict[str, float],
    sms_accepted: dict[str, float],
    sms_smsc: dict[str, float],
    email_accepted: dict[str, float],
) -> list[Timeline]:
    """One timeline per planned call ``(caller, user mobile, user email)``: hang-up and
    stored by caller number, SMS by the user's mobile, email by the user's address."""
    return [
        Timeline(
            caller,
            mobile,
            email,
            hangup=hangup.get(caller),
            stored=stored.get(caller),
            sms_accepted=sms_accepted.get(mobile),
            sms_smsc=sms_smsc.get(mobile),
            email_accepted=email_accepted.get(email),
        )  # fmt: skip
        for caller, mobile, email in calls
    ]


@dataclass
class VmStep:
    """One rate: counts and the hang-up -> stage latencies."""

    rate: float
    planned: int
    lines: list[Timeline] = field(default_factory=list)
    busy_pct: float | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, stage: str) -> int:
        return sum(1 for t in self.lines if getattr(t, stage) is not None)

    def latencies(self, stage: str) -> list[float]:
        return [v for t in self.lines if (v := t.after_hangup(stage)) is not None]

    def figures(self, stage: str) -> tuple[float | None, float | None, float | None]:
        values = self.latencies(stage)
        return (
            percentile(values, 50),
            percentile(values, 99),
            max(values) if values else None,
        )

    @property
    def clean(self) -> bool:
        """Every planned call hung up, stored and both notices handed on."""
        return all(self.count(s) == self.planned for s in ("hangup", *STAGES))


def _ms(v: float | None) -> str:
    return "–" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def table(steps: list[VmStep]) -> str:
    """The results table (Markdown)."""
    head = (
        "| rate msg/s | calls | hung up | stored | SMS accepted | SMS at SMSC | email accepted | "
        + " | ".join(f"{STAGE_TITLES[s]} p50 / p99 / max ms" for s in STAGES)
        + " | box busy % | notes |"
    )
    sep = "|--:|--:|--:|--:|--:|--:|--:|" + "--:|" * len(STAGES) + "--:|---|"
    rows = [head, sep]
    for s in steps:
        counts = " | ".join(str(s.count(k)) for k in ("hangup", *STAGES))
        lat = " | ".join(" / ".join(_ms(v) for v in s.figures(k)) for k in STAGES)
        busy = "–" if s.busy_pct is None else f"{s.busy_pct:.0f}"
        rows.append(
            f"| {s.rate:g} | {s.planned} | {counts} | {lat} | {busy} | {'; '.join(s.notes)} |"
        )
    return "\n".join(rows)


def plan_calls(count: int, start: int, users: int) -> list[int]:
    """User indexes for ``count`` calls from ``start``: every call of a run reaches a
    different user (its notices then tell the calls apart)."""
    if start + count > users:
        raise ValueError(f"{start + count} calls need as many users; seeded {users}")
    return list(range(start, start + count))


def user_numbers(i: int) -> tuple[str, str, str]:
    """(mobile, landline, email) of bench user ``i``."""
    return (f"+35840{6000000 + i:07d}", f"+3589{3000000 + i:07d}", f"vm{i}@bench.example.fi")


def caller_number(i: int) -> str:
    return f"+35850{2000000 + i:07d}"


# ---------------------------------------------------------------------------------------
# the real parts: timed SMS gateway and SMTP server


class TimedKannel(KannelChain):
    """Kannel with fakesmsc's output read as it is written, each message timed."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.smsc_events: list[tuple[float, str]] = []  # (when, to)
        self._reader: threading.Thread | None = None

    def start_smsc(self) -> None:
        argv = [
            "/usr/lib/kannel/test/fakesmsc", "-H", "127.0.0.1", "-r",
            str(self.ports["fake_port"]), "-i", "0", "-m", "0", "0 0 text nop",
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self.procs["fakesmsc"] = proc
        self._reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._reader.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with open(self.fakesmsc_log, "ab") as log:
            for raw in proc.stdout:
                at = time.time()
                log.write(raw)
                log.flush()
                m = _GOT.search(raw.decode(errors="replace"))
                if m is not None:
                    self.smsc_events.append((at, m.group(2)))


class SendsmsRelay:
    """A pass-through HTTP relay in front of smsbox's sendsms: forwards each request and
    notes when the gateway's answer came back (and to whom the SMS was)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = free_port()
        self.accepted: list[tuple[float, str]] = []
        self.answers: list[str] = []
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                query = urllib.parse.urlsplit(self.path).query
                try:
                    with urllib.request.urlopen(f"{relay.target}?{query}", timeout=30) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, exc.read()
                at = time.time()
                text = body.decode(errors="replace").strip()
                relay.answers.append(text)
                if status < 300 and text.startswith(("0:", "3:")):
                    to = urllib.parse.parse_qs(query).get("to", [""])[0]
                    relay.accepted.append((at, to))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/sendsms"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TimedSmtp:
    """aiosmtpd on a loopback port; notes when each mail's DATA was accepted, by recipient."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: list[tuple[float, str]] = []
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        at = time.time()
        for rcpt in envelope.rcpt_tos:
            self.accepted.append((at, rcpt))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


def greeting_wav(seconds: float = GREETING_SECONDS) -> bytes:
    """A short greeting in the stored format (8 kHz mono 16-bit): a 440 Hz tone."""
    import math

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = bytearray()
        for n in range(int(8000 * seconds)):
            frames += int(8000 * math.sin(2 * math.pi * 440 * n / 8000)).to_bytes(
                2, "little", signed=True
            )
        w.writeframes(bytes(frames))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# the run


class VoicemailBench(rig.AppRig[VmStep]):
    prog = "bench.voicemail"
    instance_name = "benchvm"

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.kannel: TimedKannel | None = None
        self.relay: SendsmsRelay | None = None
        self.smtp: TimedSmtp | None = None
        self.next_user = 0

    # -- set-up ----------------------------------------------------------------------------

    async def seed(self) -> None:
        from harness.db import fresh_database
        from vipcall.db.engine import create_engine, session_factory, transaction
        from vipcall.directory import create_organization, create_user, set_activity
        from vipcall.directory.voicemail import set_greeting_audio, update_voicemail_settings

        self.database_url = await fresh_database("vipcall_benchvm")
        engine = create_engine(self.database_url)
        sessions = session_factory(engine)
        greeting = greeting_wav()
        try:
            async with transaction(sessions) as s:
                await create_organization(s, name="Bench VM Oy", domain="benchvm.example.fi")
            async with transaction(sessions) as s:
                for i in range(self.args.users):
                    mobile, landline, email = user_numbers(i)
                    u = await create_user(
                        s, organization="benchvm.example.fi", display_name=f"VM User {i}",
                        mobile=mobile, landline=landline, email=email,
                    )  # fmt: skip
                    await set_activity(s, u.id, RED_ACTIVITY)
                    await update_voicemail_settings(s, u.id, notify_by="both")
                    await set_greeting_audio(s, u.id, greeting, filename="greeting.wav")
        finally:
            await engine.dispose()

    def start(self) -> None:
        self.kannel = TimedKannel(self.workdir / "kannel")
        self.kannel.start()
        self.relay = SendsmsRelay(self.kannel.sendsms_url)
        self.relay.start()
        self.smtp = TimedSmtp()
        self.smtp.start()
        env = {
            "VIPCALL_MAX_MESSAGE_SECONDS": "180",
            "VIPCALL_SMS_URL": self.relay.url,
            "VIPCALL_SMS_USER": self.kannel.user,
            "VIPCALL_SMS_PASSWORD": self.kannel.password,
            "VIPCALL_SMTP_HOST": "127.0.0.1",
            "VIPCALL_SMTP_PORT": str(self.smtp.port),
            "VIPCALL_SMTP_SECURITY": "none",
        }
        if self.args.notice_poll is not None:
            env["VIPCALL_NOTICE_POLL_INTERVAL"] = str(self.args.notice_poll)
        self.start_asterisk_and_app(env)

    def parts(self) -> tuple[Any, ...]:
        return (*super().parts(), self.relay, self.smtp, self.kannel)

    # -- a step ----------------------------------------------------------------------------

    def step(self, rate: float, duration: float, tag: str = "") -> VmStep:
        count = max(1, int(round(rate * duration)))
        users = plan_calls(count, self.next_user, self.args.users)
        self.next_user += count
        folder = self.workdir / f"vm-{rate:g}{'-' + tag if tag else ''}"
        folder.mkdir()
        calls = []
        with open(folder / "calls.csv", "w") as fh:
            fh.write("SEQUENTIAL\n")
            for i in users:
                mobile, landline, email = user_numbers(i)
                fh.write(f"{landline};{caller_number(i)};\n")
                calls.append((caller_number(i), mobile, email))
        hold = self.args.hold
        timeout = int(duration + hold / 1000 + 40)
        uac = Sipp(
            str(SCENARIO), rig.PSTN_IP, CALLER_PORT, folder,
            remote=f"{rig.ASTERISK_IP}:{self.args.sip_port}", calls=count, timeout=timeout,
            media_port=CALLER_MEDIA_PORT, keys={"hold": str(hold)}, max_recv_loops=10000,
            extra=[
                "-inf", str(folder / "calls.csv"), "-r", f"{rate:g}", "-rp", "1000",
                "-l", str(max(50, int(rate * (hold / 1000 + 10)))),
                "-recv_timeout", "20000", "-trace_stat", "-stf", str(folder / "stat.csv"),
                "-fd", "1",
            ],
        )  # fmt: skip
        (folder / "command.txt").write_text(shlex.join(uac.argv()) + "\n")
        assert self.kannel and self.relay and self.smtp
        marks = (len(self.kannel.smsc_events), len(self.relay.accepted), len(self.smtp.accepted))
        busy0 = system_ticks()
        proc = uac.spawn(cwd=folder, output=folder / "sipp.out")
        result = proc.finish(timeout + 10)
        busy1 = system_ticks()
        step = VmStep(rate, count)
        step.busy_pct = rig.busy_share(busy0, busy1)
        if not result.ok:
            step.notes.append(f"caller SIPp exit {result.returncode}")
        # the notices: wait (bounded) until every message's two are handed on
        deadline = time.monotonic() + self.args.settle
        while time.monotonic() < deadline:
            if (
                len(self.relay.accepted) - marks[1] >= count
                and len(self.smtp.accepted) - marks[2] >= count
                and len(last_times(self.kannel.smsc_events[marks[0] :])) >= count
            ):
                break
            time.sleep(0.1)
        stored = asyncio.run(self.stored_times([c for c, _, _ in calls]))
        step.lines = timelines(
            calls, hangups(result.messages), stored,
            first_times(self.relay.accepted[marks[1]:]),
            last_times(self.kannel.smsc_events[marks[0]:]),
            first_times(self.smtp.accepted[marks[2]:]),
        )  # fmt: skip
        (folder / "timelines.tsv").write_text(
            "caller\thangup\t" + "\t".join(STAGES) + "\n"
            + "".join(
                f"{t.caller}\t{t.hangup}\t" + "\t".join(str(getattr(t, s)) for s in STAGES) + "\n"
                for t in step.lines
            )
        )  # fmt: skip
        self.note_machine(step.notes)
        return step

    async def stored_times(self, callers: list[str]) -> dict[str, float]:
        import asyncpg
        from sqlalchemy.engine import make_url

        assert self.database_url is not None
        dsn = make_url(self.database_url).set(drivername="postgresql")
        conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            rows = await conn.fetch(
                "SELECT caller_number, created_at FROM voicemail_messages"
                " WHERE caller_number = ANY($1::text[])",
                callers,
            )
        finally:
            await conn.close()
        return {r["caller_number"]: r["created_at"].timestamp() for r in rows}


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.voicemail", description=__doc__.split("\n")[0]
    )
    p.add_argument("--rates", default="2,5,10", help="messages per second, comma-separated")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of calls per rate")
    p.add_argument("--hold", type=int, default=3500,
                   help="ms from the answer to the caller's hang-up (greeting 0.5 s + tone 0.3 s, "
                   "then the message)")  # fmt: skip
    p.add_argument("--users", type=int, default=0, help="seeded users (default: as many as calls)")
    p.add_argument("--notice-poll", type=float, default=None,
                   help="VIPCALL_NOTICE_POLL_INTERVAL for the app (default: as shipped, 1 s)")  # fmt: skip  # noqa: E501
    p.add_argument("--settle", type=float, default=30.0,
                   help="seconds to wait after a step's calls for its notices")  # fmt: skip
    rig.add_rig_options(p, pause=2.0, sip_port=46060, ari_port=28288, app_http_port=29208)
    args = rig.parse_rig_args(p, argv, "bench.voicemail")
    warm = 4
    need = warm + sum(int(round(r * args.duration)) for r in args.rates)
    args.users = max(args.users, need)
    args.warmup = warm
    return args


def missing() -> str | None:
    import shutil

    import harness.kannel as kannel
    from harness.sandbox import missing as sandbox_missing

    why = sandbox_missing(tools=("sipp",))
    if why:
        return why
    why = kannel.ensure_installed()
    if why:
        return f"Kannel: {why}"
    return None if shutil.which("sipp") else "sipp not found"


def render(args: argparse.Namespace, steps: list[VmStep], run: rig.Run, foreign: set[str]) -> str:
    poll = "1 s (as shipped)" if args.notice_poll is None else f"{args.notice_poll:g} s"
    load = (
        f"{args.duration:g} s of calls per rate, each call a different red user's "
        f"landline (straight to voicemail), 0.5 s own greeting + tone, the caller hangs up "
        f"{args.hold} ms after the answer (~2.7 s message); notices by SMS and email for every "
        f"message; notice worker poll {poll}, 2 send slots."
    )
    return rig.report_text(
        "### Voicemail: caller hang-up → message stored → notices handed on (issue 7)",
        args, run, load, foreign, table(steps),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    why = missing()
    if why:
        raise SystemExit(f"bench.voicemail: {why}")
    run = rig.Run.begin("bench.voicemail", "voicemail")
    bench = VoicemailBench(args, run.workdir)
    steps = bench.run_rates(
        seeding=f"seeding {args.users} users ...",
        starting="starting Kannel, SMTP, Asterisk 'benchvm', the app ...",
        warmup=(2, args.warmup / 2),  # media cache, pools: not reported
        row=lambda step: table([step]).splitlines()[-1],
    )
    run.save(render(args, steps, run, bench.foreign | set(run.foreign)))
    return 0 if all(s.clean for s in steps) else 1


if __name__ == "__main__":
    os.umask(0o022)
    raise SystemExit(main())
