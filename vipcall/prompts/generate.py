"""Render the prompt catalogue to 8 kHz mono 16-bit WAV files for Asterisk.

    python -m vipcall.prompts.generate            # (re)render what is missing or stale
    python -m vipcall.prompts.generate --only ID  # just these ids (repeatable)
    python -m vipcall.prompts.generate --check    # exit 1 if anything is missing or stale

Speech comes from ``espeak-ng`` (voice ``fi`` or ``en``), tones from ``sox synth``;
``sox`` converts to 8000 Hz, mono, 16-bit signed PCM, trims leading and trailing
silence and normalises the level. Output: ``sounds/<lang>/<id>.wav``.

Idempotent: ``sounds/manifest.json`` keeps, per file, a hash of everything that
shapes the audio (text, voice settings, sox effects, generator version). A file
whose wav exists and whose hash matches is skipped. A full run also removes wav
files of ids no longer in the catalogue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from vipcall.prompts.catalog import LANGS, SOUNDS_DIR, Catalog, Lang, Prompt, load_catalog

#: Bump when the rendering changes in a way the hashed settings do not capture.
GENERATOR_VERSION: Final = 1
SAMPLE_RATE: Final = 8000
MANIFEST_NAME: Final = "manifest.json"


@dataclass(frozen=True, slots=True)
class Voice:
    espeak_voice: str
    speed_wpm: int
    pitch: int


VOICES: Final[dict[Lang, Voice]] = {
    "fi": Voice(espeak_voice="fi", speed_wpm=150, pitch=45),
    "en": Voice(espeak_voice="en", speed_wpm=155, pitch=45),
}

#: sox output format and effects: 8 kHz mono 16-bit; trim silence at both ends,
#: normalise to -3 dBFS, leave 0.15 s of silence at the end so pieces do not run together.
SOX_FORMAT: Final = ("-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer")
SOX_SPEECH_EFFECTS: Final = (
    "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
    "gain", "-n", "-3", "pad", "0", "0.15",
)  # fmt: skip
TONE_GAIN_DB: Final = -6


def wav_relpath(lang: Lang, prompt_id: str) -> str:
    return f"{lang}/{prompt_id}.wav"


def settings_hash(prompt: Prompt, lang: Lang) -> str:
    """Hash of every input that shapes the rendered file."""
    if prompt.tone is not None:
        recipe: dict[str, object] = {"tone": asdict(prompt.tone), "gain": TONE_GAIN_DB}
    else:
        recipe = {
            "text": prompt.text(lang),
            "voice": asdict(VOICES[lang]),
            "effects": list(SOX_SPEECH_EFFECTS),
        }
    recipe |= {"generator": GENERATOR_VERSION, "format": list(SOX_FORMAT)}
    blob = json.dumps(recipe, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def _run(cmd: Sequence[str], stdin: bytes | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err}")


def render(prompt: Prompt, lang: Lang, out: Path) -> None:
    """Render one prompt in one language to ``out`` (replaced atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if prompt.tone is not None:
            t = prompt.tone
            _run(["sox", "-R", "-n", *SOX_FORMAT, "-t", "wav", str(partial),
                  "synth", f"{t.seconds}", "sine", str(t.hz),
                  "gain", str(TONE_GAIN_DB), "fade", "0.01", f"{t.seconds}", "0.01"])  # fmt: skip
        else:
            voice = VOICES[lang]
            with tempfile.TemporaryDirectory(prefix="vipcall-prompt-") as tmp:
                raw = Path(tmp) / "raw.wav"
                _run(["espeak-ng", "-v", voice.espeak_voice, "-s", str(voice.speed_wpm),
                      "-p", str(voice.pitch), "-w", str(raw), "--stdin"],
                     stdin=prompt.text(lang).encode())  # fmt: skip
                _run(["sox", "-R", str(raw), *SOX_FORMAT, "-t", "wav", str(partial),
                      *SOX_SPEECH_EFFECTS])  # fmt: skip
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def wav_format_problem(path: Path) -> str | None:
    """None if ``path`` is an 8 kHz mono 16-bit PCM wav with audio, else why not."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            frames = w.getnframes()
    except (wave.Error, EOFError, OSError) as exc:
        return f"unreadable wav: {exc}"
    if fmt != (SAMPLE_RATE, 1, 2):
        return f"format {fmt} is not (8000 Hz, mono, 16-bit)"
    if frames == 0:
        return "no audio"
    return None


@dataclass(frozen=True, slots=True)
class Job:
    prompt: Prompt
    lang: Lang

    @property
    def relpath(self) -> str:
        return wav_relpath(self.lang, self.prompt.id)


def _load_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def _save_manifest(path: Path, files: dict[str, str]) -> None:
    body = {"generator": GENERATOR_VERSION, "files": dict(sorted(files.items()))}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _jobs(cat: Catalog, only: Sequence[str] | None) -> list[Job]:
    ids = list(cat) if not only else [cat.require(pid).id for pid in only]
    return [Job(cat[pid], lang) for pid in ids for lang in LANGS]


def _orphans(sounds_dir: Path, cat: Catalog) -> list[Path]:
    wanted = {wav_relpath(lang, pid) for pid in cat for lang in LANGS}
    return sorted(
        p for lang in LANGS for p in (sounds_dir / lang).glob("*.wav")
        if f"{lang}/{p.name}" not in wanted
    )  # fmt: skip


def check(sounds_dir: Path, cat: Catalog, only: Sequence[str] | None = None) -> list[str]:
    """Problems that make the generated audio missing or stale (empty list: all fresh)."""
    manifest = _load_manifest(sounds_dir / MANIFEST_NAME)
    problems: list[str] = []
    for job in _jobs(cat, only):
        path = sounds_dir / job.relpath
        if not path.exists():
            problems.append(f"{job.relpath}: missing")
        elif manifest.get(job.relpath) != settings_hash(job.prompt, job.lang):
            problems.append(f"{job.relpath}: stale (text or voice settings changed)")
        elif (why := wav_format_problem(path)) is not None:
            problems.append(f"{job.relpath}: {why}")
    if not only:
        problems += [f"{p.relative_to(sounds_dir)}: not in the catalogue"
                     for p in _orphans(sounds_dir, cat)]  # fmt: skip
    return problems


def generate(
    sounds_dir: Path, cat: Catalog, only: Sequence[str] | None = None, *, force: bool = False
) -> tuple[list[str], int]:
    """Render what is missing or stale. Returns (rendered relpaths, skipped count)."""
    manifest_path = sounds_dir / MANIFEST_NAME
    manifest = _load_manifest(manifest_path)
    todo: list[Job] = []
    skipped = 0
    for job in _jobs(cat, only):
        fresh = (sounds_dir / job.relpath).exists() and manifest.get(job.relpath) == settings_hash(
            job.prompt, job.lang
        )
        if fresh and not force:
            skipped += 1
        else:
            todo.append(job)

    def one(job: Job) -> str:
        render(job.prompt, job.lang, sounds_dir / job.relpath)
        return job.relpath

    done: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
            for job, rel in zip(todo, pool.map(one, todo), strict=True):
                manifest[rel] = settings_hash(job.prompt, job.lang)
                done.append(rel)
    finally:
        if not only:
            for orphan in _orphans(sounds_dir, cat):
                orphan.unlink()
            wanted = {wav_relpath(lang, pid) for pid in cat for lang in LANGS}
            manifest = {k: v for k, v in manifest.items() if k in wanted}
        _save_manifest(manifest_path, manifest)
    return done, skipped


def total_size(sounds_dir: Path) -> int:
    return sum(p.stat().st_size for lang in LANGS for p in (sounds_dir / lang).glob("*.wav"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vipcall.prompts.generate",
        description="Render sounds/catalog.toml to sounds/<lang>/<id>.wav (8 kHz mono).",
    )
    parser.add_argument("--only", action="append", metavar="ID", help="only this prompt id")
    parser.add_argument("--check", action="store_true", help="exit 1 if missing or stale")
    parser.add_argument("--force", action="store_true", help="re-render even if fresh")
    parser.add_argument("--sounds-dir", type=Path, default=SOUNDS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sounds_dir: Path = args.sounds_dir
    try:
        cat = load_catalog(sounds_dir / "catalog.toml")
        if args.check:
            problems = check(sounds_dir, cat, args.only)
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print(f"{len(problems)} problem(s); run: python -m vipcall.prompts.generate",
                      file=sys.stderr)  # fmt: skip
                return 1
            print(f"ok: {len(cat)} prompts x {len(LANGS)} languages are up to date")
            return 0
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                print(f"error: {tool} not found (apt-get install espeak-ng sox)", file=sys.stderr)
                return 2
        done, skipped = generate(sounds_dir, cat, args.only, force=args.force)
    except (KeyError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"rendered {len(done)}, up to date {skipped}; "
          f"sounds total {total_size(sounds_dir) / 1024:.0f} KiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
