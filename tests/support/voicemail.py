"""How long the voicemail greeting lasts, for scenarios that speak into the recording at the
right moment: the default greeting of a user with nothing recorded speaks the dialled number
(vipcall.voicemail.greeting), so its length depends on the digits."""

from __future__ import annotations

import wave
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from vipcall.prompts.media import sound
from vipcall.voicemail.greeting import GreetingFacts, greeting

SOUNDS = Path(__file__).resolve().parents[2] / "sounds"


def media_seconds(media: list[str], recorded: float = 1.0) -> float:
    """Seconds the media last: prompts by their WAV files, anything else (a recorded name or
    greeting played from the app) as ``recorded`` seconds."""
    total = 0.0
    for uri in media:
        if uri.startswith("sound:vipcall/"):
            with wave.open(str(SOUNDS / (uri.removeprefix("sound:vipcall/") + ".wav"))) as w:
                total += w.getnframes() / w.getframerate()
        else:
            total += recorded
    return total


def default_greeting_seconds(dialled: str, lang: str = "fi") -> float:
    """The greeting and tone a caller hears before the recording starts, for a user with no
    recorded greeting or name and no keys offered."""
    media = greeting(GreetingFacts(number=dialled), datetime.now(UTC), ZoneInfo("UTC"), lang)
    return media_seconds([*media, sound("beep", lang)])
