"""Recordings Asterisk has stored (``/recordings/stored``): what a voicemail flow fetches
once a message is recorded, and what a recovery round finds left behind."""

from __future__ import annotations

import asyncio

from vipcall.ari import AriClient, AriError, AriNotFound


class StoredRecordings:
    def __init__(self, ari: AriClient) -> None:
        self.ari = ari

    async def fetch(self, name: str, tries: int = 20) -> bytes | None:
        """The recording's bytes; a file not there yet is retried briefly. ``None`` when
        there is none."""
        for _ in range(tries):
            try:
                return await self.ari.get_stored_recording_file(name)
            except AriNotFound:
                await asyncio.sleep(0.1)
        return None

    async def delete(self, name: str) -> bool:
        """Remove it from Asterisk; False when that failed (it is then tried again later)."""
        try:
            await self.ari.delete_stored_recording(name)
        except AriError:
            return False
        return True

    async def names(self) -> list[str]:
        return [r.get("name", "") for r in await self.ari.list_stored_recordings()]
