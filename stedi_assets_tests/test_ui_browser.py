"""The Dagster UI in a real browser: Playwright drives Debian's Chromium, headless, against
`dagster dev` (webserver and daemon) on 127.0.0.1, as a person would use it.

The browser comes from scripts/ensure-chromium (installed with apt-get where it can be),
Playwright from the dev extra. Screenshots go to test-output/ui/ (named in the test's output).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stedi_assets.rules.contract import ZONE_OF_TABLE
from stedi_assets_tests.conftest import check_keys
from stedi_assets_tests.dagster_dev import ROOT, dagster_dev, dagster_env, graphql

pytestmark = [pytest.mark.ui, pytest.mark.pipeline]

SCREENSHOTS = ROOT / "test-output" / "ui"
STEDI = Path(sys.executable).with_name("stedi")
RUN_TIMEOUT = 600  # seconds: the whole pipeline on the small landing takes a minute or two
# Big enough that the whole lineage fits at a zoom where every node shows its full name.
LINEAGE_VIEWPORT = {"width": 2560, "height": 1700}
PAGE_VIEWPORT = {"width": 1600, "height": 1600}


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium (Playwright's own browser download is not always reachable)."""
    found = subprocess.run([str(ROOT / "scripts" / "ensure-chromium")],
                           capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"no browser for the UI test: {found.stderr.strip()}", pytrace=False)
    return found.stdout.strip().splitlines()[-1]


@pytest.fixture
def dagster_ui(small_landing, tmp_path):
    """`dagster dev` on a free port of 127.0.0.1 with its own instance and lake; its URL."""
    (tmp_path / "dagster_home").mkdir()
    env = dagster_env(STEDI_LANDING_URI=str(small_landing), STEDI_LAKE_URI=str(tmp_path / "lake"),
                      STEDI_HOME=str(tmp_path / "stedi"),
                      DAGSTER_HOME=str(tmp_path / "dagster_home"))
    with dagster_dev(env, tmp_path / "dagster-dev.log") as url:
        yield url


def test_materialize_everything_from_the_ui(dagster_ui, chromium, capsys, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = dagster_ui
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    checks_of = {table: sum(1 for key in check_keys() if key.asset_key.path[-1] == table)
                 for table in ZONE_OF_TABLE}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport=LINEAGE_VIEWPORT)
            # A fresh instance greets a person with a newsletter dialog over the page.
            page.add_locator_handler(page.get_by_role("button", name="Skip"),
                                     lambda skip: skip.click())

            # The lineage shows all nine tables.
            page.goto(f"{url}/asset-groups")
            _expand_all_groups(page)
            for table in ZONE_OF_TABLE:
                expect(_graph_node(page, table)).to_be_visible(timeout=120_000)

            # Materialize all, and follow the run the toast links to.
            page.get_by_role("button", name="Materialize all").click()
            run_link = page.locator('a[href*="/runs/"]').first
            expect(run_link).to_be_visible(timeout=60_000)
            run_id = run_link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
            run_link.click()
            status = _wait_for_run(url, run_id)
            assert status == "SUCCESS", f"run {run_id} ended {status}: {_failed_steps(url, run_id)}"
            expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=60_000)

            # Every check passed, as the lineage shows it ("4 / 4 Passed") ...
            page.goto(f"{url}/asset-groups")
            _expand_all_groups(page)
            for table, checks in checks_of.items():
                node = _graph_node(page, table)
                expect(node).to_contain_text("Materialized", timeout=60_000)
                if checks:
                    expect(node).to_contain_text(f"{checks} / {checks} Passed", timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "lineage.png"))

            # ... and as the API says, for this run's materializations.
            assert _check_results(url) == {
                (key.asset_key.path[-1], key.name): ("SUCCEEDED", True, run_id)
                for key in check_keys()}

            # The training table's page: what it is, where it lives, its columns, its rows.
            page.set_viewport_size(PAGE_VIEWPORT)
            page.goto(f"{url}/assets/machine_learning_curated")
            for text in ("stedi.machine_learning_curated", "data-engineering", "Row count",
                         "The customer's pseudonym"):
                expect(page.get_by_text(text).first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "machine_learning_curated.png"),
                            full_page=True)

            # The run's row accounting, drawn: on the training table's page, and on the page
            # `stedi report` writes of the same run.
            # (Markdown this long sits behind a link in the metadata table; it opens a dialog.)
            page.get_by_role("row", name=re.compile(r"^row_accounting\b")).get_by_text(
                "[Show Markdown]").click()
            picture = page.locator('img[alt="row accounting"]').first
            expect(picture).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1000)  # the dialog fades in: for the screenshot only
            page.screenshot(path=str(SCREENSHOTS / "row_accounting_in_the_ui.png"))
            page.keyboard.press("Escape")
            report = subprocess.run(
                [str(STEDI), "report", "--run", run_id, "--output-dir", str(tmp_path / "reports")],
                env=dagster_env(STEDI_HOME=str(tmp_path / "stedi"),
                                DAGSTER_HOME=str(tmp_path / "dagster_home")),
                capture_output=True, text=True, timeout=120)
            assert report.returncode == 0, report.stderr
            page.goto(Path(report.stdout.strip()).as_uri())
            expect(page.locator('img[alt="row accounting"]')).to_be_visible(timeout=30_000)
            page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nUI screenshots in {SCREENSHOTS}: lineage.png, machine_learning_curated.png, "
              "row_accounting_in_the_ui.png, report.png")


# --- The browser ---------------------------------------------------------------------------


def _graph_node(page, table: str):
    """The lineage graph's node of `table` (not the sidebar's entry)."""
    return page.locator("svg foreignObject").filter(
        has=page.get_by_text(table, exact=True)).first


def _expand_all_groups(page) -> None:
    """Opens every group of the lineage (landing, trusted, curated): collapsed, a group shows
    only its name and size."""
    from playwright.sync_api import TimeoutError as Timeout, expect

    # The graph's own settings, beside its zoom buttons (not the navigation's Settings).
    zoom_in = page.locator('[aria-label="zoom_in"]')
    expect(zoom_in).to_be_visible(timeout=120_000)
    settings = zoom_in.locator('xpath=ancestor::div[.//*[@aria-label="settings"]][1]').locator(
        '[aria-label="settings"]')
    expand = page.get_by_role("menuitem", name="Expand all groups")
    # The newsletter dialog can open over the menu at any moment; skipping it closes the
    # menu, so the menu is opened again.
    for attempt in range(3):
        try:
            settings.click()
            expect(expand.or_(page.get_by_role("menuitem", name="Collapse all groups"))
                   ).to_be_visible()
            if expand.count():
                expand.click(timeout=10_000)
            break
        except (Timeout, AssertionError):
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    page.keyboard.press("Escape")


# --- The server's GraphQL API --------------------------------------------------------------


def _wait_for_run(url: str, run_id: str) -> str:
    """The run's status once it ended (or the last one seen after RUN_TIMEOUT)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        status = graphql(url, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                         id=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED") or time.monotonic() > deadline:
            return status
        time.sleep(5)


def _failed_steps(url: str, run_id: str) -> list[str]:
    query = """query($id: ID!) { runOrError(runId: $id) { ... on Run {
        stepStats { stepKey status } } } }"""
    steps = graphql(url, query, id=run_id)["runOrError"]["stepStats"]
    return [step["stepKey"] for step in steps if step["status"] != "SUCCESS"]


def _check_results(url: str) -> dict:
    """(table, check) -> (status, passed, run id) of each check's latest execution."""
    query = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks {
        checks { name executionForLatestMaterialization {
            status runId evaluation { success } } } } } } }"""
    results = {}
    for node in graphql(url, query)["assetNodes"]:
        for check in node["assetChecksOrError"].get("checks", []):
            execution = check["executionForLatestMaterialization"] or {}
            evaluation = execution.get("evaluation") or {}
            results[(node["assetKey"]["path"][-1], check["name"])] = (
                execution.get("status"), evaluation.get("success"), execution.get("runId"))
    return results
