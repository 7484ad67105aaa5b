"""An OpenAI- and Anthropic-compatible HTTP server for the LLM capture tests (standard library only).

    server = LlmServer().start()     # 127.0.0.1, a free port, a daemon thread
    server.base_url                   # "http://127.0.0.1:PORT"  (OpenAI: base_url=server.base_url + "/v1")
    server.requests                   # [(path, json body)] as received
    server.stop()

Endpoints: POST /v1/chat/completions, /v1/responses (OpenAI) and /v1/messages (Anthropic), each
answering JSON or, when the body has "stream": true, server-sent events in chunked encoding.
Answers are deterministic: the text is "ok N" (N = the length of the last user text), input
tokens are the characters of every text in the request // 4 + 1, output tokens 3. The model
name chooses a behaviour:

    ...-cached      usage reports 8 cached input tokens (OpenAI details; Anthropic cache_read)
    ...-reasoning   usage reports 2 reasoning output tokens (OpenAI)
    no-usage...     no usage at all in the answer (and none in a stream)
    flaky-...       the first request for that model is a 429 (retry-after-ms: 5), then as usual
    broken-...      always a 500
    cut-...         a stream that stops after its second event without ending the chunked body
    snapshot:NAME   the answer names the model NAME (a dated snapshot of the requested alias)

Streams of chat completions send usage in a last chunk only when the request asked for it with
stream_options.include_usage, as OpenAI does.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _texts(value):
    """Every text in a request's messages / input / system."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            for t in _texts(item):
                yield t
    elif isinstance(value, dict):
        for key in ("content", "text", "input", "system", "instructions"):
            if key in value:
                for t in _texts(value[key]):
                    yield t


def _last_user_text(body):
    items = body.get("messages") or body.get("input") or []
    if isinstance(items, str):
        return items
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            return "".join(_texts(item.get("content")))
    return ""


class LlmServer(object):
    def __init__(self):
        self.requests = []
        self.hits = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # answers in one round trip, not 40 ms of delayed ACK

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append((self.path, body))
                    model = str(body.get("model", ""))
                    server.hits[model] = server.hits.get(model, 0) + 1
                    hit = server.hits[model]
                path = self.path.split("?")[0]
                if model.startswith("broken-") or (model.startswith("flaky-") and hit == 1):
                    status = 500 if model.startswith("broken-") else 429
                    self._json(status, {"error": {"message": "try later", "type": "server_error"}},
                               {"retry-after-ms": "5", "retry-after": "0"})
                    return
                if path == "/v1/chat/completions":
                    self._chat(body, model)
                elif path == "/v1/responses":
                    self._responses(body, model)
                elif path == "/v1/messages":
                    self._messages(body, model)
                else:
                    self._json(404, {"error": {"message": "no such endpoint " + path}})

            # ---- helpers
            def _json(self, status, obj, headers=None):
                data = json.dumps(obj).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, events, cut=False):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for i, (name, data) in enumerate(events):
                    if cut and i == 2:
                        self.wfile.flush()
                        self.close_connection = True
                        return  # the chunked body never ends: the client sees a broken stream
                    text = ("event: %s\n" % name if name else "") + "data: %s\n\n" % (
                        data if isinstance(data, str) else json.dumps(data))
                    raw = text.encode("utf-8")
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def _common(self, body, model):
                answer = "ok %d" % len(_last_user_text(body))
                tokens_in = sum(len(t) for k in ("messages", "input", "system", "instructions")
                                for t in _texts(body.get(k))) // 4 + 1
                returned = model.split("snapshot:", 1)[1] if model.startswith("snapshot:") else model
                return answer, tokens_in, 3, returned, not model.startswith("no-usage")

            def _chat(self, body, model):
                answer, tin, tout, returned, with_usage = self._common(body, model)
                usage = {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout,
                         "prompt_tokens_details": {"cached_tokens": 8 if model.endswith("-cached") else 0},
                         "completion_tokens_details": {"reasoning_tokens": 2 if model.endswith("-reasoning") else 0}}
                base = {"id": "chatcmpl-1", "created": 1700000000, "model": returned,
                        "object": "chat.completion"}
                if not body.get("stream"):
                    obj = dict(base, choices=[{"index": 0, "finish_reason": "stop", "logprobs": None,
                                               "message": {"role": "assistant", "content": answer}}])
                    if with_usage:
                        obj["usage"] = usage
                    self._json(200, obj)
                    return
                chunk = dict(base, object="chat.completion.chunk")
                events = [(None, dict(chunk, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]))]
                for word in answer.split(" "):
                    events.append((None, dict(chunk, choices=[{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}])))
                events.append((None, dict(chunk, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])))
                if with_usage and (body.get("stream_options") or {}).get("include_usage"):
                    events.append((None, dict(chunk, choices=[], usage=usage)))
                events.append((None, "[DONE]"))
                self._sse(events, cut=model.startswith("cut-"))

            def _responses(self, body, model):
                answer, tin, tout, returned, with_usage = self._common(body, model)
                response = {"id": "resp_1", "object": "response", "created_at": 1700000000,
                            "model": returned, "status": "completed", "output": [
                                {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                                 "content": [{"type": "output_text", "text": answer, "annotations": []}]}],
                            "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
                if with_usage:
                    response["usage"] = {"input_tokens": tin, "output_tokens": tout, "total_tokens": tin + tout,
                                         "input_tokens_details": {"cached_tokens": 8 if model.endswith("-cached") else 0},
                                         "output_tokens_details": {"reasoning_tokens": 2 if model.endswith("-reasoning") else 0}}
                if not body.get("stream"):
                    self._json(200, response)
                    return
                created = dict(response, status="in_progress", output=[])
                created.pop("usage", None)
                events = [("response.created", {"type": "response.created", "sequence_number": 0, "response": created})]
                for i, word in enumerate(answer.split(" ")):
                    events.append(("response.output_text.delta", {
                        "type": "response.output_text.delta", "sequence_number": i + 1, "item_id": "msg_1",
                        "output_index": 0, "content_index": 0, "delta": word + " ", "logprobs": []}))
                events.append(("response.completed", {"type": "response.completed", "sequence_number": 9, "response": response}))
                self._sse(events, cut=model.startswith("cut-"))

            def _messages(self, body, model):
                answer, tin, tout, returned, with_usage = self._common(body, model)
                cached = 8 if model.endswith("-cached") else 0
                usage = {"input_tokens": tin, "output_tokens": tout, "cache_read_input_tokens": cached,
                         "cache_creation_input_tokens": 0}
                message = {"id": "msg_1", "type": "message", "role": "assistant", "model": returned,
                           "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
                           "stop_sequence": None}
                if with_usage:
                    message["usage"] = usage
                if not body.get("stream"):
                    self._json(200, message)
                    return
                start = dict(message, content=[], stop_reason=None)
                if with_usage:
                    start["usage"] = dict(usage, output_tokens=1)
                events = [("message_start", {"type": "message_start", "message": start}),
                          ("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": {"type": "text", "text": ""}})]
                for word in answer.split(" "):
                    events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                           "delta": {"type": "text_delta", "text": word + " "}}))
                events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
                events.append(("message_delta", {"type": "message_delta",
                                                 "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                                 **({"usage": {"output_tokens": tout}} if with_usage else {})}))
                events.append(("message_stop", {"type": "message_stop"}))
                self._sse(events, cut=model.startswith("cut-"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
