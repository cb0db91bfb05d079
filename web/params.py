"""Typed request values: what a route accepts is said in its signature, so malformed input is a
422 from validation and never reaches SQLite, a date parser or a dataclass as a 500.

- `Text`: a string that can be stored, i.e. encoded as UTF-8 (JSON may carry lone surrogates).
- `Int64`: an integer SQLite can hold.
- `IsoMoment`: an ISO date or datetime that can be compared and stored.
- `ConversationId`: the id of a saved conversation or of one of its turns (32 hex digits).
- `MeetingIn`, `ActionIn`: the secretary's corrected meeting and action items, typed field by field.
- `StorableJson`: no JSON body with unencodable text reaches any route.
"""
import json
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from web.errors import error_response


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text holds characters that are not valid Unicode (lone surrogates)") from None
    return value


def iso_moment(value: str) -> str:
    """An ISO date or datetime usable as an audit bound: a date's next day and a datetime in UTC
    must exist (9999-12-31 as an upper bound, or year 1 with a zone ahead of UTC, do not)."""
    value = value.strip()
    try:
        if len(value) == 10:
            date.fromisoformat(value) + timedelta(days=1)
        else:
            moment = datetime.fromisoformat(value)
            (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("a date between the years 1 and 9998") from None
    except ValueError:
        raise ValueError("an ISO date or datetime, e.g. 2025-01-31") from None
    return value


def _iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("an ISO date, e.g. 2025-01-31") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]
Short = Annotated[Text, Field(max_length=2000)]  # one field of a meeting: a name, a place, an agenda item
Long = Annotated[Text, Field(max_length=20_000)]  # a paragraph: a decision, a line of the discussion
INT64_MAX = 2**63 - 1
Int64 = Annotated[int, Field(ge=-(2**63), le=INT64_MAX)]
Offset = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX)]  # a position in the notes: no bool, no -1
MANY = 1000  # list items of one meeting (people, agenda items, decisions)
IsoMoment = Annotated[Text, AfterValidator(iso_moment)]
IsoDate = Annotated[Text, AfterValidator(_iso_date)]
ID_PATTERN = r"^[0-9a-f]{32}$"  # the ids of saved conversations and of their turns
ConversationId = Annotated[str, Field(pattern=ID_PATTERN)]


class PersonIn(BaseModel):
    name: Short
    institution: Short | None = None
    time: Short | None = None


class LineIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: Long
    start: Offset = 0
    end: Offset = 0


class DiscussionIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    item: Annotated[int, Field(strict=True, ge=0, le=MANY)] | None = None  # the agenda item's number
    speaker: Short | None = None
    lines: Annotated[list[LineIn], Field(max_length=MANY)] = []


class MeetingIn(BaseModel):
    """The fields of assistant.meetings.notes.Meeting; unknown keys are ignored as the parser does."""
    municipality: Short | None = None
    meeting_number: Short | None = None
    date: IsoDate | None = None
    scheduled_time: Short | None = None
    start_time: Short | None = None
    end_time: Short | None = None
    place: Short | None = None
    chair: Short | None = None
    secretary: Short | None = None
    present: Annotated[list[PersonIn], Field(max_length=MANY)] | None = None
    absent: Annotated[list[PersonIn], Field(max_length=MANY)] | None = None
    invited: Annotated[list[PersonIn], Field(max_length=MANY)] | None = None
    late: Annotated[list[PersonIn], Field(max_length=MANY)] | None = None
    left_early: Annotated[list[PersonIn], Field(max_length=MANY)] | None = None
    quorum: dict | None = None
    agenda: Annotated[list[Short], Field(max_length=MANY)] | None = None
    discussion: Annotated[list[DiscussionIn], Field(max_length=MANY)] | None = None
    decisions: Annotated[list[Long], Field(max_length=MANY)] | None = None
    deferred: Annotated[list[Long], Field(max_length=MANY)] | None = None
    proposals_without_decision: Annotated[list[Long], Field(max_length=MANY)] | None = None
    trace: dict[Text, list[list[Int64]]] | None = None


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    start: Int64 = 0
    end: Int64 = 0
    quote: Text = ""


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: Long = ""
    owner: Annotated[list[Short], Field(max_length=MANY)] | None = None
    due: IsoDate | None = None
    due_text: Short | None = None
    source: SourceIn | None = None


def sent_fields(model: BaseModel) -> dict:
    """A model back as the plain dict the client sent (only the fields it set), for the domain's
    from_dict readers."""
    return model.model_dump(exclude_unset=True)


def unstorable(value) -> bool:
    """True when a decoded JSON value holds a string (or key) that cannot be encoded as UTF-8."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class StorableJson:
    """ASGI middleware: a JSON body with lone surrogates ("\\ud800") is a 422 for every route at once,
    before any route hands such a string to SQLite or a file; other bodies pass untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"") if scope["type"] == "http" else b""
        if not content_type.split(b";")[0].strip().endswith(b"json"):
            return await self.app(scope, receive, send)
        parts, message = [], {"more_body": True}
        while message.get("more_body"):
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            parts.append(message.get("body", b""))
        body = b"".join(parts)
        try:
            bad = unstorable(json.loads(body))
        except ValueError:
            bad = False  # not JSON at all: the route's validation says so
        except RecursionError:  # nested deeper than any request of ours: no parser downstream may try it
            response = error_response(422, "invalid_json", "JSON-i i dërguar është i mbivendosur tepër thellë.")
            return await response(scope, receive, send)
        if bad:
            response = error_response(422, "invalid_text", "Teksti i dërguar ka karaktere Unicode të pavlefshme "
                                                           "(surrogate të vetmuar).")
            return await response(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)
