"""A real browser on the real app: ask in the chat page, click a citation, see the quote
highlighted in the document viewer; conversations saved on the server, listed, opened again and
deleted. Debian's chromium driven by Playwright."""
import json
import os
import re
from pathlib import Path

import pytest

from assistant.core.services import Services
from tests.conftest import ROOT
from tests.llm_standin import ChatStandIn, serving

SQ = {k: v["sq"] for k, v in json.loads((ROOT / "web" / "i18n.json").read_text(encoding="utf-8")).items()}


def test_ask_click_citation_and_see_the_quote_highlighted(live_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(live_url + "/")
    assert page.locator("button.example").count() >= 3  # the empty state offers examples
    page.fill("#q", "Kush janë anëtarët e KVSP-së?")
    page.press("#q", "Enter")  # Enter sends
    answer = page.locator(".turn.assistant .answer:not(.streaming)").first
    answer.locator("a.chip").first.wait_for(timeout=30_000)
    assert not re.search(r"\[\d+\]", answer.inner_text())  # markers became chips
    source = page.locator(".turn.assistant .sources li").first
    quote = " ".join(source.locator("blockquote").inner_text().split())
    assert quote
    # The README's screenshot is refreshed on request only, so a test run leaves the tree clean:
    # KVSP_SCREENSHOT=docs/chat.png .venv/bin/python -m pytest tests/test_chat_browser.py
    shot = Path(os.environ.get("KVSP_SCREENSHOT") or tmp_path / "chat.png")
    page.screenshot(path=str(ROOT / shot if not shot.is_absolute() else shot))

    answer.locator("a.chip").first.focus()  # chips are focusable; Enter follows the link
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents/**")
    mark = page.locator("mark#hl")
    mark.wait_for()
    highlighted = " ".join("".join(page.locator("mark").all_inner_texts()).split())
    assert quote in highlighted
    box = mark.bounding_box()
    assert box and 0 <= box["y"] < 900  # scrolled into view
    assert page.locator(".viewer-page.current mark#hl").count() == 1  # on the page that holds it

    page.go_back()  # the address names the saved conversation: back, it opens again
    page.locator(".turn.assistant a.chip").first.wait_for()
    assert page.locator(".turn.user").count() == 1
    page.close()


def test_the_conversation_is_saved_listed_after_a_reload_and_opens_again(live_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(live_url + "/")
    asked = []
    page.on("request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None)
    page.fill("#q", "Kush janë anëtarët e KVSP-së?")
    page.press("#q", "Enter")
    page.locator(".turn.assistant .answer:not(.streaming) a.chip").first.wait_for(timeout=30_000)
    conversation = asked[0]["conversation_id"]
    assert asked == [{"question": "Kush janë anëtarët e KVSP-së?", "conversation_id": conversation}]
    # a follow-up goes with the conversation's id only: the server reads it with its record
    page.fill("#q", "Po sa shpesh mblidhet?")
    page.press("#q", "Enter")
    follow = page.locator(".turn.assistant").nth(1)
    follow.locator(".foot").wait_for(timeout=30_000)
    assert asked[1] == {"question": "Po sa shpesh mblidhet?", "conversation_id": conversation}
    assert "Lexuar bashkë me pyetjen e mëparshme" in follow.inner_text() and follow.locator("a.chip").count() >= 1

    page.reload()  # the address names the conversation: a reload opens it again
    expect(page.locator(".turn.user")).to_have_count(2)
    listed = page.locator(f'#conversation-list a.open[data-id="{conversation}"]')
    expect(listed).to_have_text("Kush janë anëtarët e KVSP-së?")
    expect(listed).to_have_attribute("aria-current", "true")
    copy = page.locator(".turn.assistant button.copy").first
    assert copy.inner_text() == "Kopjo"
    copy.click()
    expect(page.locator(".turn.assistant button.copy").first).to_have_text("U kopjua")  # after the clipboard write

    page.click("#new-chat")  # a new conversation: an empty page, the old one still listed
    expect(page.locator(".turn")).to_have_count(0)
    assert "c=" not in page.url
    page.goto(live_url + "/")  # nothing kept in the browser: the list comes from the server
    assert page.evaluate("localStorage.getItem('kvsp-chat')") is None
    listed.click()
    expect(page.locator(".turn.user")).to_have_count(2)
    expect(page.locator(".turn.assistant").first.locator("a.chip").first).to_be_visible()
    assert f"c={conversation}" in page.url

    item = page.locator("#conversation-list li", has=page.locator(f'a.open[data-id="{conversation}"]'))
    item.locator("button.delete").click()
    item.locator("button.confirm-yes").click()
    expect(listed).to_have_count(0)
    expect(page.locator(".turn")).to_have_count(0)  # the open conversation went with it
    page.reload()
    expect(page.locator(f'#conversation-list a.open[data-id="{conversation}"]')).to_have_count(0)
    context.close()


def test_on_a_phone_the_conversations_are_a_menu(live_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_url + "/")
    page.fill("#q", "Sa shpesh mblidhet KVSP-ja?")
    page.press("#q", "Enter")
    page.locator(".turn.assistant .foot").wait_for(timeout=30_000)
    menu = page.locator("button#menu")
    expect(page.locator("#conversations")).to_be_hidden()  # the chat has the whole width
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#conversations")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.locator("#new-chat").click()
    expect(page.locator("#conversations")).to_be_hidden()
    expect(page.locator(".turn")).to_have_count(0)
    context.close()


def test_regenerate_asks_again_in_place_and_an_abstention_lists_no_passages(live_url, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_url + "/")
    page.fill("#q", "Kush janë anëtarët e KVSP-së?")
    page.press("#q", "Enter")
    answer = page.locator(".turn.assistant").first
    answer.locator(".foot a.trace").wait_for(timeout=30_000)
    first = answer.locator("a.trace").get_attribute("href")
    asked = []
    page.on("request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None)
    answer.locator("button.regenerate").click()
    expect(answer.locator("a.trace")).not_to_have_attribute("href", first, timeout=30_000)  # a new answer, stored anew
    conversation = asked[0]["conversation_id"]
    turn = asked[0]["turn_id"]  # the turn is asked again in place: read with the turns before it, none here
    assert asked == [{"question": "Kush janë anëtarët e KVSP-së?", "conversation_id": conversation, "turn_id": turn}]
    assert page.locator(".turn.user").count() == 1 and page.locator(".turn.assistant").count() == 1
    again = answer.locator("a.trace").get_attribute("href")
    page.reload()
    assert page.locator(".turn.assistant a.trace").get_attribute("href") == again  # replaced, not appended
    assert page.locator(".turn.user").count() == 1

    page.fill("#q", "Sa kushton një biletë avioni për në Tokio?")
    page.press("#q", "Enter")
    abstention = page.locator(".turn.assistant").nth(1)
    abstention.locator(".foot").wait_for(timeout=30_000)
    assert abstention.locator(".answer.abstained").count() == 1
    assert abstention.locator(".sources li, a.chip, .sources-title").count() == 0  # no unrelated passages as sources
    search = abstention.locator("a.search-instead")
    assert search.inner_text() == "Kërkoni vetë në dokumente"
    search.click()
    page.wait_for_url("**/search?q=*")
    assert page.locator("input[type=search]").input_value() == "Sa kushton një biletë avioni për në Tokio?"
    context.close()


class Scripted(ChatStandIn):
    """A model that writes `script`, whatever it is asked."""
    script = ""

    def reply(self, user: str, body: dict) -> str:
        return self.script


@pytest.fixture()
def llm_live_url(services):
    """The app over the ingested corpus with a scripted stand-in model, behind a real HTTP server."""
    from tests.conftest import serving as serve_app
    from web.app import create_app

    with serving(Scripted, "") as url:
        settings = services.settings.model_copy(update={"llm_url": url, "llm_model": "stand-in"})
        with_model = Services(settings=settings, store=services.store, embedder=services.embedder,
                              retriever=services.retriever)
        yield from serve_app(create_app(settings, with_model))


def test_the_models_draft_streams_and_a_rejected_one_is_replaced_and_said(llm_live_url, browser):
    from playwright.sync_api import expect

    Scripted.token_delay, Scripted.script = 0.15, "KVSP-ja ka 40 anëtarë nga qyteti i Parisit [1]."
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(llm_live_url + "/")
    page.fill("#q", "Kush janë anëtarët e KVSP-së?")
    page.press("#q", "Enter")
    answer = page.locator(".turn.assistant").first
    expect(answer.locator(".answer.streaming")).to_contain_text("40 anëtarë", timeout=30_000)  # as the model writes
    answer.locator(".foot").wait_for(timeout=30_000)
    expect(answer.locator(".check")).to_have_text(SQ["chat.check.rejected"])
    assert "40" not in answer.locator(".answer").inner_text() and answer.locator("a.chip").count() >= 1
    assert "pa model gjuhësor" in answer.locator(".foot").inner_text()  # the extractive answer stands
    page.close()
