"""Chat conversations saved on the server, over the real app on both engines: a turn is saved by
/api/ask with a conversation id and its record is the history; each user sees only their own
(another's is a 404, exactly as one that does not exist)."""
import pytest
from fastapi.testclient import TestClient

from assistant.accounts.auth import AuthDb
from assistant.core.ingestion import ingest_bytes
from tests.engines import ENGINES, services_for, settings_for

PASSWORD = "fjalëkalim-i-gjatë"
REGULATION = ("Rregullore e Këshillit Vendor të Sigurisë Publike\n\n"
              "Neni 4. Përbërja. KVSP-ja kryesohet nga kryetari i bashkisë. Anëtarë të KVSP-së janë drejtuesi "
              "i komisariatit të policisë, drejtori i arsimit dhe përfaqësues të shoqërisë civile.\n\n"
              "Neni 7. Mbledhjet. KVSP-ja mblidhet në mbledhje të zakonshme të paktën një herë në tre muaj.\n")
FIRST, FOLLOW_UP = "Kush e kryeson KVSP-në?", "Po sa shpesh mblidhet?"


@pytest.fixture(params=ENGINES)
def fresh_services(request, tmp_path, services):
    with services_for(settings_for(request.param, tmp_path / "data", request), services) as fresh:
        ingest_bytes(fresh, "rregullore-kvsp.txt", REGULATION.encode())
        yield fresh


@pytest.fixture()
def client(fresh_app):
    with TestClient(fresh_app) as c:
        yield c


@pytest.fixture()
def users(fresh_services) -> dict[str, dict]:
    """Bearer headers of two members, A and B (an admin first: it turns login on)."""
    db = AuthDb(fresh_services.database)
    db.add_user("admin-1", "admin", PASSWORD)
    for name in ("anila", "besnik"):
        db.add_user(name, "member", PASSWORD)
    return {name: {"Authorization": f"Bearer {db.new_token(name)}"} for name in ("anila", "besnik")}


def start(client, headers) -> str:
    made = client.post("/api/conversations", json={}, headers=headers)
    assert made.status_code == 201
    return made.json()["conversation"]["id"]


def test_turns_are_saved_and_the_record_is_the_history(client, users, fresh_services):
    a = users["anila"]
    conversation = start(client, a)
    first = client.post("/api/ask", json={"question": FIRST, "conversation_id": conversation}, headers=a).json()
    assert first["conversation_id"] == conversation and not first["abstained"]
    second = client.post("/api/ask", json={"question": FOLLOW_UP, "conversation_id": conversation}, headers=a).json()
    # the server's record went with the follow-up: the stored answer was read with the first question
    assert fresh_services.store.get_artifact(second["artifact_id"])["history"] == [FIRST]

    listed = client.get("/api/conversations", headers=a).json()["conversations"]
    assert [(c["id"], c["title"], c["turns"]) for c in listed] == [(conversation, FIRST, 2)]
    opened = client.get(f"/api/conversations/{conversation}", headers=a).json()["conversation"]
    assert [t["question"] for t in opened["turns"]] == [FIRST, FOLLOW_UP]
    for turn, answered in zip(opened["turns"], (first, second)):
        assert turn["id"] == answered["turn_id"] and turn["artifact_id"] == answered["artifact_id"]
        assert turn["answer"] == answered["answer"] and turn["citations"] == answered["citations"]
        assert fresh_services.store.get_artifact(turn["artifact_id"])["answer"] == turn["answer"]

    # asked again: the turn's answer is replaced in place, read with the questions before it only
    again = client.post("/api/ask", json={"question": FIRST, "conversation_id": conversation,
                                          "turn_id": first["turn_id"]}, headers=a).json()
    assert again["turn_id"] == first["turn_id"] and again["artifact_id"] != first["artifact_id"]
    assert fresh_services.store.get_artifact(again["artifact_id"])["history"] == []
    turns = client.get(f"/api/conversations/{conversation}", headers=a).json()["conversation"]["turns"]
    assert [(t["id"], t["artifact_id"]) for t in turns] == [(first["turn_id"], again["artifact_id"]),
                                                           (second["turn_id"], second["artifact_id"])]

    newer = start(client, a)
    client.post("/api/ask", json={"question": "Sa shpesh mblidhet KVSP-ja?", "conversation_id": newer}, headers=a)
    assert [c["id"] for c in client.get("/api/conversations", headers=a).json()["conversations"]] == [newer, conversation]

    assert client.delete(f"/api/conversations/{conversation}", headers=a).status_code == 204
    assert client.get(f"/api/conversations/{conversation}", headers=a).status_code == 404
    assert fresh_services.store.get_artifact(first["artifact_id"]) is not None  # the answers stay for the audit


def test_another_users_conversation_is_not_found(client, users):
    a, b = users["anila"], users["besnik"]
    conversation = start(client, a)
    client.post("/api/ask", json={"question": FIRST, "conversation_id": conversation}, headers=a)
    nowhere = "0" * 32
    assert client.get("/api/conversations", headers=b).json() == {"conversations": []}
    for method, path, body in (("GET", f"/api/conversations/{conversation}", None),
                               ("DELETE", f"/api/conversations/{conversation}", None),
                               ("POST", "/api/ask", {"question": FOLLOW_UP, "conversation_id": conversation})):
        theirs = client.request(method, path, json=body, headers=b)
        missing = client.request(method, path.replace(conversation, nowhere),
                                 json=body and {**body, "conversation_id": nowhere}, headers=b)
        # 404, not 403, and the same body as for an id that does not exist
        assert theirs.status_code == missing.status_code == 404, (method, path)
        assert theirs.json() == missing.json()
    turns = client.get(f"/api/conversations/{conversation}", headers=a).json()["conversation"]["turns"]
    assert [t["question"] for t in turns] == [FIRST]  # nothing B did reached A's conversation


def test_local_mode_keeps_the_local_users_conversations(client):
    conversation = start(client, {})
    client.post("/api/ask", json={"question": FIRST, "conversation_id": conversation})
    assert [c["title"] for c in client.get("/api/conversations").json()["conversations"]] == [FIRST]


def test_a_conversation_and_a_sent_history_do_not_mix(client):
    conversation = start(client, {})
    both = client.post("/api/ask", json={"question": FOLLOW_UP, "conversation_id": conversation, "history": [FIRST]})
    assert both.status_code == 422 and both.json()["error"]["code"] == "invalid_request"
    alone = client.post("/api/ask", json={"question": FIRST, "turn_id": "a" * 32})
    assert alone.status_code == 422
    assert client.get("/api/conversations/not-an-id").status_code == 422
    plain = client.post("/api/ask", json={"question": FIRST}).json()  # no conversation: nothing saved
    assert "conversation_id" not in plain and client.get("/api/conversations").json()["conversations"][0]["turns"] == 0


def test_deleting_a_conversation_is_audited(client, users, fresh_services):
    from assistant.accounts import audit

    a = users["anila"]
    conversation = start(client, a)
    assert client.delete(f"/api/conversations/{conversation}", headers=a).status_code == 204
    [entry] = audit.entries(fresh_services.database, action="conversation.delete")
    assert (entry["actor"], entry["object_id"]) == ("anila", conversation)
    assert client.get(f"/api/conversations/{conversation}", headers=a).status_code == 404
