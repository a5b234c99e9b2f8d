"""What the voicemail and service-number benches (bench/voicemail.py,
bench/servicenumbers.py) share: the options that place their stack, a sandboxed Asterisk
and the app as its own process (``harness.app``) on a fresh database, stopping them again,
what a step notes about the machine, the run over the rates and its report's files.

(``bench.steps.Rig`` is bench.run's own stack; these two benches drive SIPp themselves.)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

RESULTS = Path(__file__).resolve().parent / "results"
ASTERISK_IP = "127.0.0.1"
PSTN_IP = "127.0.0.2"
MOBILE_IP = "127.0.0.3"


def add_rig_options(
    p: argparse.ArgumentParser, *, pause: float, sip_port: int, ari_port: int, app_http_port: int
) -> None:
    """The options every such bench has, with its own defaults (each its own ports)."""
    p.add_argument("--pause", type=float, default=pause)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--sip-port", type=int, default=sip_port)
    p.add_argument("--ari-port", type=int, default=ari_port)
    p.add_argument("--app-http-port", type=int, default=app_http_port)
    p.add_argument("--keep-db", action="store_true")


def parse_rates(text: str) -> list[float]:
    rates = [float(r) for r in text.split(",") if r.strip()]
    if not rates or any(r <= 0 for r in rates):
        raise ValueError(f"rates must be positive numbers, not {text!r}")
    return rates


def parse_rig_args(
    p: argparse.ArgumentParser, argv: list[str] | None, module: str
) -> argparse.Namespace:
    """Parse, turn ``--rates`` into numbers and note the command line (``args.command``)."""
    args = p.parse_args(argv)
    try:
        args.rates = parse_rates(args.rates)
    except ValueError as exc:
        p.error(str(exc))
    args.command = shlex.join([".venv/bin/python", "-m", module, *(argv or sys.argv[1:])])
    return args


def foreign_now(mine: set[int] | None = None) -> list[str]:
    from bench.steps import foreign_processes

    return foreign_processes(mine or set())


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """Percent of the machine's CPU time busy between two ``system_ticks()``."""
    if after[1] > before[1]:
        return 100.0 * (after[0] - before[0]) / (after[1] - before[1])
    return None


StepT = TypeVar("StepT")


class AppRig(Generic[StepT]):
    """A sandboxed Asterisk (instance ``instance_name``) and the app on ``database_url``;
    a bench sets ``database_url`` in its ``seed`` and measures a rate in its ``step``."""

    prog = "bench"  # what messages start with
    instance_name = "bench"

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.database_url: str | None = None
        self.instance: Any = None
        self.app: Any = None
        self.foreign: set[str] = set()

    async def seed(self) -> None:
        raise NotImplementedError

    def step(self, rate: float, duration: float, tag: str = "") -> StepT:
        raise NotImplementedError

    def start(self) -> None:
        self.start_asterisk_and_app()

    def start_asterisk_and_app(self, env: dict[str, str] | None = None) -> None:
        """Start the Asterisk instance, then the app with ``env`` over the bench defaults."""
        from harness.app import AppProcess
        from vipcall.sandbox import Instance

        inst = Instance(
            name=self.instance_name, sip_port=self.args.sip_port, ari_port=self.args.ari_port,
            rtp_start=40000, rtp_end=44999, pstn_host=PSTN_IP, mobile_host=MOBILE_IP,
            ring_timeout=30,
        )  # fmt: skip
        if inst.is_running():
            raise SystemExit(
                f"{self.prog}: the '{self.instance_name}' Asterisk instance is already running"
            )
        self.instance = inst
        inst.start()
        assert self.database_url is not None
        self.app = AppProcess(
            inst, self.database_url, self.workdir / "vipcall.log",
            http_port=self.args.app_http_port, ring_timeout=30,
            extra_env={"VIPCALL_LOG_LEVEL": self.args.log_level, "VIPCALL_SYNC_INTERVAL": "30",
                       **(env or {})},
        )  # fmt: skip
        self.app.start(timeout=30)

    def parts(self) -> tuple[Any, ...]:
        """What ``stop`` stops, in order (a bench adds its own servers after these)."""
        return (self.app, self.instance)

    def stop(self) -> None:
        for part in self.parts():
            if part is None:
                continue
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest all the same
                print(f"{self.prog}: stopping {type(part).__name__}: {exc}", flush=True)
        if self.database_url is not None and not self.args.keep_db:
            from harness.db import drop_database

            asyncio.run(drop_database(self.database_url))

    def own_pids(self) -> set[int]:
        pids = set()
        if self.app is not None and self.app.proc is not None:
            pids.add(self.app.proc.pid)
        if self.instance is not None and (pid := self.instance._pid()) is not None:
            pids.add(pid)
        return pids

    def note_machine(self, notes: list[str]) -> None:
        """After a step: add to its ``notes`` whether the app died or other telephony/test
        processes ran (remembered in ``foreign`` for the report)."""
        if self.app is not None and not self.app.running:
            notes.append("APP DIED")
        foreign = foreign_now(self.own_pids())
        if foreign:
            self.foreign.update(foreign)
            notes.append(f"{len(foreign)} other telephony/test processes")

    def run_rates(
        self, *, seeding: str, starting: str, warmup: tuple[float, float],
        row: Callable[[StepT], str],
    ) -> list[StepT]:  # fmt: skip
        """Seed, start, a warm-up step (not reported), then a step at each of ``args.rates``
        (``args.duration`` each, ``args.pause`` apart), printing each one's ``row``; stop
        everything at the end all the same."""
        steps: list[StepT] = []
        try:
            print(f"{self.prog}: {seeding}", flush=True)
            asyncio.run(self.seed())
            print(f"{self.prog}: {starting}", flush=True)
            self.start()
            self.step(*warmup, tag="warmup")
            for rate in self.args.rates:
                time.sleep(self.args.pause)
                step = self.step(rate, self.args.duration)
                steps.append(step)
                print(row(step), flush=True)
        finally:
            self.stop()
        return steps


@dataclass
class Run:
    """One bench run's record: when, which code, its folder under bench/results, and the
    other telephony/test processes already running at its start."""

    prog: str
    slug: str  # results/<slug>-<stamp>/ and results/<slug>-latest.md
    git: str
    started: str
    workdir: Path
    t0: float
    foreign: list[str]

    @classmethod
    def begin(cls, prog: str, slug: str) -> Run:
        from bench.report import git_state

        git = git_state()
        started = dt.datetime.now().isoformat(timespec="seconds")
        workdir = RESULTS / f"{slug}-{dt.datetime.now():%Y%m%d-%H%M%S}"
        workdir.mkdir(parents=True)
        t0 = time.monotonic()
        foreign = foreign_now()
        if foreign:
            print(f"{prog}: WARNING: other telephony/test processes are running:\n  "
                  + "\n  ".join(foreign), flush=True)  # fmt: skip
        return cls(prog, slug, git, started, workdir, t0, foreign)

    def minutes(self) -> float:
        return (time.monotonic() - self.t0) / 60

    def save(self, report: str) -> None:
        """Print the report and write it into the run's folder and as the latest."""
        print(report)
        (self.workdir / "results.md").write_text(report)
        latest = RESULTS / f"{self.slug}-latest.md"
        latest.write_text(report)
        print(f"{self.prog}: written {latest} (raw files in {self.workdir})")


def report_text(
    title: str, args: argparse.Namespace, run: Run, load: str, foreign: set[str], table: str
) -> str:
    """A bench's results.md: the title, the command, when and which code, the load, a
    warning if other telephony/test processes ran, and the table."""
    lines = [
        title,
        "",
        f"Command: `{args.command}`  ",
        f"Date: {run.started}, total {run.minutes():.1f} min; code: git {run.git}  ",
        f"Load: {load}  ",
    ]
    if foreign:
        lines.append(
            f"**Other telephony/test processes ran during this run** ({len(foreign)} seen), "
            "they shared the 2 CPUs: " + "; ".join(sorted(foreign)[:6])
        )
    lines += ["", table, ""]
    return "\n".join(lines)
