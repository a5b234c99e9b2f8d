"""The benchmark's Markdown report: the run's setting, one table per kind of path, the
summary against the targets, Asterisk's warnings and the profiles."""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import PATHS, Step

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Report:
    """Everything a run found; :meth:`render` writes it up."""

    args: argparse.Namespace
    steps: list[Step]
    ast_version: str = "Asterisk ?"
    git: str = "?"
    idle: tuple[float, float] = (0.0, 0.0)
    foreign: list[str] = field(default_factory=list)
    """Other Asterisk/SIPp/vipcall/pytest processes seen during the run."""
    profile: dict[str, str] = field(default_factory=dict)
    perf_report: dict[str, str] = field(default_factory=dict)

    def render(self, elapsed: float) -> str:
        a = self.args
        lines = ["# vipcall benchmark", ""]
        lines.append(f"Command: `{a.command}`  ")
        lines.append(f"Date: {dt.datetime.now().isoformat(timespec='seconds')}, "
                     f"total {elapsed / 60:.1f} min  ")  # fmt: skip
        lines += machine_info(self.ast_version, self.git)
        foreign = self.foreign
        if foreign:
            lines.append(
                "**WARNING: other Asterisk/SIPp/vipcall/pytest processes were seen during this "
                "run** (each step first waited up to --quiet-wait for them to end; the 'other' "
                "column shows what they took during a step): "
                + "; ".join(f"`{f}`" for f in foreign[:6])
                + "  "
            )
        lines.append(
            f"Load: steps of {a.duration:g} s of calls at each rate, {a.hold} ms hold, handset "
            f"answers at once (180+200); {a.users} users, callers dial random users' mobile "
            f"numbers; app log level {a.log_level}; SIPp recv timeout {a.recv_timeout} ms.  "
        )
        if "feature" in a.paths:
            lines.append(
                "Feature path: rates "
                + ", ".join(str(r) for r in a.feature_rates)
                + f" calls/s, {a.duration:g} s each; each call from a different random user's "
                "mobile via the mobile trunk (127.0.0.3, own port), codes 983n (n=1..8) and "
                "984n (n=1..5) alternately; the app stores (the directory service's one "
                "statement, one round trip on the call path's pool), then hands the call to "
                "the dialplan, which answers (200 OK), plays the confirmation prompt and hangs "
                "up ([vipcall-say]); the caller answers the BYE.  "
            )
        lines.append(
            f"Idle (no calls, {5} s): app {self.idle[0]:.1f} % of a core, Asterisk "
            f"{self.idle[1]:.1f} % (included in the per-call figures, which count from the "
            "first INVITE until Asterisk has drained)."
        )
        lines.append("")
        if any(s.path != "feature" for s in self.steps):
            lines += self.main_table()
        lines += self.feature_table()
        lines += self.summary()
        return self.tail(lines)

    def main_table(self) -> list[str]:
        lines: list[str] = []
        lines.append(
            "| path | rate/s | achieved/s | attempted | ok | failed | fail-open "
            "| INVITE→180 p50 / p99 / max ms | INVITE→handset p50 / p99 ms "
            "| app CPU ms/call | Asterisk CPU ms/call | Postgres CPU ms/call | SIPp CPU ms/call "
            "| app / Asterisk / other % of a core | box busy % | notes |"
        )
        lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
        for s in self.steps:
            if s.path == "feature":
                continue
            lat = " / ".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
            hs = " / ".join(fmt(x, 1) for x in (s.hs50, s.hs99))
            notes = list(s.notes)
            if s.path == "vipcall":
                other = {
                    k: v for k, v in s.outcomes.items()
                    if k != 'outcome="handed_off"' and not k.startswith("reason=")
                }  # fmt: skip
                if other:
                    notes.append(", ".join(f"{k} {int(v)}" for k, v in other.items()))
                if s.decision_ms is not None:
                    notes.append(f"decision {s.decision_ms:.1f} ms avg")
            if s.delivered != s.attempted:
                notes.append(f"handset got {s.delivered}")
            if s.warnings:
                notes.append(f"{sum(s.warnings.values())} Asterisk warnings")
            lines.append(
                f"| {s.path} | {s.rate} | {s.achieved_rate:.0f} | {s.attempted} | {s.successful} "
                f"| {s.failed} | {s.fail_open if s.path == 'vipcall' else '–'} | {lat} | {hs} "
                f"| {fmt(s.app_ms, 2)} | {fmt(s.ast_ms, 2)} "
                f"| {fmt(s.pg_ms, 2)} | {fmt(s.sipp_ms, 2)} | {s.app_core:.0f} / {s.ast_core:.0f} / {s.other_core:.0f} "  # noqa: E501
                f"| {s.box_busy:.0f} | {'; '.join(notes)} |"
            )
        lines.append("")
        return lines

    def tail(self, lines: list[str]) -> str:
        warn_total: collections.Counter[str] = collections.Counter()
        for s in self.steps:
            for k, v in s.warnings.items():
                warn_total[f"{s.path} {s.rate}/s: {k}"] += v
        if warn_total:
            lines += ["", "Asterisk warnings/errors logged during steps (top 12):", ""]
            for k, v in warn_total.most_common(12):
                lines.append(f"- {v}× {k}")
        for text in self.profile.values():
            lines += ["", text]
        for what, text in self.perf_report.items():
            lines += [
                "",
                f"## {what}",
                "",
                text,
            ]
        lines.append("")
        return "\n".join(lines)

    def feature_table(self) -> list[str]:
        steps = [s for s in self.steps if s.path == "feature"]
        if not steps:
            return []
        lines = [
            "### feature path (feature codes 983n/984n from the user's handset)",
            "",
            "Flow per call: store (one PostgreSQL statement) → continue to the dialplan, "
            "which answers (200 OK), plays the confirmation prompt and hangs up "
            "([vipcall-say]). INVITE→200 is "
            "therefore the time until the prompt is started; INVITE→first RTP is when its "
            "first packet reached the caller "
            "(capture: the first RTP packet from the port Asterisk's 200 OK announced). "
            "'state' counts the callers whose stored activity/role (983n: activity = n and "
            "activity_changed_at renewed; 984n: role = n) shows the code after the step.",
            "",
            "| rate/s | achieved/s | attempted | ok | failed | fail-open "
            "| INVITE→200 p50 / p99 / max ms | INVITE→first RTP p50 / p99 / max ms "
            "| 200→BYE p50 ms | state took effect / checked "
            "| app CPU ms/call | Asterisk CPU ms/call | Postgres CPU ms/call | SIPp CPU ms/call "
            "| app / Asterisk / other % of a core | box busy % | notes |",
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for s in steps:
            lat = " / ".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
            rtp = " / ".join(fmt(x, 1) for x in (s.rtp50, s.rtp99, s.rtpmax))
            notes = list(s.notes)
            outs = {
                k.split('"')[1] if '"' in k else k: int(v)
                for k, v in s.outcomes.items() if not k.startswith("reason=")
            }  # fmt: skip
            if outs:
                notes.append(", ".join(f"{k} {v}" for k, v in sorted(outs.items())))
            if s.decision_ms is not None:
                notes.append(f"decision {s.decision_ms:.1f} ms avg")
            if s.rereads:
                notes.append(f"routing re-reads {s.rereads}")
            if s.warnings:
                notes.append(f"{sum(s.warnings.values())} Asterisk warnings")
            lines.append(
                f"| {s.rate} | {s.achieved_rate:.0f} | {s.attempted} | {s.successful} "
                f"| {s.failed} | {s.fail_open} | {lat} | {rtp} | {fmt(s.bye50, 0)} "
                f"| {s.state_ok} / {s.state_checked} "
                f"| {fmt(s.app_ms, 2)} | {fmt(s.ast_ms, 2)} "
                f"| {fmt(s.pg_ms, 2)} | {fmt(s.sipp_ms, 2)} | {s.app_core:.0f} / {s.ast_core:.0f} / {s.other_core:.0f} "  # noqa: E501
                f"| {s.box_busy:.0f} | {'; '.join(notes)} |"
            )
        lines.append("")
        return lines

    def summary(self) -> list[str]:
        by: dict[str, list[Step]] = collections.defaultdict(list)
        for s in self.steps:
            by[s.path].append(s)
        best: dict[str, int] = {}
        out = ["## Summary", ""]
        for path, steps in sorted(by.items(), key=lambda kv: PATHS.index(kv[0])):
            zero = [s.rate for s in steps if s.zero_fail]
            # highest rate with 0 failures such that every lower step was clean too
            clean = 0
            for s in sorted(steps, key=lambda x: x.rate):
                if not s.zero_fail:
                    break
                clean = s.rate
            best[path] = clean
            extra = ""
            if zero and max(zero) != clean:
                extra = f" (a higher step, {max(zero)}/s, was clean again)"
            tested = max(s.rate for s in steps)
            ceiling = " (not reached: every tested rate clean)" if clean == tested else ""
            usable = 0
            for s in sorted(steps, key=lambda x: x.rate):
                if not s.zero_fail or s.p99 is None or s.p99 > self.args.p99_limit:
                    break
                usable = s.rate
            what = "INVITE→200" if path == "feature" else "INVITE→180"
            clean_what = (
                " (clean = 0 failed, 0 fail-open, every code stored)" if path == "feature" else ""
            )
            out.append(
                f"- **{path}**: highest rate with 0 failed calls{clean_what}: **{clean} calls/s**{ceiling}{extra}"  # noqa: E501
                f"; with 0 failed and {what} p99 ≤ {self.args.p99_limit:g} ms: {usable} calls/s"
            )
            if path == "feature":
                out.append(
                    "- **feature** INVITE→200 (prompt started) p50 / p99 ms: "
                    + ", ".join(f"{s.rate}/s {fmt(s.p50, 1)} / {fmt(s.p99, 1)}" for s in steps)
                    + "; INVITE→first RTP of the prompt p50 / p99 ms: "
                    + ", ".join(f"{s.rate}/s {fmt(s.rtp50, 1)} / {fmt(s.rtp99, 1)}" for s in steps)
                )
        if "dialplan" in best and "vipcall" in best and best["dialplan"]:
            ratio = best["vipcall"] / best["dialplan"]
            out.append(
                f"- target vipcall ≥ 0.9× dialplan rate: {ratio:.2f}× → "
                f"{'MET' if ratio >= 0.9 else 'NOT MET'}"
                + (" (dialplan ceiling not reached: ratio is a lower bound only if vipcall's"
                   " ceiling was reached)" if best["dialplan"] == max(
                       s.rate for s in by["dialplan"]) else "")
            )  # fmt: skip
            dp = {s.rate: s for s in by["dialplan"] if s.zero_fail}
            added = [
                (s.rate, s.p99 - dp[s.rate].p99)
                for s in by["vipcall"]
                if s.zero_fail and s.rate in dp and s.p99 is not None
                and dp[s.rate].p99 is not None
            ]  # fmt: skip
            if added:
                worst = max(added, key=lambda x: x[1])
                detail = ", ".join(f"{r}/s {d:+.0f}" for r, d in added)
                out.append(
                    f"- target ≤ 5 ms added INVITE→180 p99 (vipcall − dialplan, clean steps): "
                    f"{detail} ms; worst {worst[1]:+.0f} ms at {worst[0]}/s → "
                    f"{'MET' if worst[1] <= 5 else 'NOT MET'}"
                )
            cpu = [s.app_ms for s in by["vipcall"] if s.zero_fail and s.app_ms is not None]
            if cpu:
                med = sorted(cpu)[len(cpu) // 2]
                out.append(
                    f"- target ≤ 1 ms app CPU per call: {min(cpu):.2f}–{max(cpu):.2f} ms over "
                    f"clean steps (median {med:.2f}) → {'MET' if max(cpu) <= 1 else 'NOT MET'}"
                )
            ast = [
                (s.rate, s.ast_ms - dp[s.rate].ast_ms)
                for s in by["vipcall"]
                if s.zero_fail and s.rate in dp and s.ast_ms is not None
                and dp[s.rate].ast_ms is not None
            ]  # fmt: skip
            if ast:
                out.append(
                    "- Asterisk CPU added per call by the vipcall path (Stasis, ARI, "
                    "[vipcall-ring]): " + ", ".join(f"{r}/s {d:+.2f} ms" for r, d in ast)
                )
        return out


# ---------------------------------------------------------------------------------------
# helpers


def fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def format_step(s: Step) -> str:
    lat = "/".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
    extra = ""
    if s.path == "feature":
        rtp = "/".join(fmt(x, 1) for x in (s.rtp50, s.rtp99, s.rtpmax))
        extra = f"RTP p50/p99/max {rtp} ms, state {s.state_ok}/{s.state_checked}, "
    return (
        f"  {s.path:8s} {s.rate:4d}/s: {s.successful}/{s.planned} ok, {s.failed} failed, "
        f"{s.fail_open} fail-open, "
        f"{'200' if s.path == 'feature' else '180'} p50/p99/max {lat} ms, {extra}"
        f"app {fmt(s.app_ms, 2)} ms/call, "
        f"asterisk {fmt(s.ast_ms, 2)} ms/call, box {s.box_busy:.0f}% busy "
        f"{'; '.join(s.notes)}"
    )


def git_state() -> str:
    """HEAD and uncommitted changes outside bench/ (the app's code at start-up)."""
    git = "?"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=BENCH_DIR).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            capture_output=True, text=True, cwd=BENCH_DIR.parent,
        ).stdout.split()[1::2]  # fmt: skip
        git = head + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")
    except OSError:
        pass
    return git


def machine_info(ast_v: str, git: str) -> list[str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) // 1024} MiB"
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    sipp_v = next((ln.strip() for ln in sipp.splitlines() if "SIPp" in ln), "?")
    pg_v = "?"
    try:
        pg_v = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip() or "?"  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        pass
    return [
        f"Code: git {git} (when the run started)  ",
        f"Machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM, Linux {platform.release()}  ",
        f"Software: {ast_v}; {sipp_v}; PostgreSQL {pg_v}; Python {platform.python_version()}  ",
    ]


def summarize_profile(
    raw: Path,
    err: Path,
    a_rate_note: str = "250 Hz, --nonblocking",
    path: str = "vipcall",
    rate: int = 0,
) -> str:
    """Top functions (self and inclusive) from py-spy's collapsed-stack output."""
    if not raw.exists():
        msg = err.read_text(errors="replace").strip()[-300:] if err.exists() else ""
        return f"## App profile\n\npy-spy produced no output. {msg}"
    self_t: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    idle = total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        total += n
        if frames and frames[-1].endswith(".select (selectors.py)"):
            idle += n
            continue
        if frames:
            self_t[frames[-1]] += n
            for f in set(frames):
                incl[f] += n
    busy = total - idle
    if not busy:
        return "## App profile\n\npy-spy saw only idle samples."
    out = [
        f"## App profile (py-spy, {path} path at {rate}/s)",
        "",
        f"{total} samples ({a_rate_note}), {idle} in the event loop's epoll wait, {busy} busy. "
        "Shares below are of the busy samples.",
        "",
        "Top self time:",
        "",
    ]
    for name, n in self_t.most_common(20):
        out.append(f"- {100 * n / busy:5.1f}% {name}")
    out += ["", "Top inclusive time (vipcall, sqlalchemy, asyncpg, aiohttp, json, logging):", ""]
    keep = re.compile(r"vipcall|sqlalchemy|asyncpg|aiohttp|json|logging|prometheus|asyncio")
    shown = 0
    for name, n in incl.most_common(400):
        if keep.search(name) and 100 * n / busy < 99.5:
            out.append(f"- {100 * n / busy:5.1f}% {name}")
            shown += 1
            if shown >= 30:
                break
    return "\n".join(out)


def summarize_perf(data: Path, root: Path, top: int = 25) -> str:
    """Top symbols (self time) of Asterisk from ``perf record``; chroot binaries via --symfs."""
    if not data.exists():
        return "perf produced no data."
    try:
        res = subprocess.run(
            [
                "perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                "--sort", "dso", "--percent-limit", "1", f"--symfs={root}",
            ],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"perf report failed: {exc}"
    rows = [ln.rstrip() for ln in res.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    if not rows:
        return "perf report gave nothing: " + res.stderr.strip()[-300:]
    return "```\n" + "\n".join(rows[:top]) + "\n```"
