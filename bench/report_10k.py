"""Benchmark: render a report of N findings (default 10,000, realistic evidence) in every format; print the
seconds and file sizes, then how long headless Chromium takes to load the HTML and to apply a filter.

    .venv/bin/python bench/report_10k.py [--findings 10000] [--no-browser] [--keep DIR]

Figures, not assertions: run by hand, compare between changes. The data comes from the renderer tests'
hand-built fixtures (tests/render/sample.py): no store, no scan.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cloudwatchdog.render.report_formats import REPORT_FORMATS  # noqa: E402
from render.sample import large_report  # noqa: E402

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def browser_figures(html: Path) -> dict[str, float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="cwd-bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(300)
    try:
        started = time.perf_counter()
        driver.get(html.as_uri())
        WebDriverWait(driver, 300).until(lambda d: d.find_element(By.ID, "filters").is_displayed())
        loaded = time.perf_counter() - started
        timing = driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return [t.domContentLoadedEventEnd, t.loadEventEnd];")
        shown = driver.find_element(By.ID, "shown").text
        started = time.perf_counter()
        driver.execute_script(  # uncheck every severity but critical, as a click would, and wait for the layout
            "for (const b of document.querySelectorAll('input[name=severity]')) {"
            "  if (b.value !== 'critical') { b.checked = false; b.dispatchEvent(new Event('change')); } }"
            "document.body.getBoundingClientRect();")
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "shown").text != shown)
        severity = time.perf_counter() - started
        started = time.perf_counter()
        driver.find_element(By.ID, "filter-text").send_keys("bucket-0004")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('tr.finding')).filter(r => !r.hidden).length < 200"))
        text = time.perf_counter() - started
        return {"open (to filters ready)": loaded, "DOMContentLoaded": timing[0] / 1000, "load": timing[1] / 1000,
                "severity filter": severity, "text filter (incl. 120 ms debounce and typing)": text}
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the outputs here instead of a temporary directory")
    args = parser.parse_args()

    started = time.perf_counter()
    data = large_report(args.findings)
    print(f"built ReportData with {len(data.all_findings())} findings in {time.perf_counter() - started:.2f}s")
    out = args.keep or Path(tempfile.mkdtemp(prefix="cwd-bench-report-"))
    out.mkdir(parents=True, exist_ok=True)
    html = out / "report.html"
    for name, (render, ext) in REPORT_FORMATS.items():
        started = time.perf_counter()
        text = render(data)
        seconds = time.perf_counter() - started
        path = out / f"report.{ext}"
        path.write_text(text, encoding="utf-8")
        print(f"{name:6} {seconds:6.2f}s  {path.stat().st_size / 2**20:7.1f} MiB  {path.name}")
    if not args.no_browser:
        for label, seconds in browser_figures(html).items():
            print(f"chromium: {label}: {seconds:.2f}s")
    if args.keep is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
