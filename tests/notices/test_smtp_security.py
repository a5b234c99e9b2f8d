"""Email notices over SMTP with STARTTLS, implicit TLS and a login, against a real aiosmtpd
server on loopback with a certificate made for the test (checked, not waved through)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from harness.kannel import free_port
from tests.notices.parts import Mailbox, wav
from vipcall.notices.errors import SendError
from vipcall.notices.mail import SmtpMailer, build_email
from vipcall.notices.rules import compose_notice

SENDER = "vastaaja@vipcall.test"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("tls")
    crt, key = where / "smtp.crt", where / "smtp.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(crt), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return crt, key


class Recorder(Mailbox):
    def __init__(self) -> None:
        super().__init__()
        self.tls: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        transport = server.transport
        self.tls.append(
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        return await super().handle_DATA(server, session, envelope)


def login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"vipcall", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def server(
    cert: tuple[Path, Path], request: pytest.FixtureRequest
) -> Iterator[tuple[int, Recorder]]:
    crt, key = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    handler = Recorder()
    port = free_port()
    if request.param == "tls":
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ssl_context=context,
            authenticator=login,
            auth_required=True,
            # aiosmtpd offers AUTH only after STARTTLS unless told the line is safe: here
            # the whole connection is TLS (implicit), which handle_DATA records.
            auth_require_tls=False,
        )
    else:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            authenticator=login,
            auth_required=True,
        )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def notice_mail(to: str) -> object:
    text = compose_notice(
        "+358501112233", datetime(2025, 1, 15, 10, 5, tzinfo=UTC), 3000, None, "+358401621485"
    )
    return build_email(SENDER, to, text, wav(0.5), "vastaajaviesti-1.wav")


@pytest.mark.parametrize(
    ("server", "security"), [("starttls", "starttls"), ("tls", "tls")], indirect=["server"]
)
async def test_email_is_sent_encrypted_with_login(
    server: tuple[int, Recorder], security: str, cert: tuple[Path, Path]
) -> None:
    port, handler = server
    mailer = SmtpMailer("127.0.0.1", port, security, "vipcall", "s3cret", SENDER, 5, str(cert[0]))
    await mailer.send(notice_mail("maija@example.fi"))  # type: ignore[arg-type]
    assert handler.tls == [True]
    assert [e.rcpt_tos for e, _ in handler.messages] == [["maija@example.fi"]]
    attachment = next(handler.messages[0][1].iter_attachments())
    assert attachment.get_content() == wav(0.5)


@pytest.mark.parametrize("server", ["starttls"], indirect=True)
async def test_wrong_password_unknown_certificate_or_no_tls_is_a_send_error(
    server: tuple[int, Recorder], cert: tuple[Path, Path]
) -> None:
    port, handler = server
    ca = str(cert[0])
    attempts = [
        SmtpMailer("127.0.0.1", port, "starttls", "vipcall", "wrong", SENDER, 5, ca),
        SmtpMailer("127.0.0.1", port, "starttls", "vipcall", "s3cret", SENDER, 5),  # system CAs
        SmtpMailer("127.0.0.1", port, "none", "", "", SENDER, 5),  # server requires STARTTLS
    ]
    for mailer in attempts:
        with pytest.raises(SendError, match=f"SMTP 127.0.0.1:{port}"):
            await mailer.send(notice_mail("maija@example.fi"))  # type: ignore[arg-type]
    assert handler.messages == []
