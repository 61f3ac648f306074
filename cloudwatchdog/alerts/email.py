"""Email over SMTP (smtplib): STARTTLS (default) or implicit TLS, login when configured, a multipart/alternative
message with the plain-text and HTML parts. TLS is never optional once configured: a server that does not offer
STARTTLS is an error, not a fallback to plain text.

Reply codes: 4xx (and a dropped connection, a timeout) are retryable; 5xx, a refused login and a certificate
that does not verify are permanent. Once the server accepted the message, the answer to QUIT is ignored. The whole
exchange is cut off after ``deadline.TOTAL_PER_TIMEOUT`` x the timeout (a retryable failure).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, parseaddr

from cloudwatchdog.alerts.deadline import TOTAL_PER_TIMEOUT, Deadline
from cloudwatchdog.alerts.delivery import DeliveryResult, log, redact
from cloudwatchdog.alerts.messages import Payload, email_message
from cloudwatchdog.alerts.notifier import Channel
from cloudwatchdog.settings.notifications import EmailTarget, TargetBase

_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_POLICY = default_policy.clone(max_line_length=998)


def build_mime(target: EmailTarget, payload: Payload, delivery_id: str) -> EmailMessage:
    # Lines up to RFC 5322's hard limit: the delivery id (up to ~160 characters with a scan id) and the Message-ID
    # stay unfolded, so a receiver reads back exactly the id that was sent.
    msg = EmailMessage(policy=_POLICY)
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


def _quit(smtp: smtplib.SMTP) -> None:
    """Say QUIT and close. Once the message is accepted (or the exchange failed), the server's answer to QUIT
    changes nothing: a 421 or a dropped connection here must not turn an accepted message into a failure (it
    would be sent again)."""
    try:
        if smtp.sock is not None:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _send(target: EmailTarget, msg: EmailMessage, password: str) -> DeliveryResult:
    try:
        context = ssl.create_default_context(cafile=target.ca_file)
    except (OSError, ssl.SSLError) as exc:  # a setting to fix, not a moment to wait out
        return DeliveryResult(False, False, None, f"cannot load ca_file {target.ca_file}: {exc}")
    total = TOTAL_PER_TIMEOUT * target.timeout
    deadline = Deadline(total)
    smtp: smtplib.SMTP
    try:
        with deadline:  # connecting (and the TLS handshake of implicit TLS) is bounded by the timeout
            if target.ssl:
                smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout, context=context)
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
            try:
                deadline.watch(smtp.sock)
                smtp.ehlo()
                if target.starttls and not target.ssl:
                    smtp.starttls(context=context)
                    deadline.watch(smtp.sock)
                    smtp.ehlo()
                if target.username is not None:
                    smtp.login(target.username, password)
                refused = smtp.send_message(msg)
            finally:
                _quit(smtp)
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
        if deadline.expired:
            return DeliveryResult(False, True, None, f"no complete exchange within {total:g}s (the total deadline)")
        return DeliveryResult(False, True, None, redact(f"{type(exc).__name__}: {exc}", [password]))
    if refused:
        listed = ", ".join(f"{a} ({c})" for a, (c, _) in refused.items())
        return DeliveryResult(True, False, 250, f"accepted, but some recipients refused: {listed}")
    return DeliveryResult(True, False, 250)


NOTIFIER = Channel("email", email_message, deliver)
