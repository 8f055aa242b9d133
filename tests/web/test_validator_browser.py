"""The /validator page in a real headless Chromium against a real hub process: token form, validation
of an invalid and a valid resource. Skipped (with the reason) only where Chromium is not installed;
`.ci/run` installs Debian's chromium and chromium-driver."""

from __future__ import annotations

import shutil

import pytest

from hub.auth import TokenService
from hub.cli._procs import start_hub, stop

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("browser")
    env = {"KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp / 'hub.db'}", "KNUTPUNKT_KEY_FILE": str(tmp / "key.pem")}
    proc, url, _ = start_hub(env, cwd=tmp)
    yield url, TokenService(env["KNUTPUNKT_KEY_FILE"]).issue("browser", "system/*.rs")
    stop(proc)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(flag)
    from selenium.common.exceptions import WebDriverException

    for attempt in range(3):  # on a loaded 2-core machine Chromium can miss chromedriver's start-up window
        try:
            driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
            break
        except WebDriverException:
            if attempt == 2:
                raise
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _submit(browser) -> None:  # type: ignore[no-untyped-def]
    """Click the form's button and wait for the next page to replace this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(ec.staleness_of(old))
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))


def test_validator_page_in_a_browser(hub_url, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    url, token = hub_url
    browser.get(url + "/validator")
    assert "token" in browser.page_source.lower()
    browser.find_element(By.ID, "token").send_keys(token)
    _submit(browser)
    area = browser.find_element(By.ID, "resource")
    area.send_keys('{"resourceType": "AllergyIntolerance", "criticality": "extreme"}')
    _submit(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert rows, browser.page_source[:2000]
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Invalid" in text and "patient" in text and "criticality" in text
    area = browser.find_element(By.ID, "resource")
    area.clear()
    area.send_keys('<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>')
    _submit(browser)
    assert "Invalid" not in browser.find_element(By.TAG_NAME, "body").text
