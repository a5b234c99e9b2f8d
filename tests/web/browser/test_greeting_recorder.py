"""The voicemail page's greeting recorder (static/js/recorder.js) in headless Chromium with a
fake microphone playing a 1 kHz tone: record, stop and save on the page, and the greeting
stored for the user is that tone, converted by the server to WAV 8 kHz mono 16-bit, as long
as the recording; the page then says it is recorded, and deleting it removes it."""

from __future__ import annotations

import array
import io
import math
import re
import statistics
import time
import wave
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.browser import chromium
from tests.web.browser.conftest import NewPage, log_in
from tests.web.conftest import People
from vipcall.db.engine import session_factory
from vipcall.directory import voicemail as vm

pytestmark = pytest.mark.asyncio(loop_scope="session")

TONE_HZ = 1000
MIC_RATE = 48_000


def _tone_wav(path: Path, seconds: float = 2.0) -> Path:
    """A 1 kHz sine at half scale, 48 kHz mono 16-bit: what the fake microphone says (looped)."""
    n = int(MIC_RATE * seconds)
    samples = array.array(
        "h", (int(16384 * math.sin(2 * math.pi * TONE_HZ * i / MIC_RATE)) for i in range(n))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(MIC_RATE)
        w.writeframes(samples.tobytes())
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    """This module's Chromium (used by ``new_page``): microphone access granted without a
    prompt, and the microphone is the tone file."""
    tone = _tone_wav(tmp_path_factory.mktemp("mic") / "tone.wav")
    async with chromium(
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={tone}",
        ]
    ) as b:
        yield b


def _samples(data: bytes) -> tuple[wave._wave_params, array.array[int]]:
    with wave.open(io.BytesIO(data)) as w:
        params = w.getparams()
        frames = w.readframes(params.nframes)
    return params, array.array("h", frames)


def _tone_of(samples: array.array[int], rate: int) -> tuple[float, float, float]:
    """Of the audible part (first to last sample above 1 % of full scale): the frequency
    from the median period between rising zero crossings, the share of periods within 5 %
    of that of :data:`TONE_HZ`, and the RMS as a fraction of full scale. (The median, as
    the fake microphone now and then drops 10 ms, and the resampler rings in such a gap.)"""
    loud = [i for i, x in enumerate(samples) if abs(x) > 328]
    assert loud, "the stored greeting is silent"
    part = samples[loud[0] : loud[-1] + 1]
    rising = [i + a / (a - b) for i, (a, b) in enumerate(pairwise(part)) if a < 0 <= b]
    periods = [b - a for a, b in pairwise(rising)]
    assert len(periods) > 10, "no tone in the stored greeting"
    expected = rate / TONE_HZ
    share = sum(1 for p in periods if abs(p - expected) < 0.05 * expected) / len(periods)
    rms = math.sqrt(sum(x * x for x in part) / len(part)) / 32768
    return rate / statistics.median(periods), share, rms


async def test_a_greeting_recorded_in_the_browser_is_stored_and_then_deleted(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await new_page()
    await log_in(page, people.pekka.username)
    await page.goto("/#/voicemail")
    await page.wait_for_selector("#page-voicemail")
    greeting = page.locator("section.card", has=page.locator("#greeting-upload"))
    name = page.locator("section.card", has=page.locator("#name-upload"))
    assert "Ei äänitettyä." in await greeting.inner_text()
    record = greeting.locator("button.record")
    assert "Äänitä selaimessa" in await record.inner_text()

    await record.click()
    await page.wait_for_selector("#page-voicemail button.record[aria-pressed=true]")
    started = time.monotonic()
    assert "Lopeta ja tallenna" in await record.inner_text()
    await page.wait_for_timeout(1500)
    async with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("/api/v1/me/voicemail/greeting")
    ) as answer:
        await record.click()
        recorded = time.monotonic() - started
    response = await answer.value
    assert response.status == 200, await response.text()
    stored_as = await response.json()
    # the browser sent a WAV the server could read (at the AudioContext's rate) and converted
    assert re.fullmatch(r"WAV \d+ Hz mono 16-bit", stored_as["converted_from"] or ""), stored_as
    assert stored_as["stored_as"] == "WAV 8 kHz mono 16-bit"

    # the page shows the stored state: recorded, a Delete button, the recorder ready again
    await greeting.locator("p", has_text="Äänitetty.").wait_for()
    assert "Tallennettu" in await page.inner_text("#status")
    assert await greeting.locator("button.danger").count() == 1
    assert "Äänitä selaimessa" in await record.inner_text()
    assert await record.get_attribute("aria-pressed") is None
    assert "Ei äänitettyä." in await name.inner_text(), "only the greeting was recorded"

    async with session_factory(engine)() as s:
        audio = await vm.get_audio(s, people.pekka.id, "greeting")
        prefs = await vm.get_voicemail_settings(s, people.pekka.id)
    assert audio is not None
    assert (prefs.has_greeting, prefs.has_name, prefs.greeting_mode) == (True, False, "personal")
    params, samples = _samples(audio)
    assert (params.framerate, params.nchannels, params.sampwidth) == (8000, 1, 2)
    seconds = params.nframes / 8000
    assert seconds == pytest.approx(stored_as["seconds"], abs=0.01)
    assert 1.0 <= seconds <= recorded + 0.5, (seconds, recorded)
    hz, share, rms = _tone_of(samples, 8000)
    assert hz == pytest.approx(TONE_HZ, rel=0.01), "the microphone's tone"
    assert share > 0.9, f"mostly the tone, not noise ({share:.0%} of the periods)"
    assert rms > 0.2, f"the tone at about half scale (RMS {rms:.2f})"

    # what a user does next: delete it
    await greeting.locator("button.danger").click()
    await greeting.locator("p", has_text="Ei äänitettyä.").wait_for()
    assert "Poistettu" in await page.inner_text("#status")
    assert await greeting.locator("button.danger").count() == 0
    async with session_factory(engine)() as s:
        assert await vm.get_audio(s, people.pekka.id, "greeting") is None
        prefs = await vm.get_voicemail_settings(s, people.pekka.id)
    assert (prefs.has_greeting, prefs.greeting_mode) == (False, "default")


#: Keeps every microphone stream the page opens, so a test can see whether it was stopped.
WATCH_MICROPHONE = """
(() => {
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__streams = [];
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await open(c);
    window.__streams.push(s);
    return s;
  };
})();
"""


async def _voicemail_page(new_page: NewPage, people: People):  # type: ignore[no-untyped-def]
    page = await new_page()
    await page.add_init_script(WATCH_MICROPHONE)
    await log_in(page, people.pekka.username)
    await page.goto("/#/voicemail")
    await page.wait_for_selector("#page-voicemail")
    await page.evaluate(WATCH_MICROPHONE)  # this document too (the log-in page loaded it)
    return page


async def test_a_recording_stops_and_is_saved_by_itself_at_the_longest_length(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    """The name may be 10 s (the API's max_name_seconds): a user who forgets to press stop
    gets those 10 s saved, not a long upload the server then refuses."""
    page = await _voicemail_page(new_page, people)
    name = page.locator("section.card", has=page.locator("#name-upload"))
    async with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("/api/v1/me/voicemail/name"),
        timeout=20_000,
    ) as answer:
        await name.locator("button.record").click()
    response = await answer.value
    assert response.status == 200, await response.text()
    assert 9.5 <= (await response.json())["seconds"] <= 10.5
    await name.locator("p", has_text="Äänitetty.").wait_for()
    assert await page.evaluate(
        "window.__streams.every(s => s.getTracks().every(t => t.readyState === 'ended'))"
    ), "the microphone is off"
    async with session_factory(engine)() as s:
        assert (await vm.get_voicemail_settings(s, people.pekka.id)).has_name


async def test_leaving_the_page_while_recording_turns_the_microphone_off(
    new_page: NewPage, people: People, engine: AsyncEngine
) -> None:
    page = await _voicemail_page(new_page, people)
    greeting = page.locator("section.card", has=page.locator("#greeting-upload"))
    record = greeting.locator("button.record")
    await record.dblclick()  # a double click starts one recording, not two
    await page.wait_for_selector("#page-voicemail button.record[aria-pressed=true]")
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.__streams.length") == 1
    assert await page.evaluate("window.__streams[0].getAudioTracks()[0].readyState") == "live"

    await page.goto("/#/")  # another page of the home page, mid-recording
    await page.wait_for_function(
        "window.__streams[0].getAudioTracks()[0].readyState === 'ended'", timeout=3000
    )
    async with session_factory(engine)() as s:
        assert not (await vm.get_voicemail_settings(s, people.pekka.id)).has_greeting, (
            "nothing saved from an abandoned recording"
        )
