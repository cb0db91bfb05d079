"""What a result cites: one typed `Source` for answers, action items, minutes, plan rows and
proposals. A source is a span [start, end) of a stored document's text (then `document_id`, and
where known the `sha256` and `version` of the bytes that were read, and the page), or of the
text the user pasted (no document). Stored and sent as the same JSON dict as before: `public()`
writes only the fields the producer knew."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Source:
    start: int
    end: int
    quote: str = ""
    document_id: str | None = None
    sha256: str | None = None
    version: int | None = None
    page: int | None = None

    def public(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, value) -> "Source | None":
        """The source a stored dict records, or None when it records no span of a document or of
        pasted text (a whole-number start before its end, and a document or a quote to show)."""
        if not isinstance(value, dict):
            return None
        start, end = value.get("start"), value.get("end")
        if not (_whole(start) and _whole(end) and 0 <= start <= end):
            return None
        quote = value.get("quote") or value.get("text") or ""
        document_id = value.get("document_id")
        if not (document_id or quote):
            return None
        version, page = value.get("version"), value.get("page")
        return cls(start, end, quote if isinstance(quote, str) else "", document_id or None,
                   value.get("sha256") or None, version if _whole(version) else None, page if _whole(page) else None)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
