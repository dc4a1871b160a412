"""The Dagster UI in a real browser: Playwright drives Debian's Chromium, headless, against
`dagster dev` (webserver and daemon) on 127.0.0.1, as a person would use it.

The browser comes from scripts/ensure-chromium (installed with apt-get where it can be),
Playwright from the dev extra. Screenshots go to test-output/ui/ (named in the test's output).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from stedi_assets.contract import ZONE_OF_TABLE
from stedi_assets_tests.conftest import check_keys

pytestmark = [pytest.mark.ui, pytest.mark.pipeline]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "test-output" / "ui"
SERVER_START_TIMEOUT = 180  # seconds: the code location loads pyspark and dagster
RUN_TIMEOUT = 600  # seconds: the whole pipeline on the small landing takes a minute or two
# Big enough that the whole lineage fits at a zoom where every node shows its full name.
LINEAGE_VIEWPORT = {"width": 2560, "height": 1700}
PAGE_VIEWPORT = {"width": 1600, "height": 1600}
# What the webserver's environment keeps of ours: where the jars are cached, nothing that
# changes what a run does.
KEPT_SETTINGS = ("STEDI_JARS", "STEDI_JAR_CACHE")


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
    port = _free_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("STEDI_") or name in KEPT_SETTINGS}
    env.pop("DAGSTER_HOME", None)
    env.update(STEDI_LANDING_URI=str(small_landing), STEDI_LAKE_URI=str(tmp_path / "lake"),
               STEDI_HOME=str(tmp_path / "stedi"), DAGSTER_HOME=str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    log_path = tmp_path / "dagster-dev.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "stedi_assets",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: stopped with all it started
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, server, log_path)
        yield url
    finally:
        _stop(server)


def test_materialize_everything_from_the_ui(dagster_ui, chromium, capsys):
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
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nUI screenshots: {SCREENSHOTS}/lineage.png, "
              f"{SCREENSHOTS}/machine_learning_curated.png")


# --- The browser ---------------------------------------------------------------------------


def _graph_node(page, table: str):
    """The lineage graph's node of `table` (not the sidebar's entry)."""
    return page.locator("svg foreignObject").filter(
        has=page.get_by_text(table, exact=True)).first


def _expand_all_groups(page) -> None:
    """Opens every group of the lineage (landing, trusted, curated): collapsed, a group shows
    only its name and size."""
    from playwright.sync_api import expect

    # The graph's own settings, beside its zoom buttons (not the navigation's Settings).
    zoom_in = page.locator('[aria-label="zoom_in"]')
    expect(zoom_in).to_be_visible(timeout=120_000)
    zoom_in.locator('xpath=ancestor::div[.//*[@aria-label="settings"]][1]').locator(
        '[aria-label="settings"]').click()
    expand = page.get_by_role("menuitem", name="Expand all groups")
    expect(expand.or_(page.get_by_role("menuitem", name="Collapse all groups"))).to_be_visible()
    if expand.count():
        expand.click()
    page.keyboard.press("Escape")


# --- The server and its GraphQL API --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_server(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster dev exited ({server.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    pytest.fail(f"dagster dev did not answer within {SERVER_START_TIMEOUT} s:\n{_tail(log)}")


def _stop(server: subprocess.Popen) -> None:
    """Asks `dagster dev` to stop as Ctrl-C does; whatever of its group is left is killed."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)  # the webserver, daemon, code servers, runs
    except ProcessLookupError:
        pass
    server.wait()


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _graphql(url: str, query: str, **variables) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", json.dumps({"query": query, "variables": variables}).encode(),
        {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        reply = json.load(answer)
    assert "errors" not in reply, reply["errors"]
    return reply["data"]


def _wait_for_run(url: str, run_id: str) -> str:
    """The run's status once it ended (or the last one seen after RUN_TIMEOUT)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        status = _graphql(url, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                          id=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED") or time.monotonic() > deadline:
            return status
        time.sleep(5)


def _failed_steps(url: str, run_id: str) -> list[str]:
    query = """query($id: ID!) { runOrError(runId: $id) { ... on Run {
        stepStats { stepKey status } } } }"""
    steps = _graphql(url, query, id=run_id)["runOrError"]["stepStats"]
    return [step["stepKey"] for step in steps if step["status"] != "SUCCESS"]


def _check_results(url: str) -> dict:
    """(table, check) -> (status, passed, run id) of each check's latest execution."""
    query = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks {
        checks { name executionForLatestMaterialization {
            status runId evaluation { success } } } } } } }"""
    results = {}
    for node in _graphql(url, query)["assetNodes"]:
        for check in node["assetChecksOrError"].get("checks", []):
            execution = check["executionForLatestMaterialization"] or {}
            evaluation = execution.get("evaluation") or {}
            results[(node["assetKey"]["path"][-1], check["name"])] = (
                execution.get("status"), evaluation.get("success"), execution.get("runId"))
    return results
