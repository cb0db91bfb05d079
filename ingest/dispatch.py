"""Pick the parser for a file (magic bytes first, extension second) and guess its title and kind.

The filename is only read for its extension and stem: it is never used as a path.
"""
import io
import re
import zipfile

from ingest.albanian.folding import fold
from ingest.model import IngestError, ParsedDocument

TEXT_EXTENSIONS = {"txt", "text", "md", "markdown", "html", "htm"}
SUPPORTED = "supported: PDF, DOCX, TXT, MD"

# Words that name a kind of council document (regular expressions over folded text). A word in
# the title or the file name counts most, then one in the headings, the opening lines or a table
# header, then one in the text.
KIND_WORDS = {
    "minutes": (r"proces ?-?verbal", r"\bminutes\b", r"\bmbledhja nr", r"\brendi i dites\b"),
    "regulation": (r"\brregullor", r"\bregulation", r"\bneni 1\b", r"dispozita te pergjithshme"),
    "strategy": (r"\bstrategji", r"\bstrategy", r"\bobjektivi specifik", r"\bpolitika \d"),
    "plan": (r"\bplan(i|in|it|et|e)?\b", r"\bplan-?veprim", r"problematika e identifikuar",
             r"institucioni pergjegjes"),
    "notes": (r"\bshenime\b", r"\bshenim pune\b", r"\bnotes\b", r"\bmban shenimet\b"),
    "guide": (r"\budherrefyes", r"\budhezues", r"\bdoracak", r"\bguide\b", r"\bmanual\b"),
    "slides": (r"\bprezantim", r"\bslides?\b", r"\bpresentation\b"),
    "invitation": (r"\bftese\b", r"\binvitation\b", r"\btryeze diskutimi\b", r"\baxhenda\b", r"\bagenda\b"),
}


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def _stem(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name.strip(".") else name


def _is_word_zip(data: bytes) -> bool:
    try:
        return "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def parse_file(filename: str, data: bytes, **pdf_options) -> ParsedDocument:
    """Parse uploaded bytes into a ParsedDocument titled by guess_title. `pdf_options` go to
    ingest.formats.pdf.parse_pdf (ocr_lang, ocr_workers, progress, ocr_cache_dir)."""
    if not data or not data.strip():
        raise IngestError("empty_file", f"{_stem(filename) or 'the file'}: the file is empty")
    extension = _extension(filename)
    title = readable_stem(filename)
    if b"%PDF-" in data[:1024]:
        from ingest.formats.pdf import parse_pdf

        doc = parse_pdf(data, title, **pdf_options)
    elif data.startswith(b"PK\x03\x04") and (extension == "docx" or _is_word_zip(data)):
        from ingest.formats.docx import parse_docx

        doc = parse_docx(data, title)
    elif extension == "docx":
        from ingest.formats.docx import parse_docx

        doc = parse_docx(data, title)  # not a zip: reported as a damaged Word file
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError("unsupported_type", f"{title}: old Word/Excel format; save it as .docx ({SUPPORTED})")
    elif extension in TEXT_EXTENSIONS or (not extension and not data.startswith(b"PK\x03\x04")):
        from ingest.formats.text import parse_text

        doc = parse_text(data, title)
    else:
        kind = f".{extension} files" if extension else "this file type"
        raise IngestError("unsupported_type", f"{title}: {kind} cannot be read ({SUPPORTED})")
    doc.title = guess_title(filename, doc)
    return doc


def readable_stem(filename: str) -> str:
    """ "plani-shumaktorial_lumez-2024.docx" -> "Plani shumaktorial lumez 2024"."""
    stem = re.sub(r"[-_.]+", " ", _stem(filename)).strip()
    stem = " ".join(stem.split())
    return (stem[:1].upper() + stem[1:]) if stem else "Dokument"


def guess_title(filename: str, doc: ParsedDocument) -> str:
    """The document's own title (a Title style or the file's title property), else its first
    real heading near the top (not a letterhead in capitals), else the file name made readable."""
    if doc.meta.get("title"):
        return " ".join(str(doc.meta["title"]).split())
    for block in doc.blocks[:15]:
        if block.kind != "heading" or block.level > 2:
            continue
        text = doc.block_text(block)
        letters = [c for c in text if c.isalpha()]
        if len(text.split()) >= 4 and not all(c.isupper() for c in letters):
            return text
    return readable_stem(filename)


def guess_kind(filename: str, doc: ParsedDocument) -> str:
    """strategy, regulation, minutes, plan, notes, guide, slides, invitation, or other."""
    name = fold(f"{readable_stem(filename)} {doc.title}")
    headings = fold(" ".join(doc.block_text(b) for b in doc.blocks[:60] if b.kind == "heading"))
    opening = fold(doc.text[:300])
    body = fold(doc.text[:4000])
    table_headers = fold(" ".join(" ".join(t.rows[0]) for t in doc.tables if t.rows and t.header_rows))
    scores = {}
    for kind, words in KIND_WORDS.items():
        score = 0.0
        for word in words:
            score += 4 * bool(re.search(word, name)) + 2 * bool(re.search(word, f"{headings}\n{opening}"))
            score += 2 * bool(re.search(word, table_headers)) + 0.5 * min(len(re.findall(word, body)), 3)
        scores[kind] = score
    articles = len(re.findall(r"(?m)^neni \d+", fold("\n".join(doc.block_text(b) for b in doc.blocks
                                                             if b.kind == "heading"))))
    scores["regulation"] += 2 if articles >= 3 else 0
    best = max(scores, key=scores.get)
    return best if scores[best] >= 2 else "other"
