"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS with a self-signed certificate and AUTH,
implicit TLS, the multipart/alternative message as received, and how SMTP failures are classified."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from support.receivers import Certificate, SmtpReceiver, free_port

from cloudwatchdog.alerts.events import EventKind
from cloudwatchdog.alerts.registry import build_payload, deliver
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.settings.notifications import EmailTarget

from .samples import HOSTILE_NAME, event


def mail_target(smtp: SmtpReceiver, **kw: Any) -> EmailTarget:
    data = {"type": "email", "name": "sec", "host": "127.0.0.1", "port": smtp.port, "starttls": False,
            "from": "cloudwatchdog <alerts@example.com>", "to": ["security@example.com", "oncall@example.com"], **kw}
    return EmailTarget.model_validate(data)


def tls_target(smtp: SmtpReceiver, cert: Certificate, **kw: Any) -> EmailTarget:
    settings: dict[str, Any] = {"starttls": True, "username": smtp.username, "password": smtp.password,
                                "ca_file": str(cert.cert_file), **kw}
    return mail_target(smtp, **settings)


def send(target: EmailTarget, delivery_id: str = "dlv-1", **changes: Any) -> Any:
    return deliver(target, build_payload(target, [event(EventKind.NEW, **changes)], Templates()), delivery_id)


def test_starttls_auth_and_multipart_alternative(smtp_starttls: SmtpReceiver, certificate: Certificate) -> None:
    result = send(tls_target(smtp_starttls, certificate), resource_name=HOSTILE_NAME)
    assert result.ok, result.error
    (mail,) = smtp_starttls.mails
    assert mail.tls and mail.authenticated_as == "alerts"
    assert mail.mail_from == "alerts@example.com"
    assert sorted(mail.rcpt_tos) == ["oncall@example.com", "security@example.com"]
    msg = mail.message()
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text = parts[0].get_content()
    html = parts[1].get_content()
    assert HOSTILE_NAME in text  # plain text: as it is
    assert "<b>hi</b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html  # HTML: escaped
    assert str(msg["Subject"]).startswith("[HIGH] New finding: S3 bucket is accessible")
    assert msg["Message-ID"] == "<dlv-1@example.com>"
    assert msg["To"] == "security@example.com, oncall@example.com"


# aiosmtpd warns about AUTH without STARTTLS; with implicit TLS the whole session is encrypted already.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(smtp_ssl: SmtpReceiver, certificate: Certificate) -> None:
    target = mail_target(smtp_ssl, ssl=True, starttls=False, username=smtp_ssl.username,
                         password=smtp_ssl.password, ca_file=str(certificate.cert_file))
    result = send(target)
    assert result.ok, result.error
    assert smtp_ssl.mails[0].tls and smtp_ssl.mails[0].authenticated_as == "alerts"


def test_plain_server_without_auth(smtp_plain: SmtpReceiver) -> None:
    assert send(mail_target(smtp_plain)).ok
    assert not smtp_plain.mails[0].tls


def test_wrong_password_is_permanent_and_not_shown(smtp_starttls: SmtpReceiver, certificate: Certificate,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    target = tls_target(smtp_starttls, certificate, password="WRONG-pass-9")
    with caplog.at_level(logging.DEBUG):
        result = send(target)
    assert not result.ok and not result.retryable and result.status == 535
    assert "WRONG-pass-9" not in (result.error or "") and "WRONG-pass-9" not in caplog.text
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up.
    assert smtp_starttls.auth_attempts and set(smtp_starttls.auth_attempts) == {"alerts"}
    assert not smtp_starttls.mails


def test_starttls_never_falls_back_to_plain_text(smtp_plain: SmtpReceiver) -> None:
    # The plain server does not offer STARTTLS: the message must not go out unencrypted.
    result = send(mail_target(smtp_plain, starttls=True))
    assert not result.ok and not result.retryable
    assert not smtp_plain.mails


def test_untrusted_certificate_is_permanent(smtp_starttls: SmtpReceiver) -> None:
    # No ca_file: the system's CAs do not trust the self-signed certificate.
    target = mail_target(smtp_starttls, starttls=True, username="alerts", password=smtp_starttls.password)
    result = send(target)
    assert not result.ok and not result.retryable and "certificate" in (result.error or "")
    assert not smtp_starttls.mails


def test_server_asks_to_try_later(smtp_plain: SmtpReceiver) -> None:
    smtp_plain.data_reply = "451 4.3.0 Mail server temporarily rejected message"
    result = send(mail_target(smtp_plain))
    assert not result.ok and result.retryable and result.status == 451


def test_server_rejects_the_message(smtp_plain: SmtpReceiver) -> None:
    smtp_plain.data_reply = "554 5.7.1 Message rejected as spam"
    result = send(mail_target(smtp_plain))
    assert not result.ok and not result.retryable and result.status == 554


def test_every_recipient_refused(smtp_plain: SmtpReceiver) -> None:
    smtp_plain.rcpt_reply = {"security@example.com": "550 5.1.1 no such user",
                             "oncall@example.com": "550 5.1.1 no such user"}
    result = send(mail_target(smtp_plain))
    assert not result.ok and not result.retryable and result.status == 550


def test_some_recipients_refused(smtp_plain: SmtpReceiver) -> None:
    smtp_plain.rcpt_reply = {"oncall@example.com": "550 5.1.1 no such user"}
    result = send(mail_target(smtp_plain))
    assert result.ok and "oncall@example.com" in (result.error or "")
    assert smtp_plain.mails[0].rcpt_tos == ["security@example.com"]


def test_no_server_is_retryable() -> None:
    target = EmailTarget.model_validate({"type": "email", "host": "127.0.0.1", "port": free_port(),
                                         "starttls": False, "from": "a@example.com", "to": ["b@example.com"],
                                         "timeout": 2})
    result = send(target)
    assert not result.ok and result.retryable


def test_unreadable_ca_file_is_permanent(smtp_starttls: SmtpReceiver, tmp_path: Any) -> None:
    target = mail_target(smtp_starttls, starttls=True, ca_file=str(tmp_path / "missing.pem"))
    result = send(target)
    assert not result.ok and not result.retryable and "ca_file" in (result.error or "")


def test_an_accepted_message_is_delivered_whatever_the_server_answers_to_quit(smtp_plain: SmtpReceiver) -> None:
    """smtplib's `with` raises on a QUIT reply other than 221: the accepted message was reported failed and sent
    again on every retry."""

    async def handle_QUIT(server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        return "421 4.3.2 service shutting down"

    smtp_plain.controller.handler.handle_QUIT = handle_QUIT
    result = send(mail_target(smtp_plain))
    assert result.ok and result.status == 250
    assert len(smtp_plain.mails) == 1


def test_a_long_delivery_id_reaches_the_receiver_unfolded(smtp_plain: SmtpReceiver) -> None:
    """Delivery ids hold the scan id (a UUID): longer than a folded header line, they must still read back exactly."""
    delivery_id = "a-target:3f2a9c0d1e4b5a6f7081:resolved:2026-03-01T10:00:00Z:0b6f9a52-1c3e-4d8f-9a7b-5e2c1d0f3a4b"
    assert send(mail_target(smtp_plain), delivery_id).ok
    message = smtp_plain.mails[0].message()
    expected = delivery_id.replace(":", "-")
    assert str(message["X-Cloudwatchdog-Delivery"]) == expected
    assert str(message["Message-ID"]) == f"<{expected}@example.com>"
