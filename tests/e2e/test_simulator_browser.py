"""The simulator page in a real browser: Debian's Chromium driven by Playwright.

The browser comes from the system package manager (`apt-get install chromium`), never from a
Playwright download; the test fails — it does not skip — when it is missing, naming the command.
It plays what every conversation offers whatever its wording (a greeting, a menu, a tap, the
clock), and keeps a screenshot in var/screenshots/ as the run's artefact.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.seed.seeder import seed_demo
from tests.e2e.test_simulator import SimServer, start_simulator
from tests.support import ROOT, Db
from tests.timing import START_S, WAIT_S

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
WAIT_MS = WAIT_S * 1000  # Playwright counts in milliseconds


@pytest.fixture
def demo(pg: Db, tmp_path: Path) -> Iterator[SimServer]:
    seed_demo(pg.factory, tmp_path / "media")
    server, stop = start_simulator(pg, tmp_path / "media")
    yield server
    stop()


@pytest.fixture
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is required: apt-get update && apt-get install -y chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the playwright package is required: pip install -e '.[dev]'")
    # Every expect() without its own timeout waits as long as the rest of the suite, not
    # Playwright's 5 s: a reply shows once the webhook's turn and the send are done.
    expect.set_options(timeout=WAIT_MS)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=START_S * 1000
            )
            yield chromium
            chromium.close()
    finally:
        expect.set_options(timeout=None)


def test_three_phones_talk_to_the_bot_in_the_browser(demo: SimServer, browser: object) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1480, "height": 860})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{demo.base_url}/simulator/")

    buyer, seller, courier = (page.locator(f".phone.{k}") for k in ("wa", "tg", "sms"))
    expect(buyer.locator(".name")).to_have_text("Mariama Diallo")
    expect(seller.locator(".channel-tag")).to_have_text("Telegram")

    buyer.locator(".input").fill("bonjour")
    buyer.locator(".input").press("Enter")
    expect(buyer.locator(".bubble.in").first).to_contain_text("bonjour")
    expect(buyer.locator(".bubble.out").first).to_be_visible(timeout=WAIT_MS)
    expect(buyer.locator(".ticks").first).to_be_visible()

    seller.locator(".input").fill("/start")
    seller.locator(".input").press("Enter")
    expect(seller.locator(".bubble.out").first).to_be_visible(timeout=WAIT_MS)

    courier.locator(".input").fill("AIDE")
    expect(courier.locator(".counter")).to_contain_text("1 SMS")
    courier.locator(".input").press("Enter")
    expect(courier.locator(".sms-meta").first).to_contain_text(re.compile(r"segments? · GSM-7"))

    # Whatever menu the buyer got, tapping its first option goes through the webhook.
    option = buyer.locator(".wa-buttons button").first
    if option.count():
        option.click()
        rows = buyer.locator(".list-sheet .list-rows button")  # a list opens inside its phone
        if rows.count():
            rows.first.click()
        expect(buyer.locator(".bubble.in")).to_have_count(2)
        expect(buyer.locator(".webhook-error")).to_have_count(0)

    before = page.locator("#clock-now").inner_text()
    page.get_by_role("button", name="+24 h").click()
    expect(page.locator("#clock-now")).not_to_have_text(before)

    seller.locator(".phone-head").click()
    expect(page.locator("#panel-phone")).to_have_text(re.compile(r"^tg:\d+$"))
    expect(page.locator("#panel-body")).to_contain_text("Conversations")

    buyer.locator(".phone-head").click()
    expect(page.locator("#panel-body")).to_contain_text("Last outbox rows")
    page.wait_for_timeout(1500)  # let the ticks settle for the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "simulator.png"))
    assert errors == []


# ---------------------------------------------------------------------- the whole story


def _tap(page: Any, phone: Any, id_prefix: str) -> None:
    """Tap the newest button (WhatsApp reply, list row, Telegram inline) whose id starts so.

    Payload ids, not wording: the story survives a reworded message, and fails loudly when a
    step of the conversation disappears.
    """
    from playwright.sync_api import expect

    target = phone.locator(
        f'.wa-buttons button[data-id^="{id_prefix}"], .tg-keyboard button[data-id^="{id_prefix}"],'
        f' .wa-list-open[data-rows*="{id_prefix}"]'
    ).last
    expect(target).to_be_visible(timeout=WAIT_MS)
    before = phone.locator(".bubble.in").count()
    if "wa-list-open" in (target.get_attribute("class") or ""):
        target.click()
        phone.locator(f'.list-sheet button[data-id^="{id_prefix}"]').first.click()
    else:
        target.click()
    expect(phone.locator(".bubble.in")).to_have_count(before + 1)


def _type(phone: Any, text: str) -> None:
    phone.locator(".input").fill(text)
    phone.locator(".input").press("Enter")


def _shot(page: Any, name: str) -> None:
    page.wait_for_timeout(1200)  # ticks and the panel settle
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_the_whole_story_in_the_browser(demo: SimServer, browser: Any) -> None:
    """Order, accept, publish, courier by SMS, pickup, PIN, cash, review — all by clicking."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1480, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{demo.base_url}/simulator/")
    buyer, seller, courier = (page.locator(f".phone.{k}") for k in ("wa", "tg", "sms"))

    # The buyer finds a phone in the catalogue and orders it, cash on delivery.
    _type(buyer, "bonjour")
    _tap(page, buyer, "menu:catalog")
    _tap(page, buyer, "cat:")
    _tap(page, buyer, "prod:")
    _tap(page, buyer, "buy:")
    # A returning buyer may land on the summary at once (her usual address); else she picks.
    step = buyer.locator(
        '.wa-buttons button[data-id^="co:ok:"], .wa-buttons button[data-id^="addr:"],'
        ' .wa-list-open[data-rows*="addr:"]'
    ).last
    expect(step).to_be_visible(timeout=WAIT_MS)
    if not (step.get_attribute("data-id") or "").startswith("co:ok:"):
        _tap(page, buyer, "addr:")
    _tap(page, buyer, "co:ok:")
    pin_bubble = buyer.locator(".bubble.out", has_text=re.compile(r"PIN\D*\d{6}")).last
    expect(pin_bubble).to_be_visible(timeout=WAIT_MS)
    expect(pin_bubble.locator("img")).to_be_visible()  # the QR code
    pin = re.search(r"PIN\D*(\d{6})", pin_bubble.inner_text()).group(1)  # type: ignore[union-attr]

    # The seller accepts on Telegram and publishes the delivery to the couriers.
    _tap(page, seller, "o:a:")
    order_id = (
        seller.locator('.tg-keyboard button[data-id^="o:a:"]')
        .last.get_attribute("data-id")
        .split(":")[-1]
    )  # type: ignore[union-attr]
    _tap(page, seller, "d:p:")
    _tap(page, seller, "d:b:")
    _shot(page, "story-1-ordered.png")

    # The nearest courier gets the offer by SMS, accepts, picks up, delivers with the PIN.
    expect(courier.locator(".bubble.out", has_text=f"A{order_id}").last).to_be_visible(
        timeout=WAIT_MS
    )
    for command in (f"A{order_id}", f"P{order_id}", f"D{order_id} {pin}"):
        before = courier.locator(".bubble.out").count()
        _type(courier, command)
        expect(courier.locator(".bubble.out")).not_to_have_count(before, timeout=WAIT_MS)
    _shot(page, "story-2-delivered.png")

    # The buyer confirms the cash and leaves a review; the seller hears of it.
    _tap(page, buyer, f"cash:yes:{order_id}")
    _tap(page, buyer, f"rate:{order_id}:5")
    _type(buyer, "Très bon téléphone, livraison rapide")
    expect(seller.locator(".bubble.out", has_text="Très bon téléphone").last).to_be_visible(
        timeout=WAIT_MS
    )
    expect(buyer.locator(".ticks.read").first).to_be_visible()
    buyer.locator(".phone-head").click()
    expect(page.locator("#panel-body")).to_contain_text("Last outbox rows")
    _shot(page, "story-3-reviewed.png")
    assert errors == []


def test_the_buyer_orders_on_meta_then_the_switch_goes_back_to_twilio(
    demo: SimServer, browser: Any
) -> None:
    """The WhatsApp switch: the header says who carries WhatsApp, the pin answers Meta's
    location request, and Twilio takes over again from the next message."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1480, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{demo.base_url}/simulator/")
    switch = page.locator("#wa-provider")
    expect(page.locator(".phone.wa .channel-tag")).to_have_text("WhatsApp · Twilio")
    # A newcomer: no saved address, so checkout asks where to deliver.
    page.locator("#add-phone").select_option("new:buyer")
    buyer = page.locator(".phone.wa").last
    expect(page.locator(".phone.wa")).to_have_count(2)

    switch.get_by_role("button", name="Meta").click()
    expect(buyer.locator(".channel-tag")).to_have_text("WhatsApp · Meta")
    expect(switch.locator("button.active")).to_have_text("Meta")
    assert demo.rt.config.whatsapp.provider == "meta"

    _type(buyer, "bonjour")
    _tap(page, buyer, "menu:catalog")
    _tap(page, buyer, "cat:")
    _tap(page, buyer, "prod:")
    _tap(page, buyer, "buy:")
    _tap(page, buyer, "addr:pin")
    buyer.locator(".wa-location-request").last.click()  # WhatsApp's "Send location"
    page.locator(".quartier-list button").first.click()
    _tap(page, buyer, "co:ok:")
    pin_bubble = buyer.locator(".bubble.out", has_text=re.compile(r"PIN\D*\d{6}")).last
    expect(pin_bubble).to_be_visible(timeout=WAIT_MS)
    expect(pin_bubble.locator("img")).to_be_visible()  # the QR code
    assert demo.sim.store.meta_messages()  # it all went through the Graph emulator
    buyer.locator(".phone-head").click()
    expect(page.locator("#panel-body .provider-name")).to_have_text("Meta")
    expect(buyer.locator(".ticks.read").first).to_be_visible()
    _shot(page, "meta-ordered.png")

    switch.get_by_role("button", name="Twilio").click()
    expect(buyer.locator(".channel-tag")).to_have_text("WhatsApp · Twilio")
    expect(page.locator("#panel-body .provider-name")).to_have_text("Twilio")
    sent_by_twilio = len(demo.sim.store.twilio_messages())
    _type(buyer, "bonjour")
    demo.wait(lambda: len(demo.sim.store.twilio_messages()) > sent_by_twilio)
    assert errors == []
