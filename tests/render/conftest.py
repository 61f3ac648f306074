"""A real headless Chromium (Debian's /usr/bin/chromium and /usr/bin/chromedriver), driven by selenium.

A fresh profile per session, no background traffic of its own (so every network request it logs comes from the
page), and the performance log on, so a test can list every request the page made. A missing browser or driver is
a failure with the package to install, not a skip.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        assert path.exists(), f"{path} is missing: install the Debian package {package} (scripts/install-test-deps)"
    profile = tempfile.mkdtemp(prefix="cwd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: webdriver.Chrome) -> webdriver.Chrome:
    """The session's browser with its logs drained, so a test sees only what its own page logs."""
    browser.get("about:blank")
    browser_log(browser, "performance")
    browser_log(browser, "browser")
    return browser


def browser_log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """The entries of one Chrome log (``browser``: the console; ``performance``: DevTools events) since the last
    read; reading drains it."""
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every URL the page asked for since the logs were last read (Network.requestWillBeSent)."""
    urls = []
    for entry in browser_log(driver, "performance"):
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    return urls
