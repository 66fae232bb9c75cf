"""The marketer page in headless Chromium against a real `bentoml serve` guarded by an API key:
choose an action and a size, create the audience, read its numbers and curve, download it, see
campaign results. Uses Debian's chromium and chromedriver (scripts/chromium.sh); downloads nothing.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from campaigns.measurement import measure_campaign, save_measurement
from configs.schema import ServingConfig
from events.store import read_table
from serving.launcher import ServerProcess
from tests.pipeline import Pipeline

pytestmark = pytest.mark.e2e

KEY = "page-key"
SIZE = 250

webdriver = pytest.importorskip("selenium.webdriver")


@pytest.fixture(scope="module")
def service_url(trained_pipeline: Pipeline) -> Iterator[str]:
    config = ServingConfig(port=3919, reload_interval_s=0)
    env = {**trained_pipeline.env, "NUDGE_API_KEY": KEY}
    with ServerProcess(config, log_file=trained_pipeline.root / "serve-page.log", env=env) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("Debian chromium and chromedriver are not installed; run scripts/chromium.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(60)
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def measured_campaign(trained_pipeline: Pipeline) -> str:
    """A simulated campaign measured the way `nudge measure` records it, for the results table."""
    raw = trained_pipeline.data_dir / "raw"
    campaign_id = str(read_table(raw, "campaign_assignments")["campaign_id"].value_counts().index[0])
    root = trained_pipeline.data_dir / "campaigns"
    save_measurement(measure_campaign(campaign_id, raw, root), root / campaign_id, "already in the raw data")
    return campaign_id


def wait_for(chrome: Any, condition: Any, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, timeout).until(condition)


def count(shown: str) -> int:
    return int(shown.replace(",", ""))


def text(chrome: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(chrome.find_element(By.ID, element_id).text)


def test_marketer_builds_an_audience_in_the_browser(
    service_url: str, browser: Any, measured_campaign: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    chrome = browser
    chrome.get(f"{service_url}/marketer")
    # The page itself is open; what it reads needs the key, and it says so.
    wait_for(chrome, lambda c: "API key" in text(c, "status"))
    key = chrome.find_element(By.ID, "api-key")
    key.send_keys(KEY)
    chrome.find_element(By.ID, "holdout").click()  # key change event
    wait_for(chrome, lambda c: c.find_elements(By.CSS_SELECTOR, "#action option[value=welcome_coupon]"))
    Select(chrome.find_element(By.ID, "action")).select_by_value("welcome_coupon")
    size = chrome.find_element(By.ID, "limit-value")
    size.clear()
    size.send_keys(str(SIZE))
    chrome.find_element(By.ID, "create").click()
    wait_for(
        chrome,
        lambda c: (
            text(c, "status").startswith("Launched")
            or "error" in c.find_element(By.ID, "status").get_attribute("class")
        ),
    )
    assert text(chrome, "status").startswith("Launched welcome_coupon-"), text(chrome, "status")

    # The audience is the SIZE best, or every customer worth contacting when fewer are.
    profitable, eligible = (count(v) for v in text(chrome, "s-reach").split(" / "))
    size = count(text(chrome, "s-size"))
    assert size == min(SIZE, profitable) and 0 < profitable <= eligible
    treated, holdout = (count(v) for v in text(chrome, "s-arms").split(" / "))
    assert treated + holdout == size and 0 < holdout < size / 4
    assert float(text(chrome, "s-conversions").replace(",", "")) > 0
    assert float(text(chrome, "s-cost").replace(",", "")) > 0
    assert text(chrome, "s-roi").endswith("%") and text(chrome, "s-mde").endswith("pts")
    curve = chrome.find_element(By.ID, "curve-line").get_attribute("d")
    assert curve.startswith("M") and curve.count("L") >= 20
    assert chrome.find_elements(By.ID, "curve-cut")

    link = chrome.find_element(By.ID, "download")
    assert link.is_displayed()
    href = link.get_attribute("href")
    assert httpx.get(href, timeout=30).status_code == 401
    download = httpx.get(href, headers={"X-API-Key": KEY}, timeout=30)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    audience = pd.read_csv(io.StringIO(download.text))
    assert len(audience) == size and set(audience["arm"]) == {"treatment", "holdout"}
    # The link itself works in the browser too: it fetches with the key and saves the file.
    fetched = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {'X-API-Key': arguments[1]}}).then(r => r.text()).then(done);",
        href,
        KEY,
    )
    assert fetched == download.text

    wait_for(
        chrome,
        lambda c: c.find_elements(By.CSS_SELECTOR, f"#results tr[data-campaign='{measured_campaign}']"),
    )
    row = chrome.find_element(By.CSS_SELECTOR, f"#results tr[data-campaign='{measured_campaign}']")
    assert row.text.count("[") >= 3 and ("closed" in row.text or "interim" in row.text), row.text
    chrome.save_screenshot(str(tmp_path / "marketer.png"))


def test_page_shows_request_errors(service_url: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    chrome = browser
    chrome.find_element(By.ID, "by-budget").click()
    budget = chrome.find_element(By.ID, "limit-value")
    budget.clear()
    budget.send_keys("0.01")  # less than one contact costs
    chrome.find_element(By.ID, "preview").click()
    wait_for(chrome, lambda c: c.find_element(By.ID, "status").get_attribute("class") == "error")
    assert "400" in text(chrome, "status") and "no customer qualifies" in text(chrome, "status")


def test_audience_api_errors_are_clear_4xx(service_url: str) -> None:
    headers = {"X-API-Key": KEY}
    cases = [
        ({"action": "teleport", "size": 5}, "unknown action"),
        ({"action": "welcome_coupon"}, "exactly one of size or budget"),
        ({"action": "welcome_coupon", "size": 5, "budget": 3.0}, "exactly one of size or budget"),
        ({"action": "welcome_coupon", "size": 5, "campaign_id": "../etc"}, "campaign_id"),
    ]
    for body, fragment in cases:
        response = httpx.post(f"{service_url}/audiences", json=body, headers=headers, timeout=60)
        assert 400 <= response.status_code < 500 and fragment in response.text, (body, response.text)
    assert (
        httpx.get(f"{service_url}/campaigns/nope/audience.csv", headers=headers, timeout=10).status_code
        == 404
    )
    results = httpx.get(f"{service_url}/campaigns/results", headers=headers, timeout=10)
    assert results.status_code == 200 and isinstance(results.json(), list)
