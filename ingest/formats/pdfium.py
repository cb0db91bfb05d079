"""PDFium (pypdfium2) for what pdfplumber does not do: the opening checks (password, damage, page
count and boxes, metadata) and the page images OCR reads. PDFium is not thread-safe and uploads
are parsed in threads, so a document is only ever used under LOCK."""
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2
import pypdfium2.raw as pdfium_c

LOCK = threading.RLock()
PdfiumError = pypdfium2.PdfiumError
IMAGE = pdfium_c.FPDF_PAGEOBJ_IMAGE


@contextmanager
def opened(data: bytes) -> Iterator[pypdfium2.PdfDocument]:
    """The PDF open, under LOCK for as long as it is used. An encrypted file opens only when its
    user password is empty (a PDF merely restricted from editing)."""
    with LOCK:
        pdf = pypdfium2.PdfDocument(data)
        try:
            yield pdf
        finally:
            pdf.close()


def is_password_error(error: PdfiumError) -> bool:
    return error.err_code == pdfium_c.FPDF_ERR_PASSWORD


def media_size(page: pypdfium2.PdfPage) -> tuple[float, float]:
    """The page's media box, width and height in points as declared (before /Rotate)."""
    left, bottom, right, top = page.get_mediabox()
    return right - left, top - bottom
