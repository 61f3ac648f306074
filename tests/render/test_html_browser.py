"""The HTML report in a real headless Chromium: what a reader sees, what the filters do, and that the page neither
reaches the network nor runs anything from the data."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from cloudwatchdog.render.html import render_report_html
from cloudwatchdog.report_model import ReportData

from .conftest import browser_log, requested_urls
from .sample import XSS_IMG, XSS_SCRIPT, hostile_report, large_report, sample_report

# Records every alert/confirm/prompt call before any page script runs (CDP scripts are not subject to the page's
# CSP), so an injected handler that fires is seen even if it ran before the test looked.
_ALERT_HOOK = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...args) => { window.__dialogs.push(name + ":" + args.join(",")); };
}
"""
_VISIBLE_IDS = ("return Array.from(document.querySelectorAll('tr.finding'))"
                ".filter(r => r.getClientRects().length > 0).map(r => r.dataset.id);")


def _open(driver: webdriver.Chrome, data: ReportData, path: Path) -> str:
    path.write_text(render_report_html(data), encoding="utf-8")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ALERT_HOOK})
    url = path.resolve().as_uri()
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "filters").is_displayed())
    return url


def _visible_ids(driver: webdriver.Chrome) -> list[str]:
    return list(driver.execute_script(_VISIBLE_IDS))


def _click(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click as a reader would: with the element scrolled to the middle, clear of the sticky filter bar."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _severe_logs(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in browser_log(driver, "browser") if e["level"] == "SEVERE"]


def _wait_visible(driver: webdriver.Chrome, expected: list[str]) -> None:
    """The text filter waits for typing to pause; wait until the rows shown are the expected ones."""
    try:
        WebDriverWait(driver, 30).until(lambda d: _visible_ids(d) == expected)
    except TimeoutException:
        assert _visible_ids(driver) == expected


def _wait_shown(driver: webdriver.Chrome, expected: int) -> None:
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "shown").text == str(expected))


def test_headline_sections_and_coverage_match_the_data(page: webdriver.Chrome, tmp_path: Path) -> None:
    data = sample_report()
    _open(page, data, tmp_path / "report.html")
    for key, value in (("public_now", 4), ("became_public", 2), ("closed", 1)):
        assert page.find_element(By.CSS_SELECTOR, f"[data-headline={key}]").text == str(value)
    for key, section in (("new", data.new), ("resolved", data.resolved), ("open", data.open),
                         ("suppressed", data.suppressed)):
        rows = page.find_elements(By.CSS_SELECTOR, f"#{key} tr.finding")
        assert [r.get_attribute("data-id") for r in rows] == [rf.finding.id for rf in section]
    still_open = page.find_element(By.CSS_SELECTOR, "#open tr.finding").text
    assert "exposed since 2026-11-03, 18 days" in still_open
    banner = page.find_element(By.ID, "coverage-gap")
    assert banner.is_displayed() and "2 of 3" in banner.text
    statuses = [r.get_attribute("data-coverage-status")
                for r in page.find_elements(By.CSS_SELECTOR, "#coverage tbody tr")]
    assert statuses == ["error", "partial", "ok"]  # failures first
    failed = page.find_element(By.CSS_SELECTOR, "#coverage tr.status-error").text
    assert "FAILED" in failed and "AuthorizationFailed" in failed
    chart = page.find_element(By.CSS_SELECTOR, "svg.trend-chart")
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.trend-bar")) == 30
    assert _severe_logs(page) == []


def test_nothing_is_requested_from_the_network(page: webdriver.Chrome, tmp_path: Path) -> None:
    url = _open(page, sample_report(), tmp_path / "report.html")
    for details in page.find_elements(By.CSS_SELECTOR, "details summary"):
        _click(page, details)  # open every collapsed part too
    _click(page, page.find_element(By.CSS_SELECTOR, "#table-open th button[data-sort=resource]"))
    time.sleep(0.3)
    urls = requested_urls(page)
    assert url in urls, f"the performance log did not record the page itself: {urls}"
    assert [u for u in urls if u != url and not u.startswith("data:")] == []
    assert _severe_logs(page) == []


def test_filter_by_severity_hides_the_others(page: webdriver.Chrome, tmp_path: Path) -> None:
    data = sample_report()
    _open(page, data, tmp_path / "report.html")
    assert len(_visible_ids(page)) == len(data.all_findings())
    for box in page.find_elements(By.CSS_SELECTOR, "input[name=severity]"):
        if box.get_attribute("value") != "critical":
            _click(page, box)
    critical = [rf.finding.id for rf in data.all_findings() if rf.finding.severity.value == "critical"]
    assert critical and _visible_ids(page) == critical
    assert page.find_element(By.ID, "shown").text == str(len(critical))
    # A section with nothing left says so instead of an empty table.
    assert page.find_element(By.CSS_SELECTOR, "#open tr.no-match").is_displayed()
    _click(page, page.find_element(By.ID, "filter-clear"))
    assert len(_visible_ids(page)) == len(data.all_findings())


def test_filter_by_provider_account_and_text(page: webdriver.Chrome, tmp_path: Path) -> None:
    data = sample_report()
    findings = [rf.finding for rf in data.all_findings()]
    _open(page, data, tmp_path / "report.html")
    Select(page.find_element(By.ID, "filter-provider")).select_by_value("gcp")
    assert _visible_ids(page) == [f.id for f in findings if f.provider == "gcp"]
    Select(page.find_element(By.ID, "filter-provider")).select_by_value("")
    Select(page.find_element(By.ID, "filter-account")).select_by_value("aws:210987654321")
    assert _visible_ids(page) == [f.id for f in findings if f.account == "210987654321"]
    Select(page.find_element(By.ID, "filter-account")).select_by_value("")
    page.find_element(By.ID, "filter-text").send_keys("PAYROLL")  # case-insensitive, any text in the row
    _wait_visible(page, [f.id for f in findings if f.resource_name == "payroll-exports"])
    search = page.find_element(By.ID, "filter-text")
    search.clear()
    search.send_keys("blobServices")  # matches the resource uid of the Azure container only
    _wait_visible(page, [f.id for f in findings if f.provider == "azure"])
    assert page.find_element(By.ID, "shown").text == "1"
    search.send_keys(Keys.ENTER)  # no form submission: the page stays, the filter holds
    assert _visible_ids(page) == [f.id for f in findings if f.provider == "azure"]
    assert _severe_logs(page) == []


def test_sorting_reorders_a_section(page: webdriver.Chrome, tmp_path: Path) -> None:
    data = sample_report()
    _open(page, data, tmp_path / "report.html")

    def names() -> list[str]:
        return [r.get_attribute("data-resource") or ""
                for r in page.find_elements(By.CSS_SELECTOR, "#table-open tr.finding")]

    assert names() == ["website-assets", "public-downloads"]  # longest exposed first, as rendered
    button = page.find_element(By.CSS_SELECTOR, "#table-open th button[data-sort=resource]")
    _click(page, button)
    assert names() == ["website-assets", "public-downloads"]  # descending first
    _click(page, button)
    assert names() == ["public-downloads", "website-assets"]
    th = button.find_element(By.XPATH, "..")
    assert th.get_attribute("aria-sort") == "ascending"
    _click(page, page.find_element(By.CSS_SELECTOR, "#table-new th button[data-sort=severity]"))
    rows = page.find_elements(By.CSS_SELECTOR, "#table-new tr.finding")
    ranks = [int(r.get_attribute("data-rank") or -1) for r in rows]
    assert ranks == sorted(ranks, reverse=True)


def test_hostile_names_render_as_text(page: webdriver.Chrome, tmp_path: Path) -> None:
    url = _open(page, hostile_report(), tmp_path / "hostile.html")
    try:
        alert = page.switch_to.alert
        pytest.fail(f"an alert opened: {alert.text}")
    except NoAlertPresentException:
        pass
    assert page.execute_script("return window.__dialogs") == []
    assert page.find_elements(By.TAG_NAME, "img") == []
    assert len(page.find_elements(By.TAG_NAME, "script")) == 1  # the report's own
    names = [e.text for e in page.find_elements(By.CSS_SELECTOR, "tr.finding .name")]
    assert XSS_IMG in names and XSS_SCRIPT in names
    first_evidence = page.find_element(By.CSS_SELECTOR, "tr.finding .evidence-first").text
    assert first_evidence.startswith(XSS_IMG + ":") and XSS_SCRIPT in first_evidence
    details = page.find_element(By.CSS_SELECTOR, "tr.finding details")
    _click(page, details.find_element(By.TAG_NAME, "summary"))
    assert "tag owner=" + XSS_IMG in details.text
    assert XSS_SCRIPT in page.find_element(By.CSS_SELECTOR, "#coverage tr.status-error").text
    assert page.title.startswith("report " + XSS_SCRIPT)
    # Filtering on hostile text works and shows it as text.
    page.find_element(By.ID, "filter-text").send_keys("onerror")
    _wait_shown(page, 3)
    assert [u for u in requested_urls(page) if u != url and not u.startswith("data:")] == []
    assert _severe_logs(page) == []


def test_ten_thousand_findings_render_and_filter(page: webdriver.Chrome, tmp_path: Path) -> None:
    data = large_report(10_000)
    started = time.perf_counter()
    _open(page, data, tmp_path / "large.html")
    loaded = time.perf_counter() - started
    assert page.execute_script("return document.querySelectorAll('tr.finding').length") == 10_000
    assert page.find_element(By.ID, "shown").text == "10000"
    for box in page.find_elements(By.CSS_SELECTOR, "input[name=severity]"):
        if box.get_attribute("value") not in ("critical", "high"):
            _click(page, box)
    counts = Counter(rf.finding.severity.value for rf in data.all_findings())
    expected = counts["critical"] + counts["high"]
    _wait_shown(page, expected)
    assert len(_visible_ids(page)) == expected
    Select(page.find_element(By.ID, "filter-provider")).select_by_value("azure")
    expected_azure = sum(1 for rf in data.all_findings()
                         if rf.finding.provider == "azure" and rf.finding.severity.value in ("critical", "high"))
    _wait_shown(page, expected_azure)
    page.find_element(By.ID, "filter-text").send_keys("bucket-00042")
    _wait_shown(page, sum(1 for rf in data.all_findings() if "bucket-00042" in rf.finding.resource_name
                          and rf.finding.provider == "azure" and rf.finding.severity.value in ("critical", "high")))
    assert _severe_logs(page) == []
    print(f"10,000 findings: loaded in {loaded:.1f}s")
