"""The prompt catalogue (``sounds/catalog.toml``) as typed, validated objects.

Every prompt has a stable kebab-case id and a Finnish and an English text. A prompt
with a ``tone`` is a generated sine tone (the beep), not speech.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

Lang = Literal["fi", "en"]
LANGS: Final[tuple[Lang, ...]] = ("fi", "en")
DEFAULT_LANG: Final[Lang] = "fi"

#: ``sounds/`` at the repository root: the catalogue and the generated audio.
SOUNDS_DIR: Final[Path] = Path(__file__).resolve().parents[2] / "sounds"
CATALOG_PATH: Final[Path] = SOUNDS_DIR / "catalog.toml"

_ID_RE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CatalogError(ValueError):
    """The catalogue file is malformed (bad id, missing text, bad tone)."""


class UnknownPromptError(KeyError):
    """A prompt id that the catalogue does not have."""

    def __init__(self, prompt_id: str, suggestions: list[str] | None = None) -> None:
        self.prompt_id = prompt_id
        self.suggestions = suggestions or []
        hint = f" (did you mean {', '.join(self.suggestions)}?)" if self.suggestions else ""
        super().__init__(f"unknown prompt id {prompt_id!r}{hint}; see sounds/catalog.toml")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Tone:
    """A sine tone instead of speech."""

    hz: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    fi: str
    en: str
    tone: Tone | None = None

    def text(self, lang: Lang) -> str:
        return self.fi if lang == "fi" else self.en


class Catalog(Mapping[str, Prompt]):
    """Read-only mapping of prompt id -> :class:`Prompt`, in file order."""

    def __init__(self, prompts: Mapping[str, Prompt]) -> None:
        self._prompts = dict(prompts)

    def __getitem__(self, prompt_id: str) -> Prompt:
        try:
            return self._prompts[prompt_id]
        except KeyError:
            close = difflib.get_close_matches(prompt_id, self._prompts, n=3)
            raise UnknownPromptError(prompt_id, close) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._prompts)

    def __len__(self) -> int:
        return len(self._prompts)

    def require(self, prompt_id: str) -> Prompt:
        """Same as ``catalog[prompt_id]``; raises :class:`UnknownPromptError`."""
        return self[prompt_id]


def _parse_prompt(prompt_id: str, raw: Any) -> Prompt:
    where = f"prompt {prompt_id!r}"
    if not _ID_RE.match(prompt_id):
        raise CatalogError(f"{where}: id must be kebab-case (a-z, 0-9, '-')")
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a table with fi and en")
    unknown = set(raw) - {"fi", "en", "tone"}
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")
    texts: dict[str, str] = {}
    for lang in LANGS:
        value = raw.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: missing or empty {lang!r} text")
        texts[lang] = value.strip()
    tone: Tone | None = None
    if "tone" in raw:
        t = raw["tone"]
        hz, seconds = (t.get("hz"), t.get("seconds")) if isinstance(t, dict) else (None, None)
        if not isinstance(hz, int) or not isinstance(seconds, (int, float)):
            raise CatalogError(f"{where}: tone needs integer hz and numeric seconds")
        if not (20 <= hz <= 3400 and 0 < seconds <= 10):
            raise CatalogError(f"{where}: tone out of range (20..3400 Hz, 0..10 s)")
        tone = Tone(hz=hz, seconds=float(seconds))
    return Prompt(id=prompt_id, fi=texts["fi"], en=texts["en"], tone=tone)


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build a :class:`Catalog` from parsed TOML data (``{"prompts": {...}}``)."""
    prompts = data.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        raise CatalogError("catalogue has no [prompts] table")
    return Catalog({pid: _parse_prompt(pid, raw) for pid, raw in prompts.items()})


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate a catalogue file (default ``sounds/catalog.toml``)."""
    path = path or CATALOG_PATH
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    return parse_catalog(data)


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The project catalogue, loaded once."""
    return load_catalog()
