"""Fixtures for the alert tests: real receivers on 127.0.0.1 (tests/support/receivers.py), a fresh one per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.receivers import Certificate, HttpReceiver, SmtpReceiver, make_certificate


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; the receivers are local, so none may be in the way."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def smtp_plain() -> Iterator[SmtpReceiver]:
    with SmtpReceiver("plain") as s:
        yield s


@pytest.fixture
def smtp_starttls(certificate: Certificate) -> Iterator[SmtpReceiver]:
    with SmtpReceiver("starttls", certificate) as s:
        yield s


@pytest.fixture
def smtp_ssl(certificate: Certificate) -> Iterator[SmtpReceiver]:
    with SmtpReceiver("ssl", certificate) as s:
        yield s
