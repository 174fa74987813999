"""The user's side, in a real browser: scripts/develop's demo driven through its frontend.

Starts the demo (tests/demo: real Home Assistant, the simulated home) the way
scripts/develop does, on a free port, and drives Debian's Chromium headless with
Playwright: log in as the demo user, find the discovered agent under Devices & services,
add it (it is paired: the Pair step refuses a wrong key, then takes the key the demo
printed), toggle its lamp on the device page (the agent's PWM pin follows), press its
button (the event shows in the logbook), rotate its key from its options (the new key
shown once is the one the board keeps; the lamp still obeys), add the router and open
its repair issue for the suspicious mapping. Screenshots go to the test's temporary directory, or to
docs/screenshots/ (the README shows them) with UPNP_GUARD_SCREENSHOTS=1. Then
the demo is stopped with SIGINT, as Ctrl-C does, and must leave no namespace behind.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.demo import pins
from tests.demo.hass import DEMO_PASSWORD, DEMO_USER
from tests.demo.home import SUSPICIOUS_PORT

from .demo_process import Demo, namespaces, start_demo, stop_demo

pytestmark = pytest.mark.lan

REPO = Path(__file__).resolve().parents[2]
# A test run must not rewrite tracked files: the README's pictures are refreshed on purpose.
SCREENSHOTS_IN_DOCS = os.environ.get("UPNP_GUARD_SCREENSHOTS") == "1"
CHROMIUM = "/usr/bin/chromium"
# Bounds for waiting (two shared cores), never timing checks.
UI_WAIT_MS = 60_000
JOURNEY_LIMIT_S = 600.0
SETTLE_MS = 600
VIEWPORT = {"width": 1280, "height": 800}
WRONG_KEY = base64.b64encode(bytes(32)).decode()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Generator[Demo]:
    _SHOTS[:] = [tmp_path_factory.mktemp("screenshots")]
    running = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield running
    finally:
        code = stop_demo(running)
    # Ctrl-C cleans up: exit 0, no namespace and no record left.
    assert code == 0, running.log.read_text()[-3000:]
    assert namespaces(running.prefix) == []
    assert not (running.state / "running.json").exists()


def shot(page: Page, name: str) -> None:
    folder = REPO / "docs" / "screenshots" if SCREENSHOTS_IN_DOCS else _SHOTS[0]
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(SETTLE_MS)  # dialogs fade in: a picture, not a check
    page.screenshot(path=str(folder / f"{name}.png"))


_SHOTS: list[Path] = []


def log_in(page: Page, demo: Demo) -> None:
    page.goto(demo.url + "/")
    page.get_by_label("Username").fill(DEMO_USER)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/home/**", timeout=UI_WAIT_MS)


def wait_state(demo: Demo, entity_id: str, state: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (demo.states().get(entity_id) or {}).get("state") != state:
        assert time.monotonic() < deadline, f"{entity_id} never became {state}"
        time.sleep(0.3)


# The demo's start counts too; generous for a loaded 2-core machine (about a minute idle).
@pytest.mark.timeout(600)
def test_user_journey_in_the_browser(demo: Demo, socket_enabled: None) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/setup (it installs Debian's chromium)")
    # The demo's pin driver listens on a unix socket; Home Assistant on 127.0.0.1.
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    # Playwright's sync API runs an event loop in its thread; pytest-asyncio's fixtures
    # need the main thread's free, so the browser lives in a thread of its own.
    failures: list[BaseException] = []

    def drive() -> None:
        try:
            with sync_playwright() as playwright:
                # --no-sandbox: Chromium's own sandbox needs user namespaces the chroot lacks.
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                try:
                    journey(browser, demo)
                finally:
                    browser.close()
        except BaseException as err:  # re-raised in the test's thread
            failures.append(err)

    thread = threading.Thread(target=drive, name="browser")
    thread.start()
    thread.join(JOURNEY_LIMIT_S)
    assert not thread.is_alive(), "the browser journey hung"
    if failures:
        raise failures[0]


def name_of(state: dict[str, Any]) -> str:
    return str(state["attributes"].get("friendly_name", ""))


def finish_flow(dialog: Locator) -> None:
    """The flow created its entry: close the naming step that follows."""
    finish = dialog.get_by_role("button", name=re.compile(r"finish", re.IGNORECASE))
    expect(finish).to_be_visible()
    finish.click()
    expect(dialog.get_by_role("button")).to_have_count(0)


def journey(browser: Browser, demo: Demo) -> None:
    expect.set_options(timeout=UI_WAIT_MS)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_WAIT_MS)
    try:
        steps(page, demo)
    except BaseException:
        page.screenshot(path=str(demo.state / "failure.png"))
        print(f"screenshot of the failure: {demo.state / 'failure.png'}")
        raise
    finally:
        page.close()


def steps(page: Page, demo: Demo) -> None:
    log_in(page, demo)

    # Devices & services: the agent was discovered over SSDP.
    page.goto(demo.url + "/config/integrations/dashboard")
    card = page.locator("ha-config-flow-card").filter(has_text="Hall light")
    expect(card).to_be_visible()
    expect(page.locator("ha-config-flow-card").filter(has_text="Climate board")).to_be_visible()
    shot(page, "01-discovered")

    # Add it: the discovery flow's confirmation, the Pair step (the agent is paired: it
    # obeys only its key), then the success dialog.
    card.get_by_role("button", name="Add").click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog).to_contain_text("Hall light")
    shot(page, "02-add-agent")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_contain_text("Pair with Hall light")
    key_field = dialog.get_by_role("textbox")
    # A well-formed key that is not this agent's: the agent refuses the signed read.
    key_field.fill(WRONG_KEY)
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_contain_text("The agent refused this key")
    assert not [e for e in demo.states() if e.startswith("light.")], "added with a wrong key"
    key_field.fill(demo.keys["Hall light"])
    shot(page, "03-pair-agent")
    dialog.get_by_role("button", name="Submit").click()
    finish_flow(dialog)

    # The device page: toggle the lamp, the state changes and the agent's pin follows.
    states = demo.states()
    lights = [e for e in states if e.startswith("light.") and "Lamp" in name_of(states[e])]
    assert len(lights) == 1, sorted(states)
    light = lights[0]
    assert demo.states()[light]["state"] == "off"
    device = demo.client.ws({"type": "config/entity_registry/get", "entity_id": light})[0][
        "device_id"
    ]
    page.goto(f"{demo.url}/config/devices/device/{device}")
    expect(page.get_by_text("Lamp").first).to_be_visible()
    toggle = page.locator("ha-entity-toggle").first
    expect(toggle.get_by_role("switch")).not_to_be_checked()
    toggle.click()
    wait_state(demo, light, "on")
    expect(toggle.get_by_role("switch")).to_be_checked()
    duty = pins.send(demo.pins, ["show"])["ok"]["light"]["18"]
    assert duty > 0, "the lamp's PWM pin stayed dark"

    # The button: a press on the board becomes an event in the logbook.
    pins.send(demo.pins, ["press"])
    buttons = [e for e in states if e.startswith("event.") and "Button" in name_of(states[e])]
    assert len(buttons) == 1, sorted(states)
    button = buttons[0]
    deadline = time.monotonic() + 60
    while demo.states()[button]["state"] in ("unknown", "unavailable"):
        assert time.monotonic() < deadline, "no button event"
        time.sleep(0.3)
    shot(page, "04-device")
    page.goto(f"{demo.url}/logbook?entity_id={button}")
    expect(page.locator("ha-logbook")).to_contain_text("Button")
    shot(page, "05-button-event")

    # Rotate the agent's key from its options (Configure): the new key is shown once,
    # it is the one the board now keeps, and the lamp still obeys Home Assistant.
    page.goto(demo.url + "/config/integrations/integration/upnp_guard")
    row = page.locator("ha-config-entry-row").filter(has_text="Hall light")
    row.get_by_role("button", name="Configure").click()
    dialog = page.locator("dialog-data-entry-flow")
    dialog.get_by_text("Install a new pairing key").click()  # the agent's options menu
    expect(dialog).to_contain_text("New key for Hall light")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_contain_text("The new key is shown only this once")
    code = dialog.locator("ha-markdown code").filter(has_text=re.compile(r"^[A-Za-z0-9+/]{43}=$"))
    expect(code).to_have_count(1)
    board_key = (demo.state / "light-state" / "key").read_text().strip()
    assert code.inner_text() == board_key != demo.keys["Hall light"]
    shot(page, "06-new-key")
    dialog.get_by_role("button", name="Submit").click()
    finish_flow(dialog)
    demo.client.ws(
        {
            "type": "call_service",
            "domain": "light",
            "service": "turn_off",
            "target": {"entity_id": light},
        }
    )
    wait_state(demo, light, "off")
    assert pins.send(demo.pins, ["show"])["ok"]["light"]["18"] == 0, "the lamp stayed lit"

    # The router: add it, its suspicious mapping becomes a repair issue.
    page.goto(demo.url + "/config/integrations/dashboard")
    router = (
        page.locator("ha-config-flow-card")
        .filter(has_text="Home router")
        .filter(has_text="UPnP Guard")
    )
    router.get_by_role("button", name="Add").click()
    dialog = page.locator("dialog-data-entry-flow")
    dialog.get_by_role("button", name="Submit").click()
    finish_flow(dialog)
    page.goto(demo.url + "/config/repairs")
    issue = page.get_by_text(str(SUSPICIOUS_PORT)).first
    expect(issue).to_be_visible()
    issue.click()
    repair = page.locator("dialog-data-entry-flow")
    expect(repair).to_contain_text(f"Port {SUSPICIOUS_PORT}/TCP is open on Home router")
    expect(repair).to_contain_text("Remove the mapping from the router")
    shot(page, "07-repair")
