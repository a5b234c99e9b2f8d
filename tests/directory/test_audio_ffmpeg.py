"""Greeting/name audio that sox cannot read (MP3, AAC in M4A, Opus in WebM from a browser's
recorder) is converted by ffmpeg to the stored WAV 8 kHz mono 16-bit with a plain header."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vipcall.directory.errors import InvalidField
from vipcall.directory.voicemail import prepare_audio

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


def encode(tmp_path: Path, ext: str, codec: str, seconds: float) -> bytes:
    out = tmp_path / f"tone.{ext}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-ar", "48000", "-ac", "2",
         "-c:a", codec, str(out)],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


@pytest.mark.parametrize(
    ("ext", "codec"), [("mp3", "libmp3lame"), ("m4a", "aac"), ("webm", "libopus")]
)
async def test_ffmpeg_converts_what_sox_cannot_read(tmp_path: Path, ext: str, codec: str) -> None:
    audio = await prepare_audio(encode(tmp_path, ext, codec, 2.0), "greeting", filename=f"x.{ext}")
    assert abs(audio.seconds - 2.0) < 0.1
    assert audio.converted_from == ext
    # A canonical 44-byte header, then the samples: no LIST or other chunk before "data".
    assert audio.wav[:4] == b"RIFF" and audio.wav[12:16] == b"fmt " and audio.wav[36:40] == b"data"
    assert len(audio.wav) == 44 + audio.frames * 2


async def test_neither_can_read_junk(tmp_path: Path) -> None:
    with pytest.raises(InvalidField) as caught:
        await prepare_audio(b"not audio at all" * 20, "name", filename="x.mp3")
    assert caught.value.field == "name_audio"
    assert "sox" in caught.value.message and "ffmpeg" in caught.value.message


async def test_length_limit_applies_after_conversion(tmp_path: Path) -> None:
    with pytest.raises(InvalidField, match="at most 10 s"):
        await prepare_audio(encode(tmp_path, "mp3", "libmp3lame", 11.0), "name", filename="n.mp3")
