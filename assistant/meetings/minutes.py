"""The procesverbal draft: a structured Meeting + action items -> text (prompts/procesverbal.j2) with
every sentence mapped to the note spans it came from, and the same draft as a Word file."""
import io
import re
from dataclasses import asdict
from datetime import date
from functools import lru_cache
from pathlib import Path

import jinja2
from docx import Document
from docx.shared import Pt

from assistant.meetings.actions import ActionItem, action_from_dict, extract_actions
from assistant.meetings.notes import Meeting, formalize, meeting_from_dict, parse_meeting

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
MARK = re.compile(r"\x02(\d+)\x1f(.*?)\x03", re.S)


@lru_cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PROMPTS)), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    return env.get_template("procesverbal.j2")


def day(iso: str | None) -> str:
    """'2025-02-20' -> '20.02.2025'."""
    try:
        return date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else ""
    except ValueError:
        return iso or ""


def _people(meeting: Meeting) -> dict[str, list[dict]]:
    out = {}
    for group in ("present", "absent", "invited", "late", "left_early"):
        out[group] = [{**asdict(p), "sources": meeting.trace.get(f"{group}.{i}", [])}
                      for i, p in enumerate(getattr(meeting, group))]
    return out


def _discussion(meeting: Meeting) -> list[dict]:
    out = []
    # 'item' may be absent or null (a discussion not tied to an agenda item): both read as 0
    for d in sorted(meeting.discussion, key=lambda d: d.get("item") or 0):
        n = d.get("item") or 0
        title = meeting.agenda[n - 1] if 0 < n <= len(meeting.agenda) else None
        lines = [{**line, "text": _sentence(line["text"]), "spans": _spans(line)} for line in d.get("lines", [])]
        if lines:
            out.append({"item": n, "title": title, "lines": lines})
    return out


def _spans(line: dict) -> list[list[int]]:
    """A note line's span in the notes, when it has one: a line the secretary typed in a correction may
    have none, and then it cites nothing rather than a made-up span."""
    return [[line["start"], line["end"]]] if isinstance(line.get("start"), int) and isinstance(line.get("end"), int) else []


def _sentence(text: str) -> str:
    text = formalize(text)
    return text if text.endswith((".", "!", "?", "”", "\"")) else text + "."


def prepare(notes: str, meeting: dict | None = None, actions: list[dict] | None = None
            ) -> tuple[Meeting, list[ActionItem], dict]:
    """Notes (+ the secretary's corrected meeting and actions, which replace the parsed ones) -> the meeting,
    its action items and the draft. A corrected meeting without a trace keeps the parsed trace."""
    parsed = parse_meeting(notes)
    final = parsed
    if meeting is not None:
        final = meeting_from_dict(meeting)
        final.trace = final.trace or _carry_trace(parsed, final)
        if not meeting.get("discussion"):
            final.discussion = parsed.discussion
        if not meeting.get("unread"):  # lines of the notes nothing read stay unread whatever fields were corrected
            final.unread = parsed.unread
    items = [action_from_dict(a) for a in actions] if actions is not None else \
        extract_actions(notes, meeting_date=final.meeting_date())
    return final, items, draft_minutes(final, items)


def _carry_trace(parsed: Meeting, final: Meeting) -> dict:
    """Sources for a corrected meeting: a value the secretary kept keeps the note spans it had."""
    trace = {}
    for key, value in vars(final).items():
        old = getattr(parsed, key)
        if isinstance(value, list):
            for i, item in enumerate(value):
                same = [j for j, o in enumerate(old) if (o.name == item.name if hasattr(o, "name") else o == item)]
                if same and f"{key}.{same[0]}" in parsed.trace:
                    trace[f"{key}.{i}"] = parsed.trace[f"{key}.{same[0]}"]
        elif value is not None and value == old and key in parsed.trace:
            trace[key] = parsed.trace[key]
    return trace


def draft_minutes(meeting: Meeting, actions: list[ActionItem]) -> dict:
    """{"text", "sentences": [{"text", "start", "end", "sources": [{"start", "end"}]}]}; positions of a sentence
    are in the draft text, sources are spans of the notes."""
    marks: list[list] = []

    def mark(text: str, sources) -> str:
        marks.append([list(s) for s in sources or []])
        return f"\x02{len(marks) - 1}\x1f{text}\x03"

    def src(*keys: str) -> list:
        return [span for k in keys for span in meeting.trace.get(k, [])]

    unread = unread_lines(meeting, actions)
    raw = _template().render(m=meeting, people=_people(meeting), q=meeting.quorum or {}, discussion=_discussion(meeting),
                             actions=actions, unread=unread, mark=mark, src=src, day=day)
    raw = re.sub(r"\n{3,}", "\n\n", raw)
    text, sentences, pos = [], [], 0
    for m in MARK.finditer(raw):
        text.append(raw[pos:m.start()])
        start = sum(map(len, text))
        text.append(m[2])
        sources = [{"start": s, "end": e} for s, e in marks[int(m[1])]]
        sentences.append({"text": m[2], "start": start, "end": start + len(m[2]), "sources": sources})
        pos = m.end()
    text.append(raw[pos:])
    return {"text": "".join(text).strip("\n") + "\n", "sentences": sentences,
            "warnings": warnings(meeting, actions, unread), "unread": unread}


def unread_lines(meeting: Meeting, actions: list[ActionItem]) -> list[dict]:
    """The note lines neither the meeting nor an action item took."""
    return [x for x in meeting.unread if not any(a.start < x["end"] and x["start"] < a.end for a in actions)]


def warnings(meeting: Meeting, actions: list[ActionItem], unread: list[dict]) -> list[str]:
    """What the secretary must check before export: lines not read, and the empty sections they may hold."""
    if not unread:
        return []
    empty = [title for title, items in (("rendi i ditës", meeting.agenda), ("diskutimet", meeting.discussion),
                                         ("vendimet", meeting.decisions), ("detyrat", actions)) if not items]
    out = [f"{len(unread)} rreshta të shënimeve nuk u lexuan; ato renditen në fund të draftit."]
    if empty:
        out.append("Pa përmbajtje të lexuar: " + ", ".join(empty) + " – mund të jenë te rreshtat që nuk u lexuan.")
    return out


def draft_docx(meeting: Meeting, actions: list[ActionItem], provenance: str = "") -> bytes:
    """The draft as a Word file: headings, attendance table, decisions, action table, signatures.
    `provenance` (the draft's id, the audit log's head) goes into the file's properties, not its text."""
    doc = Document()
    doc.core_properties.comments = provenance
    doc.styles["Normal"].font.name = "Times New Roman"
    doc.styles["Normal"].font.size = Pt(11)
    if meeting.municipality:
        doc.add_paragraph(meeting.municipality.upper())
    doc.add_paragraph("KËSHILLI VENDOR I SIGURISË PUBLIKE")
    doc.add_heading("PROCESVERBAL", level=0)
    if meeting.meeting_number:
        doc.add_paragraph(f"i mbledhjes nr. {meeting.meeting_number} të Këshillit Vendor të Sigurisë Publike")
    facts = [("Mbledhja nr.", meeting.meeting_number), ("Data", day(meeting.date)),
             ("Ora e planifikuar", meeting.scheduled_time), ("Ora e fillimit", meeting.start_time),
             ("Ora e mbylljes", meeting.end_time), ("Vendi", meeting.place), ("Kryesoi", meeting.chair),
             ("Procesverbalin e mbajti", meeting.secretary)]
    doc.add_heading("1. Data, ora dhe vendi", level=1)
    for label, value in facts:
        if value:
            doc.add_paragraph(f"{label}: {value}")

    doc.add_heading("2. Pjesëmarrja dhe kuorumi", level=1)
    notes = {p.name: f"erdhi në orën {p.time}" if p.time else "erdhi me vonesë" for p in meeting.late}
    for p in meeting.left_early:
        notes[p.name] = (notes.get(p.name, "") + "; " if p.name in notes else "") + (
            f"u largua në orën {p.time}" if p.time else "u largua para mbylljes")
    rows = [(p, "i pranishëm") for p in meeting.present] + [(p, "mungon") for p in meeting.absent] + \
           [(p, "i ftuar") for p in meeting.invited]
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, ("Nr.", "Emri", "Institucioni", "Statusi", "Shënim")):
        cell.text = title
    for i, (p, status) in enumerate(rows, 1):
        cells = table.add_row().cells
        for cell, value in zip(cells, (str(i), p.name, p.institution or "", status, notes.get(p.name, ""))):
            cell.text = value
    q = meeting.quorum or {}
    if q:
        parts = []
        if q.get("members_total") and q.get("present_at_start"):
            parts.append(f"Nga {q['members_total']} anëtarë, në fillim ishin të pranishëm {q['present_at_start']}.")
        if q.get("required"):
            parts.append(f"Kuorumi i kërkuar: {q['required']} anëtarë.")
        if q.get("met") is True:
            parts.append("Kuorumi është i plotësuar.")
        elif q.get("met") is False:
            parts.append("Kuorumi nuk është i plotësuar.")
        doc.add_paragraph(" ".join(parts))

    doc.add_heading("3. Rendi i ditës", level=1)
    for i, item in enumerate(meeting.agenda, 1):
        doc.add_paragraph(f"{i}. {item}")
    doc.add_heading("4. Përmbledhje e diskutimeve", level=1)
    for d in _discussion(meeting):
        doc.add_heading(f"Pika {d['item']}" + (f". {d['title']}" if d["title"] else ""), level=2)
        for line in d["lines"]:
            doc.add_paragraph(line["text"])
    doc.add_heading("5. Vendimet", level=1)
    for i, item in enumerate(meeting.decisions, 1):
        doc.add_paragraph(f"Vendimi nr. {i}: {item}.")
    for title, items in (("Çështje të shtyra", meeting.deferred),
                         ("Propozime pa vendim", meeting.proposals_without_decision)):
        if items:
            doc.add_heading(title, level=2)
            for item in items:
                doc.add_paragraph(item, style="List Bullet")

    doc.add_heading("6. Detyrat, institucionet përgjegjëse dhe afatet", level=1)
    tasks = doc.add_table(rows=1, cols=4)
    tasks.style = "Table Grid"
    for cell, title in zip(tasks.rows[0].cells, ("Nr.", "Detyra", "Institucioni përgjegjës", "Afati")):
        cell.text = title
    for i, a in enumerate(actions, 1):
        due = a.due_text or ""
        if a.due and day(a.due.isoformat()) not in due:
            due = f"{due} (→ {day(a.due.isoformat())})".strip()
        for cell, value in zip(tasks.add_row().cells, (str(i), a.action, ", ".join(a.owner), due)):
            cell.text = value
    if meeting.end_time:
        doc.add_paragraph(f"Mbledhja u mbyll në orën {meeting.end_time}.")
    signatures = doc.add_table(rows=2, cols=2)
    signatures.rows[0].cells[0].text = "KRYETARI I KVSP-së"
    signatures.rows[0].cells[1].text = "SEKRETARI TEKNIK"
    signatures.rows[1].cells[0].text = f"{meeting.chair or ''}\n\n____________"
    signatures.rows[1].cells[1].text = f"{meeting.secretary or ''}\n\n____________"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

