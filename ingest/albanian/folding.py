"""Folding for matching: lower case, no diacritics, OCR and homoglyph variants (é, ¢, Cyrillic ё)
read as the letters they stand for. Matching only: stored and shown text is never folded."""
import unicodedata

_FOLD = str.maketrans({"ë": "e", "é": "e", "è": "e", "ç": "c", "¢": "c", "’": "'", "ё": "e"})


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))
