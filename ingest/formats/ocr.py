"""OCR of PDF pages that have no text layer, with tesseract's Albanian model.

A page that is one embedded scan is read from its own image (no rasterising: faster and just as
accurate); anything else is rendered at 300 dpi. One single-threaded tesseract process runs per
worker, and each page's words are cached by the file's sha256, the page and the language, so
ingesting the same file again costs nothing.
"""
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.formats import pdfium
from ingest.model import IngestError

RENDER_DPI = 300
TIMEOUT_SECONDS = 300


@dataclass
class OcrWord:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    block: int
    par: int
    line: int


@dataclass
class OcrPage:
    number: int  # 1-based page number
    width: int  # image size in pixels
    height: int
    dpi: float
    words: list[OcrWord]

    @property
    def confidence(self) -> float:
        """Mean word confidence (0-100), 0 for a page without words."""
        confs = [w.conf for w in self.words if w.conf >= 0]
        return round(sum(confs) / len(confs), 2) if confs else 0.0


def ocr_pages(
    data: bytes,
    pages: list[int],
    *,
    lang: str = "sqi",
    workers: int = 2,
    progress: Callable[[str, int, int], None] | None = None,
    cache_dir: Path | None = None,
) -> dict[int, OcrPage]:
    """OCR the given 1-based pages of a PDF; raises IngestError ocr_unavailable / ocr_failed."""
    if not pages:
        return {}
    _check_tesseract(lang)
    digest = hashlib.sha256(data).hexdigest()
    results: dict[int, OcrPage] = {}
    todo = []
    for number in pages:
        cached = _read_cache(cache_dir, digest, number, lang)
        if cached:
            results[number] = cached
        else:
            todo.append(number)
    done = len(results)
    if progress:
        progress("ocr", done, len(pages))
    with tempfile.TemporaryDirectory(prefix="kvsp-ocr-") as tmp, ThreadPoolExecutor(max(1, workers)) as pool:
        # Images are prepared in this thread, PDFium held only while it cuts one; tesseract runs in the pool.
        futures = {}
        for number in todo:
            with pdfium.opened(data) as pdf:
                image_path, size, dpi = _page_image(pdf[number - 1], number, Path(tmp))
            futures[pool.submit(_tesseract_tsv, image_path, dpi, lang, number)] = (number, size, dpi)
        for future in as_completed(futures):
            number, (width, height), dpi = futures[future]
            page = OcrPage(number, width, height, dpi, future.result())
            _write_cache(cache_dir, digest, number, lang, page)
            results[number] = page
            done += 1
            if progress:
                progress("ocr", done, len(pages))
    return results


def _check_tesseract(lang: str) -> None:
    if not shutil.which("tesseract"):
        raise IngestError("ocr_unavailable", "This PDF is a scan and needs OCR: install tesseract-ocr-sqi.")
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    missing = [code for code in lang.split("+") if code not in out]
    if missing:
        raise IngestError("ocr_unavailable", f"The OCR language '{missing[0]}' is missing: install tesseract-ocr-{missing[0]}.")


def _page_image(page, number: int, tmp: Path) -> tuple[Path, tuple[int, int], float]:
    """The page's own scan when it is a single image (its bytes as stored), else a 300-dpi rendering."""
    images = list(page.get_objects(filter=[pdfium.IMAGE]))
    if len(images) == 1:
        try:
            width_px, height_px = images[0].get_px_size()
            if width_px >= 1000:
                images[0].extract(tmp / f"page-{number}", fb_format="png")
                path = next(tmp.glob(f"page-{number}.*"))
                if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".tif", ".tiff"):  # JPEG 2000: tesseract may not read it
                    path = _as_png(path)
                width, height = pdfium.media_size(page)
                width_in = (height if page.get_rotation() % 180 == 90 else width) / 72
                return path, (width_px, height_px), round(width_px / width_in, 1)
        except (pdfium.PdfiumError, OSError, ValueError):  # an image filter PDFium cannot decode: render the page
            pass
    pil = page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil()
    path = tmp / f"page-{number}.png"
    pil.save(path)
    return path, (pil.width, pil.height), float(RENDER_DPI)


def _tesseract_tsv(image: Path, dpi: float, lang: str, number: int) -> list[OcrWord]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    cmd = ["tesseract", str(image), "stdout", "-l", lang, "--dpi", str(int(dpi)), "tsv"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise IngestError("ocr_failed", f"page {number}: OCR took longer than {TIMEOUT_SECONDS} seconds.")
    if run.returncode != 0:
        reason = (run.stderr.strip().splitlines() or ["tesseract failed"])[-1]
        raise IngestError("ocr_failed", f"page {number}: {reason}")
    return parse_tsv(run.stdout)


def parse_tsv(tsv: str) -> list[OcrWord]:
    """Words (level 5 rows with text) of tesseract's TSV output."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        words.append(
            OcrWord(
                text=text,
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                conf=float(row["conf"]),
                block=int(row["block_num"]),
                par=int(row["par_num"]),
                line=int(row["line_num"]),
            )
        )
    return words


def _cache_path(cache_dir: Path, digest: str, number: int, lang: str) -> Path:
    return cache_dir / f"{digest}-p{number}-{lang}.json"


def _read_cache(cache_dir: Path | None, digest: str, number: int, lang: str) -> OcrPage | None:
    if cache_dir is None:
        return None
    path = _cache_path(cache_dir, digest, number, lang)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return OcrPage(raw["number"], raw["width"], raw["height"], raw["dpi"], [OcrWord(**w) for w in raw["words"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(cache_dir: Path | None, digest: str, number: int, lang: str, page: OcrPage) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = _cache_path(cache_dir, digest, number, lang)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(page), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def _as_png(path: Path) -> Path:
    from PIL import Image

    png = path.with_suffix(".png")
    with Image.open(path) as image:
        image.save(png)
    return png
