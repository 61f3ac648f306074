"""One logging setup for the command line and the daemon.

The daemon's logs: one JSON object per line when stderr is not a terminal (journald, containers, log shippers),
readable text on a terminal; and a redaction filter on the handler, so that no record from any library carries a
secret: URLs are cut to scheme and host (a webhook URL's path is its token; a database URL's password sits before
the host), ``password=...``/``token: ...``/``Bearer ...`` values are masked, and the config's secret values (and
secret-looking environment variables) are replaced wherever they appear, exception text included.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pydantic import BaseModel, SecretStr

from cloudwatchdog.text import visible

REDACTED = "[redacted]"

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s'\"<>()\[\]{}]+")
_KEY_VALUE = re.compile(
    r"(?i)(\b[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|account[_-]?key|"
    r"routing[_-]?key|private[_-]?key|authorization|signature|credentials?)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?:bearer|basic)\s+)?[^\s,;'\"&}]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_ENV = re.compile(r"(?i)(secret|token|password|passwd|credential|private|api_?key|account_?key)")
_MIN_SECRET = 8  # shorter values are too likely to be ordinary words to replace everywhere

# LogRecord attributes that are not "extra" fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _endpoint(url: str) -> str:
    from cloudwatchdog.alerts.delivery import endpoint

    return endpoint(url.rstrip(".,:;"))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without secrets: known values, URL paths, queries and credentials, key=value secrets."""
    for s in sorted((s for s in secrets if len(s) >= _MIN_SECRET), key=len, reverse=True):
        text = text.replace(s, REDACTED)
    text = _URL.sub(lambda m: _endpoint(m.group(0)), text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def config_secrets(model: BaseModel) -> list[str]:
    """Every SecretStr value in a config (webhook URLs, keys, passwords; also their URL paths), for redaction."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            out.append(secret)
            from cloudwatchdog.alerts.http import url_secrets

            out.extend(url_secrets(secret)[1:])
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(model)
    return [s for s in out if s]


def environment_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they are secret (AWS_SECRET_ACCESS_KEY, ..._TOKEN)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET]


class RedactingFilter(logging.Filter):
    """On a handler: rewrites each record's message and exception text without secrets."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in some library: keep the template, drop the arguments
            message = str(record.msg)
        record.msg, record.args = redact_text(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record._exception_summary = redact_text(exception_summary(record.exc_info[1]), self.secrets)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact_text(value, self.secrets))
        return True


def exception_summary(exc: BaseException) -> str:
    """``Type: first line of the message``: what a person needs to read; the traceback is for --debug."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _exception(record: logging.LogRecord, formatter: logging.Formatter, tracebacks: bool) -> str | None:
    """The record's exception as this handler shows it: the traceback (``--debug``), else one line."""
    if not record.exc_info and not record.exc_text:
        return None
    if tracebacks:
        if record.exc_info and not record.exc_text:
            record.exc_text = formatter.formatException(record.exc_info)
        return record.exc_text
    summary = getattr(record, "_exception_summary", None)
    if summary is None and record.exc_info and record.exc_info[1] is not None:
        summary = exception_summary(record.exc_info[1])
    return str(summary) if summary else None


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields, "exception"}`` on one line; ``exception`` is the
    traceback with ``tracebacks``, else its one-line summary."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            doc.setdefault(key, value)
        exception = _exception(record, self, self.tracebacks)
        if exception:
            doc["exception"] = exception
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2025-01-01T07:00:00Z INFO cloudwatchdog.daemon: message key=value ...``; an exception as one line, or its
    traceback with ``tracebacks``."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        extra = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = (f"{when} {record.levelname} {record.name}: {visible(record.getMessage())}"
                + (f" [{visible(extra)}]" if extra else ""))
        return _with_exception(line, _exception(record, self, self.tracebacks), self.tracebacks)


def _with_exception(line: str, exception: str | None, tracebacks: bool) -> str:
    if not exception:
        return line
    return f"{line}\n{exception}" if tracebacks else f"{line} ({visible(exception)})"


def wants_json(log_format: Literal["auto", "json", "text"], stream: TextIO) -> bool:
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (callable(isatty) and isatty())
    return log_format == "json"


class BriefFormatter(logging.Formatter):
    """The command line's ``WARNING cloudwatchdog.providers.aws.collect: message`` (the time is now); an exception as
    one line, or its traceback with ``--debug``."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {visible(record.getMessage())}"
        return _with_exception(line, _exception(record, self, self.tracebacks), self.tracebacks)


def _install(handler: logging.Handler, *, own_level: int, verbosity: int, replace_all: bool) -> logging.Handler:
    """Put ``handler`` on the root logger (instead of every handler, or of ours only). cloudwatchdog's own loggers log
    at ``own_level``; every library (botocore's retry notes, ...) at WARNING, unless -vv."""
    handler._cloudwatchdog = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if replace_all or getattr(old, "_cloudwatchdog", False):
            root.removeHandler(old)
    root.addHandler(handler)
    logging.getLogger("cloudwatchdog").setLevel(own_level)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    return handler


def setup_logging(log_format: Literal["auto", "json", "text"], verbosity: int, secrets: Sequence[str] = (),
                  stream: TextIO | None = None) -> logging.Handler:
    """The daemon's: replace the root handlers with one redacting handler on ``stream`` (stderr). INFO by default,
    DEBUG with -v; chatty libraries stay at WARNING unless -vv."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    tracebacks = verbosity >= 2
    handler.setFormatter(JsonFormatter(tracebacks) if wants_json(log_format, out) else TextFormatter(tracebacks))
    handler.addFilter(RedactingFilter(secrets))
    return _install(handler, own_level=logging.DEBUG if verbosity >= 1 else logging.INFO, verbosity=verbosity,
                    replace_all=True)


def setup_cli_logging(verbosity: int, stream: TextIO | None = None) -> logging.Handler:
    """The command line's: warnings on stderr (INFO with -v, DEBUG with -vv), one line each, through the same
    redaction as the daemon's (secret-looking environment variables included). Handlers someone else installed
    (a test runner's) stay."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(BriefFormatter(tracebacks=verbosity >= 2))
    handler.addFilter(RedactingFilter(environment_secrets()))
    # Without -v, our loggers follow the root's WARNING.
    level = logging.NOTSET if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    return _install(handler, own_level=level, verbosity=verbosity, replace_all=False)
