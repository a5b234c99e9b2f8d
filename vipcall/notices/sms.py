"""SMS through an SMS gateway's HTTP API. The default adapter speaks Kannel's
``cgi-bin/sendsms``: a GET with username, password, from, to and text, answered
"0: Accepted for delivery" (or "3: Queued for later delivery" while the SMSC is away)."""

from __future__ import annotations

import aiohttp

from vipcall.notices.errors import SendError

#: Kannel's answers that mean the gateway took the message.
ACCEPTED = ("0:", "3:")


class KannelSms:
    """Sends one SMS per :meth:`send` through Kannel's sendsms interface."""

    def __init__(
        self, url: str, user: str, password: str, sender: str, timeout: float = 30.0
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"VIPCALL_SMS_URL must be an http(s) URL, not {url!r}")
        self.url = url
        self.user = user
        self.password = password
        self.sender = sender
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, to: str, text: str) -> str:
        """Hand the SMS to the gateway; its answer, or :class:`SendError`."""
        params = {
            "username": self.user,
            "password": self.password,
            "from": self.sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.get(self.url, params=params) as response,
            ):
                answer = (await response.text(errors="replace")).strip()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"SMS gateway {self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status >= 300 or not answer.startswith(ACCEPTED):
            raise SendError(f"SMS gateway answered {response.status}: {answer[:200]}")
        return answer
