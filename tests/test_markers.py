"""One set of list markers (ingest/albanian/markers.py): every reader takes the same signs and
numbering forms, on real text, Word and notes input."""
import io

import docx
import pytest

from assistant.meetings.notes import split_lines
from assistant.plan.extract import split_items
from ingest.albanian import markers
from ingest.formats.docx import parse_docx
from ingest.formats.text import parse_text

# one of each kind: drawn glyphs (a Wingdings code point among them), dashes, numbers, letters
# (an Albanian digraph letter too), roman numerals, bracketed forms
SAMPLES = ["•", "●", "▪", "➢", "✔", "→", "\uf0b7", "-", "–", "—", "1.", "2)", "(3)", "a)", "(b)", "dh)", "iv."]


def _kinds(doc) -> list[str]:
    return [b.kind for b in doc.blocks]


def _docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("marker", SAMPLES)
def test_text_and_word_readers_open_a_list_item_at_every_marker(marker):
    lead = "Mbledhja shqyrtoi këto çështje të sigurisë në lagje."
    lines = [lead, f"{marker} Ndriçimi i rrugës kryesore", f"{marker} Patrullimi i natës te shkolla"]
    text_doc = parse_text("\n".join(lines).encode(), "shenime")
    word_doc = parse_docx(_docx(lines), "shenime")
    assert _kinds(text_doc) == ["paragraph", "list_item", "list_item"]
    assert _kinds(word_doc)[-2:] == ["list_item", "list_item"]


def test_bracketed_enumerators_are_list_items_not_one_paragraph():
    doc = parse_text("Rendi i ditës\n\n(a) Sezoni turistik\n(b) Qentë endacakë\n(c) Të ndryshme\n".encode(), "rendi")
    items = [doc.block_text(b) for b in doc.blocks if b.kind == "list_item"]
    assert items == ["(a) Sezoni turistik", "(b) Qentë endacakë", "(c) Të ndryshme"]


def test_notes_lines_lose_every_marker_including_albanian_digraph_letters():
    notes = "dh) Policia raporton\n✔ V1 – miratohet plani\n- [x] 2. Bashkia pastron kanalet\nPa shenjë\n"
    assert [line.text for line in split_lines(notes)] == [
        "Policia raporton", "miratohet plani", "Bashkia pastron kanalet", "Pa shenjë"]


def test_plan_cells_split_at_the_same_signs():
    assert split_items("➢ Policia e Shtetit\n➢ Bashkia Elbasan\n➢ ZVA") == ["Policia e Shtetit", "Bashkia Elbasan", "ZVA"]
    assert split_items("(1) Fushata në shkolla\n(2) Patrullime") == ["Fushata në shkolla", "Patrullime"]


def test_a_dash_that_joins_words_or_signs_a_number_is_no_marker():
    assert not markers.ITEM.match("-5 gradë në mëngjes")
    assert not markers.ITEM.match("1.5 milion lekë")
    assert markers.ITEM.match("  – Policia e Shtetit")
