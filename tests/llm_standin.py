"""A stand-in for an OpenAI-compatible chat-completions server (an outside component), shared by
the LLM tests. Subclasses say what the "model" replies; modes 'error' and 'slow' are common.
Asked with `"stream": true`, it sends the reply as OpenAI does: server-sent events of
`chat.completion.chunk` objects, one piece of text each (`token_delay` seconds apart), then
`data: [DONE]`."""
import json
import re
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatStandIn(BaseHTTPRequestHandler):
    mode = ""
    requests: list[dict] = []
    token_delay = 0.0

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
        if body.get("stream"):
            self.stream(content)
            return
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream(self, content: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # no length: the body ends when the connection closes (HTTP/1.0)
        first = {"role": "assistant", "content": ""}
        for delta in [first] + [{"content": piece} for piece in re.findall(r"\S+\s*", content)] + [{}]:
            chunk = {"object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": delta, "finish_reason": None if delta else "stop"}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
            time.sleep(self.token_delay)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@contextmanager
def serving(handler: type[ChatStandIn], mode: str):
    """Serve `handler` on a free port; yields the base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.mode, handler.requests, handler.token_delay = mode, [], 0.0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
