"""The simulator page as a first-time user meets it, in Debian's Chromium (issue 17).

What this file holds the page to: a chat follows what arrives to the bottom, an image included
(after the QR code, "Merci ! Commande enregistrée" and its buttons were out of view).
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
