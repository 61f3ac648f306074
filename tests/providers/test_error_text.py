"""Error texts from a cloud as one short line: HTML pages, long bodies, control characters, connection failures."""

from __future__ import annotations

import pytest

from cloudwatchdog.providers.error_text import MAX_CHARS, error_line, html_title, unreachable

MOTO_500 = ("Unable to parse response (syntax error: line 1, column 0), invalid XML received. Further retries may "
            "succeed:\nb'<!doctype html>\\n<html lang=en>\\n<title>500 Internal Server Error</title>\\n<h1>Internal "
            "Server Error</h1>\\n<p>The server encountered an internal error.</p>\\n'")


@pytest.mark.parametrize(("text", "line"), [
    (MOTO_500, "Unable to parse response (syntax error: line 1, column 0), invalid XML received. Further retries "
               "may succeed: 500 Internal Server Error"),
    ("GET http://127.0.0.1:1/b?x=1: <html><body><h1>Access denied</h1><p>by policy &amp; rules</p></body></html>",
     "GET http://127.0.0.1:1/b?x=1: Access denied by policy & rules"),
    ("<!DOCTYPE HTML><TITLE>502 Bad Gateway</TITLE>", "502 Bad Gateway"),
    ("AccessDenied:\n  not\tauthorized\x1b[31m\u202e", "AccessDenied: not authorized [31m"),
    ("if x < 3 and y > 2: a plain message", "if x < 3 and y > 2: a plain message"),
])
def test_error_line(text: str, line: str) -> None:
    assert error_line(text) == line


def test_error_line_is_bounded() -> None:
    long = error_line("<html><body>" + "<p>x</p>" * 10_000 + "</body></html>")
    assert len(long) == MAX_CHARS and long.endswith("…")
    assert error_line("y" * 50, 10) == "yyyyyyyyy…"
    assert html_title("no page here") is None


@pytest.mark.parametrize(("text", "line"), [
    ("HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /b (Caused by "
     "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new connection: [Errno "
     "111] Connection refused\"))", "cannot reach 127.0.0.1:9: Connection refused (a network problem, not a "
                                    "credentials one)"),
    ("HTTPSConnectionPool(host='storage.example', port=443): Read timed out. (read timeout=30)",
     "cannot reach storage.example:443: timed out (a network problem, not a credentials one)"),
])
def test_unreachable(text: str, line: str) -> None:
    assert unreachable(text) == line


def test_an_untrusted_certificate_or_an_http_error_is_not_unreachable() -> None:
    assert unreachable("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed (_ssl.c:1006)") is None
    assert unreachable("HTTP 403: Forbidden") is None
