"""A stand-in for an OpenAI-compatible chat-completions server (an outside component), shared by
the LLM tests. Subclasses say what the "model" replies; modes 'error' and 'slow' are common."""
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatStandIn(BaseHTTPRequestHandler):
    mode = ""
    requests: list[dict] = []

    def reply(self, user: str, body: dict) -> str:
        raise NotImplementedError

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "slow":
            time.sleep(1.5)
        content = self.reply(body["messages"][-1]["content"], body)
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serving(handler: type[ChatStandIn], mode: str):
    """Serve `handler` on a free port; yields the base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.mode, handler.requests = mode, []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
