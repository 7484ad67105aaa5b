# -*- coding: utf-8 -*-
"""nb2prod capture of LLM calls made through the ``openai`` and ``anthropic`` clients.

Loaded by nb2prod._capture when a tracked process imports ``openai`` or ``anthropic`` (its
``sys.meta_path`` finder calls ``_patch_llm_openai`` / ``_patch_llm_anthropic`` once the
package's ``__init__`` has run).  Nothing here is imported otherwise, so a run that never
imports a client pays nothing.

What is patched (class attributes, so every client instance is covered, whatever its base_url):

* openai: ``chat.completions`` ``create`` and ``parse`` (sync and async), ``responses``
  ``create`` and ``parse``; the ``.stream()`` helpers go through ``create``;
* anthropic: ``messages`` ``create`` (sync and async) and ``stream`` (the helper);
* both: ``_sleep_for_retry`` of the base clients, to see the retries the client made.

A package whose layout is not the one known (a client version nb2prod does not know) is not
captured: one ``llm_unsupported`` event and one line on stderr, and the user's calls go on
untouched.  Every hook is defensive: a failure inside capture is a ``capture_error`` event, the
user's call and its result (or exception) are exactly those of the client.

Events (see the contract in nb2prod/_capture.py):

{"type":"llm_call","call":{ATTRIBUTES}}
    One per call, when it ended (a stream: when it was read to its end, failed, was closed or
    dropped).  Attribute names follow the OpenTelemetry GenAI semantic conventions (gen_ai.*,
    server.*, error.type); what they lack is under nb2prod.*.  Absent attribute = unknown.
      gen_ai.operation.name "chat"; gen_ai.provider.name; server.address; server.port;
      gen_ai.request.model|temperature|top_p|max_tokens|seed|stop_sequences|choice.count;
      gen_ai.response.model|id|finish_reasons;
      gen_ai.usage.input_tokens (all input tokens, cached ones included: Anthropic's uncached
      input_tokens + cache_read + cache_creation), gen_ai.usage.output_tokens (reasoning
      included), gen_ai.usage.cache_read.input_tokens, gen_ai.usage.cache_creation.input_tokens,
      gen_ai.usage.reasoning.output_tokens;
      error.type (the HTTP status code as text, else the exception's class name);
      nb2prod.api ("chat.completions" | "responses" | "messages"); nb2prod.client ("openai 3.60.0");
      nb2prod.stream; nb2prod.status ("ok" | "error" | "interrupted": a stream that ended
      before its last event); nb2prod.usage ("reported" | "missing"); nb2prod.latency_ms;
      nb2prod.first_chunk_ms (streams); nb2prod.started_at (epoch seconds); nb2prod.location;
      nb2prod.retries and nb2prod.retry_reasons (status codes, or "timeout"/"connection");
      nb2prod.error.message; nb2prod.prompt.sha256 (the prompt version) and nb2prod.prompt.name;
      nb2prod.input.messages ([{role, types, sha256, length}] or, with content capture, the
      messages' text) and nb2prod.output ({sha256, length} or {text}).
{"type":"llm_prompt","sha256":VERSION,"name":NAME_OR_NULL,"texts":[{"role","text"}],
 "templates":[{"name","sha256","text"}],"structure":[[ROLE,[TYPE...]]]}
    Once per prompt version per process: what the version hashes (the system / instruction
    texts, the named templates of templated messages, the roles and content types).
{"type":"llm_unsupported","package":P,"version":V,"reason":R}
    The client is installed but its calls are not captured.
"""
import contextvars
import hashlib
import json
import os
import re
import string
import sys
import time

from . import _capture as C

_current = contextvars.ContextVar("nb2prod_llm_call", default=None)
_content = os.environ.get("NB2PROD_CAPTURE_CONTENT") == "1"
_prompts_sent = set()
_unsupported_sent = set()
_pending = {}  # id -> _Call of streams still open, emitted at exit
_templates = []  # _Template, newest last
_MAX_REGEX_TEXT = 200000
_active = True  # tests turn capture off in-process to measure its overhead

_KNOWN_HOSTS = (
    ("api.openai.com", "openai"),
    ("api.anthropic.com", "anthropic"),
    (".openai.azure.com", "azure.ai.openai"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.x.ai", "x_ai"),
    ("api.perplexity.ai", "perplexity"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("openrouter.ai", "openrouter"),
    ("api.together.xyz", "together_ai"),
    ("api.fireworks.ai", "fireworks_ai"),
)


# --------------------------------------------------------------------------
# prompt templates (nb2prod.prompt)
# --------------------------------------------------------------------------
class _Template(object):
    __slots__ = ("name", "text", "sha256", "regex", "head", "tail")

    def __init__(self, name, text):
        self.name = name
        self.text = text
        self.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        parts = []
        literals = []
        try:
            for literal, field, _spec, _conv in string.Formatter().parse(text):
                parts.append(re.escape(literal))
                literals.append(literal)
                if field is not None:
                    parts.append("(?:.*?)")
            self.regex = re.compile("".join(parts), re.DOTALL)
        except (ValueError, re.error):
            self.regex = None
        self.head = literals[0] if literals else ""
        self.tail = literals[-1] if len(literals) > 1 else ""

    def matches(self, text):
        if self.regex is None or len(text) > _MAX_REGEX_TEXT:
            return False
        if not text.startswith(self.head) or not text.endswith(self.tail):
            return False
        return self.regex.fullmatch(text) is not None


class PromptTemplate(str):
    """A named prompt template: the template text itself (a str), whose ``format`` marks the
    text it renders so a call using it is attributed to the template."""

    def __new__(cls, name, template):
        obj = str.__new__(cls, template)
        obj.name = name
        return obj

    def format(self, *args, **kwargs):
        return RenderedPrompt(str.format(self, *args, **kwargs), self)

    def format_map(self, mapping):
        return RenderedPrompt(str.format_map(self, mapping), self)


class RenderedPrompt(str):
    """Text rendered from a PromptTemplate (a str like any other)."""

    def __new__(cls, text, template):
        obj = str.__new__(cls, text)
        obj._nb2prod_template = template
        return obj


def register_template(name, template):
    t = _Template(name, template)
    for i, old in enumerate(_templates):
        if old.name == name:
            _templates[i] = t
            break
    else:
        _templates.append(t)
    return t


def _template_of(text):
    mark = getattr(text, "_nb2prod_template", None)
    if mark is not None:
        for t in _templates:
            if t.name == mark.name and t.text == str.__str__(mark):
                return t
        return register_template(mark.name, str.__str__(mark))
    for t in reversed(_templates):
        if t.matches(text):
            return t
    return None


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def _get(obj, key, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        return getattr(obj, key, default)
    except Exception:
        return default


def _num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v if v == v else None
    return None


def _int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _sha(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _host_port(base_url):
    text = str(base_url or "")
    m = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d+))?", text)
    if not m:
        return None, None
    host = m.group(1).lower() or None
    port = int(m.group(2)) if m.group(2) else (443 if text.lower().startswith("https") else 80)
    return host, port


def _provider(package, host, port):
    if host:
        for suffix, name in _KNOWN_HOSTS:
            if host == suffix or (suffix.startswith(".") and host.endswith(suffix)):
                return name
        if port == 11434:
            return "ollama"
        return "%s:%s" % (host, port) if port else host
    return package


def _version_of(module):
    v = getattr(module, "__version__", None)
    if isinstance(v, str):
        return v
    ver = getattr(module, "_version", None)
    v = getattr(ver, "__version__", None)
    return v if isinstance(v, str) else None


# --------------------------------------------------------------------------
# messages: prompt version, hashes and lengths (or contents)
# --------------------------------------------------------------------------
def _parts(content):
    """[(type, text_or_None)] of a message's content."""
    if content is None:
        return []
    if isinstance(content, str):
        return [("text", content)]
    out = []
    try:
        items = list(content) if isinstance(content, (list, tuple)) else [content]
    except Exception:
        return [("unknown", None)]
    for part in items:
        if isinstance(part, str):
            out.append(("text", part))
            continue
        kind = _get(part, "type")
        kind = kind if isinstance(kind, str) else "unknown"
        text = _get(part, "text")
        if kind in ("text", "input_text", "output_text") and isinstance(text, str):
            out.append((kind, text))
        elif kind == "tool_result":
            out.append((kind, None))
        else:
            out.append((kind, None))
    return out


def _messages(api, kwargs):
    """[(role, [(type, text)])], system / instruction texts first."""
    msgs = []
    if api == "messages":
        system = kwargs.get("system")
        if isinstance(system, str) or isinstance(system, (list, tuple)):
            msgs.append(("system", _parts(system)))
        items = kwargs.get("messages")
    elif api == "responses":
        instructions = kwargs.get("instructions")
        if isinstance(instructions, str):
            msgs.append(("system", [("text", instructions)]))
        items = kwargs.get("input")
        if isinstance(items, str):
            msgs.append(("user", [("text", items)]))
            items = None
    else:
        items = kwargs.get("messages")
    if items is not None and not isinstance(items, (list, tuple)):
        # a generator or another iterable: reading it would leave nothing for the client
        msgs.append(("unknown", [("unknown", None)]))
        items = None
    if items is not None:
        for item in items:
            role = _get(item, "role")
            if not isinstance(role, str):
                kind = _get(item, "type")
                msgs.append((kind if isinstance(kind, str) else "item", [("unknown", None)]))
                continue
            msgs.append((role, _parts(_get(item, "content"))))
    return msgs


_SYSTEM_ROLES = ("system", "developer")


def _prompt(api, kwargs):
    """(version sha256, name, prompt event, input-messages record) of a call's messages."""
    msgs = _messages(api, kwargs)
    texts = []
    templates = {}
    structure = []
    inputs = []
    name = None
    for role, parts in msgs:
        types = []
        rec_types = []
        for kind, text in parts:
            rec_types.append(kind)
            tmpl = _template_of(text) if isinstance(text, str) and _templates else None
            if tmpl is not None:
                templates[tmpl.sha256] = tmpl
                types.append("%s:template:%s" % (kind, tmpl.sha256))
                if name is None:
                    name = tmpl.name
            else:
                types.append(kind)
                if role in _SYSTEM_ROLES and isinstance(text, str):
                    texts.append({"role": role, "text": text})
        structure.append([role, types])
        inputs.append((role, rec_types, parts))
    key = json.dumps({"texts": [[t["role"], t["text"]] for t in texts],
                      "templates": sorted(templates), "structure": structure},
                     separators=(",", ":"), ensure_ascii=False)
    version = _sha(key)
    event = None
    if version not in _prompts_sent:
        _prompts_sent.add(version)
        event = {"type": "llm_prompt", "sha256": version, "name": name, "texts": texts,
                 "templates": [{"name": t.name, "sha256": t.sha256, "text": t.text}
                               for t in templates.values()],
                 "structure": structure}
    return version, name, event, inputs


def _input_record(inputs):
    out = []
    for role, types, parts in inputs:
        if _content:
            rec = {"role": role, "parts": []}
            for kind, text in parts:
                rec["parts"].append({"type": kind, "text": str.__str__(text)} if isinstance(text, str)
                                    else {"type": kind})
        else:
            joined = "".join(str.__str__(t) for _k, t in parts if isinstance(t, str))
            rec = {"role": role, "types": types, "sha256": _sha(joined), "length": len(joined)}
        out.append(rec)
    return out


def _output_record(text):
    if text is None:
        return None
    if _content:
        return {"text": text}
    return {"sha256": _sha(text), "length": len(text)}


# --------------------------------------------------------------------------
# one call
# --------------------------------------------------------------------------
class _Call(object):
    __slots__ = ("attrs", "t0", "api", "first", "text", "done", "stream_usage", "finish",
                 "retries", "prompt_event", "emitted")

    def __init__(self, attrs, t0, api, prompt_event):
        self.attrs = attrs
        self.t0 = t0
        self.api = api
        self.first = None
        self.text = None
        self.done = False
        self.stream_usage = None
        self.finish = None
        self.retries = None
        self.prompt_event = prompt_event
        self.emitted = False


_REQUEST = (
    ("model", "gen_ai.request.model", str),
    ("temperature", "gen_ai.request.temperature", float),
    ("top_p", "gen_ai.request.top_p", float),
    ("max_tokens", "gen_ai.request.max_tokens", int),
    ("max_completion_tokens", "gen_ai.request.max_tokens", int),
    ("max_output_tokens", "gen_ai.request.max_tokens", int),
    ("seed", "gen_ai.request.seed", int),
    ("n", "gen_ai.request.choice.count", int),
)


def _begin(spec, resource, kwargs, stream):
    t0 = time.perf_counter()
    package, api = spec[0], spec[1]
    client = getattr(resource, "_client", None)
    host, port = _host_port(getattr(client, "base_url", None))
    attrs = {"gen_ai.operation.name": "chat",
             "gen_ai.provider.name": _provider(package, host, port),
             "nb2prod.api": api, "nb2prod.client": spec[2],
             "nb2prod.stream": bool(stream), "nb2prod.started_at": time.time()}
    if host:
        attrs["server.address"] = host
        attrs["server.port"] = port
    for key, attr, kind in _REQUEST:
        v = kwargs.get(key)
        if kind is str:
            if isinstance(v, str):
                attrs[attr] = v
        elif kind is int:
            v = _int(v)
            if v is not None:
                attrs[attr] = v
        else:
            v = _num(v)
            if v is not None:
                attrs[attr] = v
    stop = kwargs.get("stop", kwargs.get("stop_sequences"))
    if isinstance(stop, str):
        attrs["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attrs["gen_ai.request.stop_sequences"] = list(stop)
    version, name, event, inputs = _prompt(api, kwargs)
    attrs["nb2prod.prompt.sha256"] = version
    if name is not None:
        attrs["nb2prod.prompt.name"] = name
    attrs["nb2prod.input.messages"] = _input_record(inputs)
    loc = C._location()
    if loc is not None:
        attrs["nb2prod.location"] = loc
    return _Call(attrs, t0, api, event)


def _usage(call, usage):
    """Token counts of a usage object (any of the three APIs)."""
    if usage is None:
        return
    a = call.attrs
    if call.api == "chat.completions":
        inp, out = _int(_get(usage, "prompt_tokens")), _int(_get(usage, "completion_tokens"))
        cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
        reasoning = _int(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"))
        created = None
    elif call.api == "responses":
        inp, out = _int(_get(usage, "input_tokens")), _int(_get(usage, "output_tokens"))
        cached = _int(_get(_get(usage, "input_tokens_details"), "cached_tokens"))
        reasoning = _int(_get(_get(usage, "output_tokens_details"), "reasoning_tokens"))
        created = None
    else:  # anthropic: input_tokens counts the uncached input only
        uncached, out = _int(_get(usage, "input_tokens")), _int(_get(usage, "output_tokens"))
        cached = _int(_get(usage, "cache_read_input_tokens"))
        created = _int(_get(usage, "cache_creation_input_tokens"))
        reasoning = None
        inp = None if uncached is None else uncached + (cached or 0) + (created or 0)
    if inp is not None:
        a["gen_ai.usage.input_tokens"] = inp
    if out is not None:
        a["gen_ai.usage.output_tokens"] = out
    if cached is not None:
        a["gen_ai.usage.cache_read.input_tokens"] = cached
    if created is not None:
        a["gen_ai.usage.cache_creation.input_tokens"] = created
    if reasoning is not None:
        a["gen_ai.usage.reasoning.output_tokens"] = reasoning


def _response(call, r):
    """A complete (non-streamed) response object."""
    a = call.attrs
    model = _get(r, "model")
    if isinstance(model, str):
        a["gen_ai.response.model"] = model
    rid = _get(r, "id")
    if isinstance(rid, str):
        a["gen_ai.response.id"] = rid
    _usage(call, _get(r, "usage"))
    text = None
    if call.api == "chat.completions":
        reasons = []
        choices = _get(r, "choices") or []
        for ch in choices:
            fr = _get(ch, "finish_reason")
            if isinstance(fr, str):
                reasons.append(fr)
        if reasons:
            a["gen_ai.response.finish_reasons"] = reasons
        if choices:
            c = _get(_get(choices[0], "message"), "content")
            text = c if isinstance(c, str) else None
    elif call.api == "responses":
        status = _get(r, "status")
        reason = _get(_get(r, "incomplete_details"), "reason")
        if isinstance(reason, str):
            a["gen_ai.response.finish_reasons"] = [reason]
        elif isinstance(status, str):
            a["gen_ai.response.finish_reasons"] = [status]
        chunks = []
        for item in _get(r, "output") or []:
            for part in _get(item, "content") or []:
                t = _get(part, "text")
                if isinstance(t, str):
                    chunks.append(t)
        text = "".join(chunks) if chunks else None
    else:
        sr = _get(r, "stop_reason")
        if isinstance(sr, str):
            a["gen_ai.response.finish_reasons"] = [sr]
        chunks = []
        for block in _get(r, "content") or []:
            t = _get(block, "text")
            if isinstance(t, str):
                chunks.append(t)
        text = "".join(chunks) if chunks else None
    return text


def _chunk(call, item):
    """One streamed chunk / event."""
    if call.first is None:
        call.first = time.perf_counter()
    a = call.attrs
    if call.api == "chat.completions":
        model = _get(item, "model")
        if isinstance(model, str):
            a["gen_ai.response.model"] = model
        rid = _get(item, "id")
        if isinstance(rid, str) and "gen_ai.response.id" not in a:
            a["gen_ai.response.id"] = rid
        usage = _get(item, "usage")
        if usage is not None:
            call.stream_usage = usage
        for ch in _get(item, "choices") or []:
            fr = _get(ch, "finish_reason")
            if isinstance(fr, str):
                call.finish = (call.finish or []) + [fr]
                call.done = True
            d = _get(_get(ch, "delta"), "content")
            if isinstance(d, str) and _get(ch, "index", 0) == 0:
                call.text = (call.text or "") + d
        return
    kind = _get(item, "type")
    if call.api == "responses":
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            text = _response(call, _get(item, "response"))
            if text is not None:
                call.text = text
            call.done = True
            call.stream_usage = True
        elif kind == "response.created":
            model = _get(_get(item, "response"), "model")
            if isinstance(model, str):
                a["gen_ai.response.model"] = model
        elif kind == "response.output_text.delta":
            d = _get(item, "delta")
            if isinstance(d, str):
                call.text = (call.text or "") + d
        return
    # anthropic messages
    if kind == "message_start":
        msg = _get(item, "message")
        model = _get(msg, "model")
        if isinstance(model, str):
            a["gen_ai.response.model"] = model
        rid = _get(msg, "id")
        if isinstance(rid, str):
            a["gen_ai.response.id"] = rid
        call.stream_usage = {"start": _get(msg, "usage")}
    elif kind == "message_delta":
        sr = _get(_get(item, "delta"), "stop_reason")
        if isinstance(sr, str):
            call.finish = [sr]
        u = _get(item, "usage")
        if u is not None:
            if not isinstance(call.stream_usage, dict):
                call.stream_usage = {}
            call.stream_usage["delta"] = u
    elif kind == "message_stop":
        call.done = True
    elif kind == "content_block_delta":
        d = _get(_get(item, "delta"), "text")
        if isinstance(d, str):
            call.text = (call.text or "") + d


def _stream_usage(call):
    """Fold what the stream reported into the call's usage attributes."""
    su = call.stream_usage
    if su is None or su is True:
        return
    if call.api == "messages":
        start = su.get("start")
        delta = su.get("delta")
        merged = {}
        for src in (start, delta):
            if src is None:
                continue
            for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                      "cache_creation_input_tokens"):
                v = _int(_get(src, k))
                if v is not None:
                    merged[k] = v
        if "output_tokens" in merged and delta is not None:
            _usage(call, merged)
        return
    _usage(call, su)


def _end(call, error=None, interrupted=False):
    """Emit the call's event (once)."""
    if call.emitted:
        return
    call.emitted = True
    _pending.pop(id(call), None)
    a = call.attrs
    now = time.perf_counter()
    a["nb2prod.latency_ms"] = round((now - call.t0) * 1000.0, 3)
    if call.first is not None:
        a["nb2prod.first_chunk_ms"] = round((call.first - call.t0) * 1000.0, 3)
    if a.get("nb2prod.stream"):
        _stream_usage(call)
        if call.finish and "gen_ai.response.finish_reasons" not in a:
            a["gen_ai.response.finish_reasons"] = call.finish
    if call.retries:
        a["nb2prod.retries"] = len(call.retries)
        a["nb2prod.retry_reasons"] = call.retries
    else:
        a["nb2prod.retries"] = 0
    if error is not None:
        status = getattr(error, "status_code", None)
        a["error.type"] = str(status) if isinstance(status, int) else type(error).__name__
        msg = "%s: %s" % (type(error).__name__, error)
        a["nb2prod.error.message"] = msg[:500]
        a["nb2prod.status"] = "interrupted" if a.get("nb2prod.stream") and call.first is not None else "error"
    elif interrupted:
        a["nb2prod.status"] = "interrupted"
    else:
        a["nb2prod.status"] = "ok"
    a["nb2prod.usage"] = "reported" if ("gen_ai.usage.input_tokens" in a or "gen_ai.usage.output_tokens" in a) else "missing"
    out = _output_record(call.text)
    if out is not None:
        a["nb2prod.output"] = out
    if call.prompt_event is not None:
        C._emit(call.prompt_event)
        call.prompt_event = None
    C._emit({"type": "llm_call", "call": a})


def _guarded(where, fn, *args):
    """Run a capture step outside the busy guard's recursion check; never raise."""
    try:
        return C._guard(where, fn, *args)
    except Exception:
        return None


# --------------------------------------------------------------------------
# streams: the client's own object, its iterator observed
# --------------------------------------------------------------------------
def _observe_sync(inner, call):
    ok = False
    try:
        for item in inner:
            _guarded("llm.stream", _chunk, call, item)
            yield item
        ok = True
    except GeneratorExit:
        _guarded("llm.stream", _end, call, None, not call.done)
        raise
    except BaseException as e:
        _guarded("llm.stream", _end, call, e)
        raise
    finally:
        if ok:
            _guarded("llm.stream", _end, call, None, not call.done)


async def _observe_async(inner, call):
    ok = False
    try:
        async for item in inner:
            _guarded("llm.stream", _chunk, call, item)
            yield item
        ok = True
    except GeneratorExit:
        _guarded("llm.stream", _end, call, None, not call.done)
        raise
    except BaseException as e:
        _guarded("llm.stream", _end, call, e)
        raise
    finally:
        if ok:
            _guarded("llm.stream", _end, call, None, not call.done)


def _watch_stream(call, stream, is_async):
    """Wrap the stream object's iterator in place; False when it has none we know."""
    try:
        inner = getattr(stream, "_iterator")
    except Exception:
        return False
    if inner is None:
        return False
    wrapped = _observe_async(inner, call) if is_async else _observe_sync(inner, call)
    try:
        setattr(stream, "_iterator", wrapped)
    except Exception:
        return False
    _pending[id(call)] = call
    return True


def _result(call, result, stream, is_async):
    """Record a returned result; a stream is watched until it ends."""
    if stream and _watch_stream(call, result, is_async):
        return
    if stream or type(result).__name__.endswith("APIResponse"):
        # a stream we cannot watch, a raw HTTP response: what was asked and how long it took
        _end(call)
        return
    call.text = _response(call, result)
    _end(call)


# --------------------------------------------------------------------------
# patching
# --------------------------------------------------------------------------
def _make_wrapper(orig, spec, is_async):
    if is_async:
        async def create(self, *args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            if not C._enabled or not _active or _current.get() is not None:
                return await orig(self, *args, **kwargs)
            stream = kwargs.get("stream") is True
            call = _guarded("llm.begin", _begin, spec, self, kwargs, stream)
            if call is None:
                return await orig(self, *args, **kwargs)
            token = _current.set(call)
            try:
                result = await orig(self, *args, **kwargs)
            except BaseException as e:
                _current.reset(token)
                _guarded("llm.end", _end, call, e)
                raise
            _current.reset(token)
            _guarded("llm.result", _result, call, result, stream, True)
            return result
    else:
        def create(self, *args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            if not C._enabled or not _active or _current.get() is not None:
                return orig(self, *args, **kwargs)
            stream = kwargs.get("stream") is True
            call = _guarded("llm.begin", _begin, spec, self, kwargs, stream)
            if call is None:
                return orig(self, *args, **kwargs)
            token = _current.set(call)
            try:
                result = orig(self, *args, **kwargs)
            except BaseException as e:
                _current.reset(token)
                _guarded("llm.end", _end, call, e)
                raise
            _current.reset(token)
            _guarded("llm.result", _result, call, result, stream, False)
            return result
    return C._wraps(orig, create)


def _make_stream_helper(orig, spec):
    """anthropic's messages.stream(): the request is made when the manager is entered, by a
    functools.partial it holds; that partial is wrapped so the call is recorded then."""
    import functools

    def stream(self, *args, **kwargs):
        __tracebackhide__ = True
        manager = orig(self, *args, **kwargs)
        if not C._enabled or not _active:
            return manager
        _guarded("llm.stream_helper", _wrap_manager, manager, spec, self, kwargs, functools)
        return manager
    return C._wraps(orig, stream)


def _wrap_manager(manager, spec, resource, kwargs, functools):
    """Swap the manager's pending request -- a partial of the client's post (sync), or the
    not yet awaited coroutine of it (async) -- for one that records the call."""
    import inspect
    for key, value in list(vars(manager).items()):
        if isinstance(value, functools.partial) and getattr(value.func, "__name__", "") == "post":
            setattr(manager, key, functools.partial(_observed_request, value, spec, resource, kwargs))
            return
        if inspect.iscoroutine(value):
            setattr(manager, key, _observed_request_async(value, spec, resource, kwargs))
            return
    raise RuntimeError("%s holds no request to observe" % type(manager).__name__)


def _observed_request(request, spec, resource, kwargs):
    __tracebackhide__ = True
    call = _guarded("llm.begin", _begin, spec, resource, kwargs, True)
    if call is None:
        return request()
    token = _current.set(call)
    try:
        result = request()
    except BaseException as e:
        _current.reset(token)
        _guarded("llm.end", _end, call, e)
        raise
    _current.reset(token)
    _guarded("llm.result", _result, call, result, True, False)
    return result


async def _observed_request_async(request, spec, resource, kwargs):
    __tracebackhide__ = True
    call = _guarded("llm.begin", _begin, spec, resource, kwargs, True)
    if call is None:
        return await request
    token = _current.set(call)
    try:
        result = await request
    except BaseException as e:
        _current.reset(token)
        _guarded("llm.end", _end, call, e)
        raise
    _current.reset(token)
    _guarded("llm.result", _result, call, result, True, True)
    return result


def _make_retry_hook(orig, is_async):
    def reason(kwargs, args):
        response = kwargs.get("response", args[3] if len(args) > 3 else None)
        status = getattr(response, "status_code", None)
        return status if isinstance(status, int) else "connection"

    if is_async:
        async def sleep_for_retry(self, *args, **kwargs):
            call = _current.get()
            if call is not None:
                try:
                    call.retries = (call.retries or []) + [reason(kwargs, args)]
                except Exception:
                    pass
            return await orig(self, *args, **kwargs)
    else:
        def sleep_for_retry(self, *args, **kwargs):
            call = _current.get()
            if call is not None:
                try:
                    call.retries = (call.retries or []) + [reason(kwargs, args)]
                except Exception:
                    pass
            return orig(self, *args, **kwargs)
    return C._wraps(orig, sleep_for_retry)


def _import(name):
    import importlib
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def _find_class(modules, cls):
    for name in modules:
        mod = _import(name)
        if mod is not None and isinstance(getattr(mod, cls, None), type):
            return getattr(mod, cls)
    return None


def _not_captured(package, version, reason):
    if package in _unsupported_sent:
        return
    _unsupported_sent.add(package)
    C._emit({"type": "llm_unsupported", "package": package, "version": version, "reason": reason})
    try:
        sys.stderr.write("nb2prod: calls made through %s %s are not captured: %s\n"
                         % (package, version or "(unknown version)", reason))
    except Exception:
        pass


def _patch_methods(package, version, targets, base_modules):
    """targets: (module names, class, method, api, async, required, stream_helper)."""
    label = "%s %s" % (package, version or "?")
    planned = []
    missing = []
    for modules, cls_name, method, api, is_async, required, helper in targets:
        cls = _find_class(modules, cls_name)
        fn = cls.__dict__.get(method) if cls is not None else None
        if fn is None or not callable(fn):
            if required:
                missing.append("%s.%s" % (cls_name, method))
            continue
        planned.append((cls, method, fn, (package, api, label, False), is_async, helper))
    if missing:
        _not_captured(package, version, "%s not found where nb2prod expects it" % ", ".join(missing))
        return
    import inspect
    for cls, method, fn, spec, is_async, helper in planned:
        if C._is_wrapped(fn):
            continue
        if helper:
            setattr(cls, method, _make_stream_helper(fn, spec))
        else:
            # async by the table, not by inspect: the clients wrap their async methods in
            # plain functions that return the coroutine
            setattr(cls, method, _make_wrapper(fn, spec, is_async))
    for name in base_modules:
        mod = _import(name)
        if mod is None:
            continue
        for cls_name, is_async in (("SyncAPIClient", False), ("AsyncAPIClient", True)):
            cls = getattr(mod, cls_name, None)
            fn = getattr(cls, "__dict__", {}).get("_sleep_for_retry") if cls is not None else None
            if fn is not None and not C._is_wrapped(fn):
                setattr(cls, "_sleep_for_retry",
                        _make_retry_hook(fn, is_async and inspect.iscoroutinefunction(fn)))
        break


def _patch_llm_openai(mod):
    version = _version_of(mod)
    chat = ("openai.resources.chat.completions.completions", "openai.resources.chat.completions")
    responses = ("openai.resources.responses.responses", "openai.resources.responses")
    _patch_methods("openai", version, [
        (chat, "Completions", "create", "chat.completions", False, True, False),
        (chat, "AsyncCompletions", "create", "chat.completions", True, True, False),
        (chat, "Completions", "parse", "chat.completions", False, False, False),
        (chat, "AsyncCompletions", "parse", "chat.completions", True, False, False),
        (responses, "Responses", "create", "responses", False, False, False),
        (responses, "AsyncResponses", "create", "responses", True, False, False),
        (responses, "Responses", "parse", "responses", False, False, False),
        (responses, "AsyncResponses", "parse", "responses", True, False, False),
    ], ("openai._base_client",))


def _patch_llm_anthropic(mod):
    version = _version_of(mod)
    messages = ("anthropic.resources.messages.messages", "anthropic.resources.messages")
    _patch_methods("anthropic", version, [
        (messages, "Messages", "create", "messages", False, True, False),
        (messages, "AsyncMessages", "create", "messages", True, True, False),
        (messages, "Messages", "stream", "messages", False, False, True),
        (messages, "AsyncMessages", "stream", "messages", True, False, True),
    ], ("anthropic._base_client",))


def flush_pending():
    """Streams still open (never read to their end nor closed): recorded as interrupted."""
    for call in list(_pending.values()):
        _guarded("llm.flush", _end, call, None, True)


def _atexit():
    if C._enabled:
        flush_pending()


import atexit as _atexit_mod  # noqa: E402
_atexit_mod.register(_atexit)
