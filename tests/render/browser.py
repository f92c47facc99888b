"""Headless Chromium for the HTML report tests: Debian's /usr/bin/chromium driven by its chromedriver through
Selenium (no browser is downloaded). Screenshots go to the test's directory, and to docs/img when
CNIMODEL_DOCS_SCREENSHOTS=1 (how the pictures in docs/render.md were made)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1440,900")
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


class Browser:
    """One Chromium session; ``open`` waits until the page says it has drawn (``data-ready``)."""

    def __init__(self, driver: Any, shots: Path) -> None:
        self.driver = driver
        self.shots = shots

    def open(self, path: Path, timeout: float = 60) -> float:
        """Load ``path``; returns the page's own time to ready, in ms since navigation started."""
        self.driver.get_log("browser")  # drop what an earlier page logged
        self.driver.get(path.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self.js("return document.documentElement.getAttribute('data-ready')")
            if ready:
                return float(ready)
            time.sleep(0.05)
        raise AssertionError(f"{path} did not finish drawing in {timeout} s; console: {self.console()}")

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def by_id(self, vertex: str) -> Any:
        """The drawn element of a vertex id (ids hold characters CSS selectors would need escaped)."""
        found = self.js("var id = arguments[0]; return Array.from(document.querySelectorAll('[data-id]'))"
                        ".filter(function (e) { return e.getAttribute('data-id') === id; })[0] || null;", vertex)
        assert found is not None, f"{vertex} is not drawn"
        return found

    def console(self) -> list[dict[str, Any]]:
        return self.driver.get_log("browser")

    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.console() if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        path = self.shots / name
        self.driver.save_screenshot(str(path))
        if os.environ.get("CNIMODEL_DOCS_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_IMG / name)
        return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Debian chromium and chromium-driver are not installed (.ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        yield Browser(driver, tmp_path_factory.mktemp("screenshots"))
    finally:
        driver.quit()
