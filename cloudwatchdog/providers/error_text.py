"""Error texts from a cloud as a scan records them (coverage, evidence, logs): one short line of plain text.

What a cloud, an emulator or a proxy on the way answers with is untrusted and may be anything: an HTML error page, a
multi-kilobyte body, line breaks, control characters. A person needs the gist: an HTML page is reduced to its title
(or its text), whitespace to single spaces, control characters dropped, and the whole bounded in length.
"""

from __future__ import annotations

import html
import re

MAX_CHARS = 300

_HTML = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|title|h1|p)\b", re.IGNORECASE)
_TITLE = re.compile(r"<\s*title[^>]*>(.*?)<\s*/\s*title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_ESCAPED_BREAK = re.compile(r"\\[nrt]")  # an SDK that shows a body as a bytes literal: b'...\n...'
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def html_title(text: str) -> str | None:
    """The title of an HTML page within ``text``, if it holds one."""
    match = _TITLE.search(text)
    return " ".join(html.unescape(match.group(1)).split()) or None if match else None


def error_line(text: object, limit: int = MAX_CHARS) -> str:
    """``text`` as one line of at most ``limit`` characters; an HTML page in it becomes its title, or its text
    (what comes before the page, such as the request that got it, is kept)."""
    s = str(text)
    page = _HTML.search(s)
    if page:
        head = s[: page.start()].rstrip().removesuffix("b'").removesuffix('b"').rstrip(" :\n")
        body = s[page.start():]
        gist = html_title(body) or html.unescape(_TAG.sub(" ", _ESCAPED_BREAK.sub(" ", body))).strip(" '\"")
        s = f"{head}: {gist}" if head else gist
    s = " ".join(_CONTROL.sub(" ", s).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


_ERRNO = re.compile(r"\[Errno -?\d+\]\s*([^'\")\]]+)")
_HOST_PORT = re.compile(r"host='([^']+)',\s*port=(\d+)")
_REASONS = ("timed out", "Name or service not known", "Connection refused", "Connection reset", "No route to host",
            "Temporary failure in name resolution", "Network is unreachable")


def unreachable(text: object) -> str | None:
    """For the text of a connection failure (urllib3, requests, azure-core): "cannot reach HOST:PORT: REASON", saying
    it is the network and not the credentials; None when ``text`` is not about reaching a host."""
    s = str(text)
    if "[SSL" in s or "certificate" in s.lower():
        return None  # reached, but not trusted: the SDK's own words say why
    errno = _ERRNO.search(s)
    reason = errno.group(1).strip() if errno else next((r for r in _REASONS if r.lower() in s.lower()), None)
    if reason is None:
        return None
    host = _HOST_PORT.search(s)
    where = f"{host.group(1)}:{host.group(2)}" if host else "the endpoint"
    return f"cannot reach {where}: {error_line(reason, 100)} (a network problem, not a credentials one)"


__all__ = ["MAX_CHARS", "error_line", "html_title", "unreachable"]
