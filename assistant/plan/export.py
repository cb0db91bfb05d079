"""The plan as the standard table (Nr, Problematika, Prioriteti, Aktivitetet, Institucioni
përgjegjës, Partnerë, Afati, Statusi) in DOCX, XLSX or CSV bytes. Lists are one item a line.

Every format opens with the same heading: the title line (the council, the version, the day) and
the note (the plan version and the audit log's head, which anchors the chain on paper). A sheet
and a CSV carry them as rows of one cell above the table's header row, so a spreadsheet shows them
and a reader skips the rows before "Nr.".
"""
import csv
import io
import re
from collections import Counter
from datetime import date

HEADERS = ("Nr.", "Problematika e identifikuar", "Prioriteti", "Aktivitetet që duhet të ndërmerren",
           "Institucioni përgjegjës", "Partnerë", "Afati", "Statusi")
STATUS_WORDS = {"not_started": "Pa filluar", "in_progress": "Në proces", "done": "Realizuar", "late": "Me vonesë"}
FORMATS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}


_MUNICIPALITY = re.compile(r"\bBashki(?:a|së|në)\s+(?:e\s+)?([A-ZÇË][a-zçë]+)")


def municipality_of(rows: list[dict]) -> str | None:
    """The municipality the rows' institutions name most ('Bashkia Lumëz'), or None."""
    names = Counter(m.group(1) for row in rows for text in (row.get("responsible") or []) + (row.get("partners") or [])
                    for m in _MUNICIPALITY.finditer(str(text)))
    return f"Bashkia {names.most_common(1)[0][0]}" if names else None


def heading(municipality: str | None, day: date, version: int | None = None) -> str:
    """The export's title line: whose plan, which version, as of which day."""
    parts = [f"{municipality} – Plani vendor shumaktorial" if municipality else "Plani vendor shumaktorial"]
    if version is not None:
        parts.append(f"versioni {version}")
    parts.append(f"{day:%d.%m.%Y}")
    return ", ".join(parts)


def table_rows(rows: list[dict], numbered_lists: bool = True) -> list[list[str]]:
    """The cells of each row as text; activities numbered '1. …' as plans write them."""
    def items(values, numbered):
        return "\n".join(f"{n}. {v}" if numbered else v for n, v in enumerate(values or [], 1))
    out = []
    for row in rows:
        priority = row.get("priority") or row.get("priority_as_written") or ""
        out.append([str(row.get("nr") or ""), row.get("problem") or "",
                    f"Prioritet {priority}" if row.get("priority") else priority,
                    items(row.get("activities"), numbered_lists), items(row.get("responsible"), False),
                    items(row.get("partners"), False), row.get("deadline_text") or "",
                    STATUS_WORDS.get(row.get("status") or "", "")])
    return out


def heading_rows(title: str, note: str) -> list[list[str]]:
    """The heading above the table in a sheet or a CSV: one cell a line."""
    return [[line] for line in (title, note) if line]


def to_csv(rows: list[dict], title: str, note: str = "") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows(heading_rows(title, note))
    writer.writerow(HEADERS)
    writer.writerows(table_rows(rows))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM lets Excel read the Albanian letters


def to_xlsx(rows: list[dict], title: str, note: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Plani"
    lead = heading_rows(title, note)
    for line in lead:
        ws.append(line)
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(list(HEADERS))
    header = len(lead) + 1
    for cell in ws[header]:
        cell.font = Font(bold=True)
    for values in table_rows(rows):
        ws.append(values)
    for row in ws.iter_rows(min_row=header):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGH", (6, 40, 16, 60, 40, 30, 18, 14)):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_docx(rows: list[dict], title: str, note: str = "") -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.add_heading(title, level=1)
    if note:
        doc.add_paragraph(note)
    table = doc.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, HEADERS):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for values in table_rows(rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            lines = text.split("\n")
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def export(rows: list[dict], fmt: str, title: str = "Plani vendor shumaktorial", note: str = "") -> bytes:
    if fmt == "csv":
        return to_csv(rows, title, note)
    if fmt == "xlsx":
        return to_xlsx(rows, title, note)
    if fmt == "docx":
        return to_docx(rows, title, note)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
