"""Email over SMTP (smtplib): STARTTLS (default) or implicit TLS, login when configured, a multipart/alternative
message with the plain-text and HTML parts. TLS is never optional once configured: a server that does not offer
STARTTLS is an error, not a fallback to plain text.

Reply codes: 4xx (and a dropped connection, a timeout) are retryable; 5xx, a refused login and a certificate
that does not verify are permanent.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from cloudwatchdog.alerts.delivery import DeliveryResult, log, redact
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.settings.notifications import EmailTarget, TargetBase

_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def build_mime(target: EmailTarget, payload: Payload, delivery_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = str(payload["subject"])
    msg["From"] = target.sender
    msg["To"] = ", ".join(target.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(target.sender)[1].rpartition("@")[2] or "cloudwatchdog"
    # The same delivery id on every retry: mail systems that see the message twice can tell.
    msg["Message-ID"] = f"<{_ID_CHARS.sub('-', delivery_id)}@{domain}>"
    msg["X-Cloudwatchdog-Delivery"] = _ID_CHARS.sub("-", delivery_id)
    msg.set_content(str(payload["text"]))
    msg.add_alternative(str(payload["html"]), subtype="html")
    return msg


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, EmailTarget):
        raise TypeError(f"not an email target: {target.type}")
    msg = build_mime(target, payload, delivery_id)
    where = f"smtp://{target.host}:{target.port}"
    password = target.password.get_secret_value() if target.password else ""
    result = _send(target, msg, password)
    if result.ok:
        log.info("alert target %s: mail accepted by %s for %d recipient(s)", target.label, where, len(target.to))
    else:
        log.warning("alert target %s: delivery to %s %s", target.label, where, result.describe())
    return result


def _send(target: EmailTarget, msg: EmailMessage, password: str) -> DeliveryResult:
    try:
        context = ssl.create_default_context(cafile=target.ca_file)
    except (OSError, ssl.SSLError) as exc:  # a setting to fix, not a moment to wait out
        return DeliveryResult(False, False, None, f"cannot load ca_file {target.ca_file}: {exc}")
    try:
        smtp: smtplib.SMTP
        if target.ssl:
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout, context=context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
        with smtp:
            smtp.ehlo()
            if target.starttls and not target.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if target.username is not None:
                smtp.login(target.username, password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPNotSupportedError as exc:
        return DeliveryResult(False, False, None, redact(f"the server does not support it: {exc}", [password]))
    except smtplib.SMTPAuthenticationError as exc:
        return DeliveryResult(False, False, exc.smtp_code, f"login refused: {exc.smtp_code}")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        retry = any(400 <= c < 500 for c in codes)
        listed = ", ".join(f"{a} ({c})" for a, (c, _) in exc.recipients.items())
        return DeliveryResult(False, retry, codes[0] if codes else None, f"every recipient refused: {listed}")
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return DeliveryResult(False, 400 <= exc.smtp_code < 500, exc.smtp_code,
                              redact(f"SMTP {exc.smtp_code}: {text}", [password]))
    except ssl.SSLCertVerificationError as exc:
        return DeliveryResult(False, False, None, f"TLS certificate not trusted: {exc.verify_message}")
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections, TLS errors
        return DeliveryResult(False, True, None, redact(f"{type(exc).__name__}: {exc}", [password]))
    if refused:
        listed = ", ".join(f"{a} ({c})" for a, (c, _) in refused.items())
        return DeliveryResult(True, False, 250, f"accepted, but some recipients refused: {listed}")
    return DeliveryResult(True, False, 250)
