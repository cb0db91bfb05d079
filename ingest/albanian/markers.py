"""List markers: the one set of signs and numbering forms that open a list item, as regex pieces.

Every reader composes its own pattern from these pieces, because the readers differ in what may
follow a marker, never in what a marker is: a PDF line needs a dash followed by a letter (a lone
"-" there is a hyphen or a minus), notes accept markers run together ("- [x] 1."), a plain-text
list item needs a space after its marker. `ITEM` is the common case."""
import re

# bullets drawn as a glyph, with the private-use code points Word's Symbol and Wingdings fonts
# leave in extracted PDF text, and arrows, ticks and check boxes typed in notes
GLYPHS = "•●○◦▪■□➢►▸‣∙·*→>✔✓✘✗☐☑" "\uf0b7\uf0a7\uf0d8\uf076\uf0fc"
DASHES = "-–—"

GLYPH = f"[{re.escape(GLYPHS)}]"
DASH = f"[{DASHES}]"
SIGN = f"(?:{GLYPH}|{DASH})"  # a bullet drawn, not counted
NUMBER = r"\d{1,2}[.)](?!\d)"  # 1.  2) — never the 1 of "1.5"
LETTER = r"(?:dh|gj|ll|nj|rr|sh|th|xh|zh|[a-zA-ZçëÇË])\)"  # a)  dh) — the Albanian alphabet counts its digraphs
ROMAN = r"[ivx]{1,4}[.)]"  # iv.  ii)
CHECKBOX = r"\[[ xX]?\]"  # [ ]  [x]
NUMBERED = rf"\(?{NUMBER}"  # also opened with a bracket: (3)
ENUMERATOR = rf"\(?(?:{NUMBER}|{ROMAN}|{LETTER})"  # a counted item: 1.  (b)  iv)
MARKER = f"(?:{SIGN}|{ENUMERATOR})"

ITEM = re.compile(rf"^\s*{MARKER}\s+")  # a line that opens a list item: a marker, then a space
