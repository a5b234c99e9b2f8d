"""Password codes go out the way voicemail notices do: the same SMS gateway adapter
(:class:`~vipcall.notices.sms.KannelSms`) and SMTP adapter
(:class:`~vipcall.notices.mail.SmtpMailer`), configured from the same settings. Sent at
once (not queued): a code is only useful for minutes, and the user is waiting for it."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from vipcall.config import Settings
from vipcall.notices.worker import Mailer, SmsSender, adapters_from_settings


class NoticeCodeSender:
    """A :class:`vipcall.directory.passwords.CodeSender` over the notice adapters."""

    def __init__(self, sms: SmsSender, mailer: Mailer) -> None:
        self.sms = sms
        self.mailer = mailer

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticeCodeSender:
        return cls(*adapters_from_settings(settings))

    async def send_sms(self, to: str, text: str) -> None:
        await self.sms.send(to, text)

    async def send_email(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.mailer.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.mailer.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        await self.mailer.send(msg)
