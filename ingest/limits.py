"""What reading one file may cost, checked by the format readers before and while they parse.

Sizes a file declares are never trusted: a DOCX's members are inflated as a stream and counted, a
PDF's page boxes are read before any page is laid out, and a deadline bounds the time per file.
A refusal is an IngestError with code "too_large" (413) or "too_slow" (422) and a message in
Albanian; nothing is stored. A PDF read with damaged pages is stored, and `damaged_note` says which.
"""
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.model import IngestError

A0_AREA = 2384 * 3370  # pt²
READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_chars: int = 2_000_000  # text of one document: ~1,000 dense pages
    max_pages: int = 1_000  # pages of one PDF
    max_page_area: float = 2 * A0_AREA  # pt²; a 7,200-pt square is 52 M, an A4 page 0.5 M
    max_seconds: float = 30.0  # parsing (OCR included) of one file
    max_members: int = 5_000  # entries of one DOCX zip
    max_inflated: int = 200 * 2**20  # all DOCX members, as really inflated
    max_xml_member: int = 32 * 2**20  # one XML part of a DOCX, as really inflated (it is parsed whole)


DEFAULT_LIMITS = Limits()


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


class Deadline:
    """The time a reader may still spend on one file; `check()` between pages, paragraphs, tables."""

    def __init__(self, title: str, limits: Limits = DEFAULT_LIMITS):
        self.title, self.seconds = title, limits.max_seconds
        self.end = time.monotonic() + limits.max_seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise IngestError("too_slow", f"{self.title}: leximi i skedarit zgjati më shumë se {self.seconds:.0f} "
                                          f"sekonda dhe u ndërpre; ndajeni në pjesë më të vogla.")


def check_chars(count: int, title: str, limits: Limits = DEFAULT_LIMITS) -> None:
    if count > limits.max_chars:
        raise IngestError("too_large", f"{title}: teksti ka {count:,} shenja, më shumë se kufiri "
                                       f"{limits.max_chars:,}; ndajeni dokumentin në pjesë.")


def check_zip_members(archive: zipfile.ZipFile, title: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Inflate every member as a stream, counting the bytes it really gives (not the size its header
    claims), and refuse as soon as one XML part or the whole passes its cap; a member whose data does
    not match its checksum is a damaged file."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise IngestError("too_large", f"{title}: skedari Word ka {len(members)} pjesë, më shumë se "
                                       f"{limits.max_members}.")
    total = 0
    for member in members:
        cap = limits.max_xml_member if member.filename.endswith((".xml", ".rels")) else limits.max_inflated
        size = 0
        try:
            with archive.open(member) as stream:
                while block := stream.read(READ_BLOCK):
                    size += len(block)
                    total += len(block)
                    if size > cap or total > limits.max_inflated:
                        which = member.filename if size > cap else "skedari i shpaketuar"
                        raise IngestError("too_large", f"{title}: {which} kalon {_mb(min(cap, limits.max_inflated))} "
                                                       f"(bombë zip ose dokument tepër i madh).")
        except IngestError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
                NotImplementedError) as exc:
            raise IngestError("corrupt_docx", f"{title}: skedari Word është i dëmtuar ({member.filename}: "
                                              f"{type(exc).__name__}).") from None


def check_pdf_pages(count: int, boxes: Iterable[tuple[float, float]], title: str,
                    limits: Limits = DEFAULT_LIMITS) -> None:
    """`boxes`: (width, height) in points of each page as the PDF declares them, read lazily after the
    page count has passed."""
    if count > limits.max_pages:
        raise IngestError("too_large", f"{title}: PDF-ja ka {count} faqe, më shumë se kufiri {limits.max_pages}.")
    for number, (width, height) in enumerate(boxes, start=1):
        if abs(width * height) > limits.max_page_area:
            raise IngestError("too_large", f"{title}: faqja {number} është {width:.0f} × {height:.0f} pikë, më e "
                                           f"madhe se dy fletë A0; një faqe e tillë nuk lexohet.")


def damaged_note(meta: dict) -> str | None:
    """The Albanian warning for a document whose pages could not be read whole (meta["damaged_pages"],
    set by the PDF reader), shown with the upload's result and on the document's page; None when none."""
    pages = meta.get("damaged_pages") or []
    if not pages:
        return None
    if len(pages) == 1:
        return (f"Faqja {pages[0]} e PDF-së nuk u lexua plotësisht (skedari është i dëmtuar): teksti i saj mund "
                f"të mungojë ose të jetë i paplotë.")
    return (f"Faqet {', '.join(map(str, pages))} të PDF-së nuk u lexuan plotësisht (skedari është i dëmtuar): "
            f"teksti i tyre mund të mungojë ose të jetë i paplotë.")
