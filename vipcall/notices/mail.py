"""Email notices over SMTP (aiosmtplib), the message's audio attached as a WAV file."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from vipcall.notices.errors import SendError
from vipcall.notices.rules import NoticeText

SECURITY = ("starttls", "tls", "none")


def build_email(
    sender: str, to: str, text: NoticeText, audio: bytes | None, audio_name: str
) -> EmailMessage:
    """The email: subject and text of the notice, the audio as ``audio/wav`` attachment."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = text.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text.body)
    if audio:
        msg.add_attachment(audio, maintype="audio", subtype="wav", filename=audio_name)
    return msg


class SmtpMailer:
    """Sends email through one SMTP server: ``security`` "starttls", "tls" (implicit TLS)
    or "none"; logs in when ``user`` is set."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        user: str,
        password: str,
        sender: str,
        timeout: float = 30.0,
        ca_file: str = "",
    ) -> None:
        if security not in SECURITY:
            raise ValueError(
                f"VIPCALL_SMTP_SECURITY must be one of {', '.join(SECURITY)}, not {security!r}"
            )
        if "@" not in sender:
            raise ValueError(f"VIPCALL_SMTP_FROM must be an email address, not {sender!r}")
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.sender = sender
        self.timeout = timeout
        self.ca_file = ca_file

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.user or None,
                password=self.password or None,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout,
                cert_bundle=self.ca_file or None,
            )
        except (aiosmtplib.SMTPException, TimeoutError, OSError) as exc:
            raise SendError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
