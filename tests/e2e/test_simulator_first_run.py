"""The simulator page as a first-time user meets it, in Debian's Chromium (issue 17).

What this file holds the page to: a chat follows what arrives to the bottom, an image included
(after the QR code, "Merci ! Commande enregistrée" and its buttons were out of view); adding a
phone leaves the other chats where they were scrolled; more than four phones wrap into rows
instead of a strip to scroll sideways; a WhatsApp list opens inside its phone, as on WhatsApp.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e import test_simulator_browser as shared
from tests.e2e.test_simulator import SimServer
from tests.e2e.test_simulator_browser import WAIT_MS, _tap, _type

# The browser test's fixtures: the seeded simulator server, and Chromium.
demo = shared.demo
browser = shared.browser

# The last thing in the chat is inside the visible part of the screen, every image loaded.
_SHOWS_THE_END = """screen => {
  const last = screen.lastElementChild;
  if (!last) return false;
  if (![...screen.querySelectorAll("img")].every((img) => img.complete && img.naturalHeight))
    return false;
  return last.getBoundingClientRect().bottom <= screen.getBoundingClientRect().bottom + 1;
}"""


def _open(browser: Any, demo: SimServer, width: int = 1480) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{demo.base_url}/simulator/")
    return page, errors


def test_the_chat_follows_the_qr_code_to_the_bottom(demo: SimServer, browser: Any) -> None:
    from playwright.sync_api import expect

    page, errors = _open(browser, demo)
    buyer = page.locator(".phone.wa")
    _type(buyer, "bonjour")
    _tap(page, buyer, "menu:catalog")
    _tap(page, buyer, "cat:")
    _tap(page, buyer, "prod:")
    _tap(page, buyer, "buy:")
    step = buyer.locator(
        '.wa-buttons button[data-id^="co:ok:"], .wa-buttons button[data-id^="addr:"],'
        ' .wa-list-open[data-rows*="addr:"]'
    ).last
    expect(step).to_be_visible(timeout=WAIT_MS)
    if not (step.get_attribute("data-id") or "").startswith("co:ok:"):
        _tap(page, buyer, "addr:")
    _tap(page, buyer, "co:ok:")
    qr = buyer.locator(".bubble.out", has_text=re.compile(r"PIN\D*\d{6}")).last.locator("img")
    expect(qr).to_be_visible(timeout=WAIT_MS)
    # The image has loaded, and the end of the chat (what followed the QR) is in view.
    page.wait_for_function(_SHOWS_THE_END, arg=buyer.locator(".screen").element_handle())
    last = buyer.locator(".screen > *").last
    expect(last).to_be_in_viewport()
    assert errors == []


def test_adding_a_phone_keeps_the_other_chats_scroll(demo: SimServer, browser: Any) -> None:
    from playwright.sync_api import expect

    page, errors = _open(browser, demo)
    buyer = page.locator(".phone.wa").first
    screen = buyer.locator(".screen")
    _type(buyer, "bonjour")
    _tap(page, buyer, "menu:catalog")
    _tap(page, buyer, "cat:")
    _tap(page, buyer, "prod:")  # the product card, with its photo: a chat taller than the screen
    page.wait_for_function(_SHOWS_THE_END, arg=screen.element_handle())
    page.wait_for_function("s => s.scrollTop > 200", arg=screen.element_handle())
    # She scrolls up a little to read again; then someone else joins.
    screen.evaluate("s => { s.scrollTop = Math.floor(s.scrollTop / 2); }")
    read_at = screen.evaluate("s => s.scrollTop")

    page.locator("#add-phone").select_option("new:buyer")
    expect(page.locator(".phone")).to_have_count(4)
    expect(page.locator(".phone").last.locator(".bubble")).to_have_count(0)
    page.wait_for_timeout(1500)  # a poll round or two: a redraw must not move her either
    assert screen.evaluate("s => s.scrollTop") == read_at
    assert errors == []


def test_more_than_four_phones_wrap_into_rows(demo: SimServer, browser: Any) -> None:
    from playwright.sync_api import expect

    page, errors = _open(browser, demo, width=1920)
    page.locator("#add-phone").select_option("new:buyer")
    expect(page.locator(".phone")).to_have_count(4)
    page.locator("#add-phone").select_option("new:courier")
    expect(page.locator(".phone")).to_have_count(5)

    # Five phones at 1920 px: four in the first row, the fifth below, nothing to scroll sideways.
    # Page coordinates, all read at once: adding a phone scrolls the page smoothly to it.
    boxes = page.locator(".phone").evaluate_all(
        "ps => ps.map(p => { const r = p.getBoundingClientRect();"
        " return [r.top + window.scrollY, r.right + window.scrollX]; })"
    )
    tops = [round(top) for top, _ in boxes]
    assert len(set(tops[:4])) == 1 and tops[4] > tops[0] + 300, tops
    assert page.locator("#phones").evaluate("p => p.scrollWidth <= p.clientWidth + 1")
    assert all(right <= page.viewport_size["width"] for _, right in boxes)  # type: ignore[index]
    assert errors == []


def test_a_whatsapp_list_opens_inside_its_phone(demo: SimServer, browser: Any) -> None:
    from playwright.sync_api import expect

    page, errors = _open(browser, demo)
    buyer = page.locator(".phone.wa")
    _type(buyer, "bonjour")
    opener = buyer.locator(".wa-list-open").last
    expect(opener).to_be_visible(timeout=WAIT_MS)
    first_id = (opener.get_attribute("data-rows") or "").split()[0]
    opener.click()

    row = page.locator(f'button[data-id="{first_id}"]:visible').first
    expect(row).to_be_visible()
    phone, box = buyer.bounding_box(), row.bounding_box()
    assert phone is not None and box is not None
    assert phone["x"] <= box["x"] and box["x"] + box["width"] <= phone["x"] + phone["width"]
    assert phone["y"] <= box["y"] and box["y"] + box["height"] <= phone["y"] + phone["height"]
    expect(page.locator("#modal")).to_be_hidden()

    before = buyer.locator(".bubble.in").count()
    row.click()
    expect(buyer.locator(".bubble.in")).to_have_count(before + 1)
    expect(buyer.locator(f'button[data-id="{first_id}"]:visible')).to_have_count(0)
    assert errors == []
