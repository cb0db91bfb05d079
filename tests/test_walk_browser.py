"""Every page, walked in a real browser after a secretary's work (an answer, an abstention, plan rows
approved and rejected): on a phone nothing scrolls sideways, the navigation is whole and the lists
(documents, plan, audit) are cards that need no scrolling inside;
in Albanian no raw key of the code shows (kinds, actions, states, backend names, JSON keys), and in
either language no untranslated i18n key."""
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT

I18N = json.loads((ROOT / "web" / "i18n.json").read_text(encoding="utf-8"))
# Values the code keeps in English and the page must translate: the last part of the i18n keys
# that name them ("kind.other" -> "other"), unless the Albanian word is the same ("plan" -> "Plan",
# "nr" -> "Nr.").
VALUE_PREFIXES = ("kind.", "action.", "object.", "artifact.", "plan.state.", "plan.status.", "role.", "backend.",
                  "field.")


def letters(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold()


RAW_VALUES = {key[len(p):] for key in I18N for p in VALUE_PREFIXES
              if key.startswith(p) and letters(key[len(p):]) != letters(I18N[key]["sq"])}
KEYS = {key for key in I18N if "." in key}  # "plan.status" on a page is a translation that is missing
JSON_WORDS = {"null", "None", "True", "False", "true", "false", "undefined", "NaN"}
# Text that comes from documents and notes, not from the page: it may hold any word.
DOCUMENT_TEXT = ("blockquote, pre.input, .page-text, .quote, .answer, .question, .conversation-list a.open, "
                 "article.result > p, #draft, "
                 "#draft-source, textarea, table.plan td:nth-child(2), table.plan ol, .proposal p, .proposal ol")
PAGE_WORDS = """(skip) => {
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const host = n.parentElement;
    if (!host || host.closest(skip) || host.closest("script, style") || !host.checkVisibility()) continue;
    words.push(n.textContent);
  }
  for (const e of document.querySelectorAll("[title], [aria-label], [placeholder]"))
    for (const a of ["title", "aria-label", "placeholder"]) if (e.getAttribute(a)) words.push(e.getAttribute(a));
  return words.join(" ");
}"""
# The walk's own concerns (the other page tests decide on the rows of theirs).
CONCERNS = ("Takimi me banorët e lagjes Kodra, 12 mars.\n"
            "Banorët: vjedhje në banesa natën, 5 raste në dhjetor.\n"
            "Prindërit: mungon vendkalimi për këmbësorë te shkolla, 2 aksidente në shkurt.")
WIDE = """() => Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && e.checkVisibility() && !e.closest("table"))
  .slice(0, 3).map((e) => `${e.tagName}#${e.id}.${e.className}`)"""

TABLES = """() => Array.from(document.querySelectorAll("table.cards"))
  .filter((t) => t.checkVisibility() && (t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > innerWidth + 1))
  .map((t) => `${t.className} ${t.scrollWidth}`)"""


def raw_keys(text: str, lang: str) -> set[str]:
    """The i18n keys and (in Albanian) the code's raw values and JSON words that appear in `text`."""
    tokens = set(re.findall(r"[\w.:-]+", text))
    found = {t.strip(".:") for t in tokens} & KEYS
    if lang == "sq":
        found |= {t for t in tokens for w in (t, t.strip(".:")) if w in RAW_VALUES | JSON_WORDS}
        found |= {m for m in re.findall(r"\b\w+_\w+\b", text)}  # snake_case is a JSON key, never a word
    return found


@pytest.fixture(scope="module")
def walked(live_url, browser):
    """The session app after a round of work through its API and pages; the pages to walk."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(60_000)
    page.goto(live_url + "/")
    for n, question in enumerate(("Kush janë anëtarët e KVSP-së?", "Sa kushton një biletë avioni për në Tokio?"), 1):
        page.fill("#q", question)
        page.press("#q", "Enter")
        expect(page.locator(".turn.assistant .foot")).to_have_count(n)
    chat = "/?" + page.url.partition("?")[2]  # the chat page with the walk's saved conversation open
    # proposing reads the strategy for each concern: on a shared 2-core machine it takes longer than 30 s
    post = lambda path, body: page.request.post(live_url + path, data=body, timeout=180_000).json()  # noqa: E731
    proposal = post("/api/plan/propose", {"text": CONCERNS})
    rows = proposal["rows"]
    post(f"/api/plan/rows/{rows[0]['id']}/approve", {})
    post(f"/api/plan/rows/{rows[1]['id']}/reject", {"reason": "Mbulohet nga plani i policisë"})
    post(f"/api/plan/rows/{rows[0]['id']}/status", {"status": "in_progress", "note": "Filloi"})
    answer = page.request.post(live_url + "/api/ask", data={"question": "Kush e drejton KVSP-në?"}).json()
    documents = page.request.get(live_url + "/api/documents").json()["documents"]
    page.close()
    return [
        chat, "/search?q=policia+bashkiake", "/documents", f"/documents/{documents[0]['id']}?start=0&end=40",
        "/minutes", "/plan", "/audit", f"/trace/{answer['artifact_id']}", f"/trace/{documents[0]['id']}",
        f"/trace/{rows[0]['id']}", f"/trace/{rows[1]['id']}",
        f"/trace/{proposal['artifact_id']}?start={rows[0]['source']['start']}&end={rows[0]['source']['end']}",
    ]


def test_no_page_scrolls_sideways_on_a_phone_and_the_navigation_is_whole(live_url, browser, walked, tmp_path):
    shots = Path(os.environ.get("KVSP_SCREENSHOT_DIR") or tmp_path)  # docs/ on request, like the chat picture
    paths = walked
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path in paths:
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, (path, page.evaluate(WIDE))
        wide_tables = page.evaluate(TABLES)  # the lists are cards on a phone, read without scrolling
        assert not wide_tables, (path, wide_tables)
        for link in page.locator("header.top nav a").all():
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, link.inner_text())
            assert link.evaluate("a => a.scrollWidth <= a.clientWidth + 1"), (path, link.inner_text())  # not cut
        banner = page.locator(".banner")
        if banner.count():
            assert banner.bounding_box()["height"] <= 844 / 12, path  # one line, not a quarter of the screen
            assert not re.search(r"`|\bkvsp\s+\w+|--\w", banner.inner_text()), banner.inner_text()  # no command
        name = re.sub(r"\W+", "-", path.split("?")[0]).strip("-") or "chat"
        page.screenshot(path=str((ROOT / shots if not shots.is_absolute() else shots) / f"phone-{name}.png"))
    context.close()


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_no_raw_key_on_any_page(live_url, browser, walked, lang):
    paths = walked
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{live_url}/?lang={lang}")  # the choice is kept in a cookie for the pages that follow
    found = {}
    for path in paths:
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
        for details in page.locator("details:not(.raw)").all():  # sources behind a summary are words too
            details.evaluate("d => { d.open = true; }")
        raw = raw_keys(page.evaluate(PAGE_WORDS, DOCUMENT_TEXT), lang)
        if raw:
            found[path] = sorted(raw)
    context.close()
    assert not found
