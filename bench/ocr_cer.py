"""OCR quality and speed on the bundled scan: character error rate against the typeset text.

    .venv/bin/python bench/ocr_cer.py [--workers 2] [--pdf PATH --truth PATH]

CER = Levenshtein distance / length of the true text, both with whitespace normalised.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the project, not bench/ (bench/ingest.py would shadow the package)

from ingest.formats.pdf import parse_pdf  # noqa: E402

PDF = ROOT / "corpus/mekanizmat-ekzistues-kvsp-skanuar.pdf"
TRUTH = ROOT / "tests/fixtures/meta/mekanizmat-ekzistues-kvsp-skanuar.teksti-i-sakte.txt"


def levenshtein(a: str, b: str) -> int:
    """Edit distance by Hyyrö's bit-parallel algorithm (Python's big ints as the bit vectors)."""
    if not a or not b:
        return len(a) + len(b)
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    high = 1 << (len(a) - 1)
    pv, mv, score = full, 0, len(a)
    for ch in b:
        eq = masks.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = (ph << 1) | 1
        mh <<= 1
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv & full
    return score


def normalise(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=PDF)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    doc = parse_pdf(args.pdf.read_bytes(), args.pdf.stem, ocr_workers=args.workers)
    seconds = time.perf_counter() - start
    truth = normalise(args.truth.read_text(encoding="utf-8"))
    got = normalise(doc.text)
    cer = levenshtein(got, truth) / max(len(truth), 1)
    print(f"{'pages':>6} {'seconds':>8} {'CER':>7} {'confidence':>11} {'repairs':>8}")
    print(f"{doc.pages:>6} {seconds:>8.1f} {cer:>7.2%} {doc.meta.get('ocr_confidence', 0):>11.1f} {len(doc.meta.get('ocr_repairs', [])):>8}")


if __name__ == "__main__":
    main()
