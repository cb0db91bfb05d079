"""The council's plan table: rows and their states, field-level history, plan versions
and the status of each approved row over time.

A row is `proposed` (from a proposal or an imported plan), `edited` (changed, still waiting),
`approved` (in the plan) or `rejected`. Every change is an event with who, when, the field diff
and an optional reason, and goes to the audit log in the same transaction. Each change to the
approved set (approval, edit or removal of an approved row) makes a new plan version listing
its rows. Tables live in the store's database, SQLite in the data folder or PostgreSQL with
KVSP_DATABASE_URL (made by its migrations); every change is one transaction under its writer lock.
"""
import json
import uuid
from datetime import datetime, timezone

from assistant.accounts import audit
from assistant.plan.extract import LEVELS
from assistant.search.albanian import fold
from assistant.store.database import database

FIELDS = ("nr", "problem", "priority", "priority_as_written", "activities", "responsible", "partners", "deadline_text")
LIST_FIELDS = ("activities", "responsible", "partners")
STATES = ("proposed", "edited", "approved", "rejected")
PENDING = ("proposed", "edited")
STATUSES = ("not_started", "in_progress", "done", "late")

class PlanError(ValueError):
    """A change the plan does not allow; `code` is machine-readable ('not_found', 'invalid', 'conflict',
    'forbidden')."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def dedupe_key(row: dict) -> str:
    """Rows with the same source span, or with no source and the same problem, are one row."""
    src = row.get("source") or {}
    if src.get("document_id") is not None and src.get("end"):
        return f"{src['document_id']}:{src.get('start')}:{src.get('end')}"
    return "problem:" + " ".join(fold(row.get("problem") or "").split())


def clean_fields(changes: dict) -> dict:
    """Validated editable fields; raises PlanError('invalid') on unknown keys or wrong types."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise PlanError("invalid", f"not editable: {', '.join(sorted(unknown))}")
    out = {}
    for key, value in changes.items():
        if key in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PlanError("invalid", f"{key}: a list of texts")
            out[key] = [" ".join(v.split()) for v in value if v.strip()]
        elif key == "priority":
            if value not in (*LEVELS, None):
                raise PlanError("invalid", f"priority: one of {', '.join(LEVELS)} or null")
            out[key] = value
        else:
            if value is not None and not isinstance(value, str):
                raise PlanError("invalid", f"{key}: a text or null")
            out[key] = " ".join(value.split()) if isinstance(value, str) else None
    if "problem" in out and not out["problem"]:
        raise PlanError("invalid", "problem: must not be empty")
    return out


class PlanStore:
    def __init__(self, db: "audit.Db"):
        self.database = database(db)

    @property
    def db(self):
        """This thread's connection (inside a change, the one holding its transaction)."""
        return self.database.connection()

    # ---- reading -------------------------------------------------------------------------
    def _row(self, r) -> dict:
        data = json.loads(r[7])
        return {"id": r[0], "state": r[1], "status": r[2], "position": r[3], "origin": r[4],
                "artifact_id": r[5], "created_at": r[8], "updated_at": r[9], **data}

    def get(self, row_id: str) -> dict | None:
        r = self.db.execute("SELECT * FROM plan_rows WHERE id = ?", (row_id,)).fetchone()
        return self._row(r) if r else None

    def rows(self, states: tuple[str, ...] = STATES) -> list[dict]:
        marks = ",".join("?" * len(states))
        found = self.db.execute(f"SELECT * FROM plan_rows WHERE state IN ({marks}) ORDER BY position", states)
        return [self._row(r) for r in found.fetchall()]

    def plan(self) -> list[dict]:
        """The approved rows, in plan order."""
        return self.rows(("approved",))

    def pending(self) -> list[dict]:
        return self.rows(PENDING)

    def history(self, row_id: str) -> list[dict]:
        found = self.db.execute("SELECT id, action, actor, at, changes, reason, source FROM plan_events "
                                "WHERE row_id = ? ORDER BY id", (row_id,)).fetchall()
        return [{"id": e[0], "action": e[1], "actor": e[2], "at": e[3], "changes": json.loads(e[4]),
                 "reason": e[5], "source": json.loads(e[6]) if e[6] else None} for e in found]

    def version(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(version), 0) FROM plan_versions").fetchone()[0]

    def versions(self) -> list[dict]:
        found = self.db.execute("SELECT version, created_at, actor, cause, row_ids FROM plan_versions ORDER BY version")
        return [{"version": v[0], "created_at": v[1], "actor": v[2], "cause": v[3], "row_ids": json.loads(v[4])}
                for v in found.fetchall()]

    def version_rows(self, version: int) -> list[dict] | None:
        r = self.db.execute("SELECT rows FROM plan_versions WHERE version = ?", (version,)).fetchone()
        return json.loads(r[0]) if r else None

    # ---- writing -------------------------------------------------------------------------
    def _event(self, row_id: str, action: str, actor: str, changes: dict, reason: str | None = None,
               source: dict | None = None) -> None:
        self.db.execute("INSERT INTO plan_events (row_id, action, actor, at, changes, reason, source) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (row_id, action, actor, _now(), _dump(changes), reason, _dump(source) if source else None))
        details = {"changes": changes, **({"reason": reason} if reason else {}), **({"source": source} if source else {})}
        audit.record(self.database, actor, f"plan.{action}", "plan_row", row_id, details)

    def _save(self, row: dict) -> None:
        data = {k: v for k, v in row.items()
                if k not in ("id", "state", "status", "position", "origin", "artifact_id", "created_at", "updated_at")}
        self.db.execute("UPDATE plan_rows SET state = ?, status = ?, data = ?, updated_at = ? WHERE id = ?",
                        (row["state"], row["status"], _dump(data), _now(), row["id"]))

    def _snapshot(self, actor: str, cause: str) -> int:
        rows = self.plan()
        version = self.version() + 1
        self.db.execute("INSERT INTO plan_versions VALUES (?, ?, ?, ?, ?, ?)",
                        (version, _now(), actor, cause, _dump([r["id"] for r in rows]), _dump(rows)))
        return version

    def _locked(self, row_id: str) -> dict:
        row = self.get(row_id)
        if row is None:
            raise PlanError("not_found", f"no plan row {row_id}")
        return row

    def add_rows(self, rows: list[dict], *, origin: str, actor: str, artifact_id: str | None = None) -> list[dict]:
        """Store rows as proposals; a row already stored (same source span, or same problem without
        a source) is returned as it is instead of being added twice."""
        with self.database.transaction():
            out = []
            for row in rows:
                key = dedupe_key(row)
                known = self.db.execute("SELECT id FROM plan_rows WHERE dedupe_key = ? AND state != 'rejected'",
                                        (key,)).fetchone()
                if known:
                    out.append(self.get(known[0]))
                    continue
                row_id = uuid.uuid4().hex[:12]
                position = self.db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM plan_rows").fetchone()[0]
                data = {k: v for k, v in row.items() if k != "id"}
                stamp = _now()
                self.db.execute("INSERT INTO plan_rows VALUES (?, 'proposed', 'not_started', ?, ?, ?, ?, ?, ?, ?)",
                                (row_id, position, origin, artifact_id, key, _dump(data), stamp, stamp))
                self._event(row_id, "propose", actor, {k: row.get(k) for k in FIELDS},
                            source=row.get("source"))
                out.append(self.get(row_id))
            return out

    def _change(self, row_id: str, apply) -> dict:
        with self.database.transaction():
            return apply(self._locked(row_id))

    def authors(self, row_id: str) -> set[str]:
        """Who wrote the row as it stands: whoever proposed it and whoever edited it."""
        return {r[0] for r in self.db.execute(
            "SELECT actor FROM plan_events WHERE row_id = ? AND action IN ('propose', 'edit')", (row_id,))}

    def approve(self, row_id: str, actor: str, reason: str | None = None, *, own_rows: bool = False) -> dict:
        """Nobody approves a row they proposed or edited (a second person must); `own_rows` only for
        local single-user mode, where there is no second person."""
        def apply(row):
            if row["state"] == "approved":
                raise PlanError("conflict", "the row is already approved")
            if row["state"] == "rejected":
                raise PlanError("conflict", "a rejected row cannot be approved; propose it again")
            if not own_rows and actor in self.authors(row_id):
                raise PlanError("forbidden", "Nuk mund ta miratoni një rresht që e keni propozuar ose ndryshuar vetë: "
                                             "duhet ta miratojë një person tjetër.")
            changes = {"state": [row["state"], "approved"]}
            if row.get("origin") == "propose":  # a new row takes the next number of the plan
                taken = [int(r["nr"]) for r in self.plan() if str(r.get("nr", "")).isdigit()]
                nr = str(max(taken, default=0) + 1)
                changes["nr"] = [row.get("nr"), nr]
                row["nr"] = nr
            row["state"] = "approved"
            self._save(row)
            self._event(row_id, "approve", actor, changes, reason)
            row["plan_version"] = self._snapshot(actor, f"approve {row_id}")
            return row
        return self._change(row_id, apply)

    def reject(self, row_id: str, actor: str, reason: str | None = None) -> dict:
        def apply(row):
            if row["state"] == "rejected":
                raise PlanError("conflict", "the row is already rejected")
            was_approved = row["state"] == "approved"
            changes = {"state": [row["state"], "rejected"]}
            row["state"] = "rejected"
            self._save(row)
            self._event(row_id, "reject", actor, changes, reason)
            if was_approved:
                row["plan_version"] = self._snapshot(actor, f"remove {row_id}")
            return row
        return self._change(row_id, apply)

    def edit(self, row_id: str, changes: dict, actor: str, reason: str | None = None) -> dict:
        """Change fields; a pending row becomes `edited`, an approved row stays in the plan as a
        new plan version."""
        fields = clean_fields(changes)

        def apply(row):
            if row["state"] == "rejected":
                raise PlanError("conflict", "a rejected row cannot be edited")
            diff = {k: [row.get(k), v] for k, v in fields.items() if row.get(k) != v}
            if not diff:
                return row
            row.update(fields)
            if row["state"] == "proposed":
                row["state"] = "edited"
                diff["state"] = ["proposed", "edited"]
            self._save(row)
            self._event(row_id, "edit", actor, diff, reason)
            if row["state"] == "approved":
                row["plan_version"] = self._snapshot(actor, f"edit {row_id}")
            return row
        return self._change(row_id, apply)

    def set_status(self, row_id: str, status: str, actor: str, note: str | None = None,
                   source: dict | None = None) -> dict:
        """Record the status of an approved row, with a note that may cite a later document."""
        if status not in STATUSES:
            raise PlanError("invalid", f"status: one of {', '.join(STATUSES)}")

        def apply(row):
            if row["state"] != "approved":
                raise PlanError("conflict", "only approved rows are tracked")
            self._event(row_id, "status", actor, {"status": [row["status"], status]}, note, source)
            row["status"] = status
            self._save(row)
            return row
        return self._change(row_id, apply)

    def status_history(self, row_id: str) -> list[dict]:
        return [{"at": e["at"], "actor": e["actor"], "status": e["changes"]["status"][1], "note": e["reason"],
                 "source": e["source"]} for e in self.history(row_id) if e["action"] == "status"]
