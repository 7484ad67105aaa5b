"""LLM calls captured in tracked runs (nb2prod/_llm.py), end to end: the real `openai` and
`anthropic` clients against our own compatible server (llm_server.py, 127.0.0.1), driven by a
script tracked with `nb2prod run` and a notebook tracked with `nb2prod track` (the built CLI,
dist/cli.js), then the envelope's `llm` section checked.

Under the venv of current releases (scripts/python/requirements-current.txt pins both clients)
every test runs. Debian's /usr/bin/python3 has neither client: there the client tests are
skipped by name, and test_capture_is_inert_without_clients asserts that capture stays out of the
way (nothing imported, no section, the run recorded as usual). The unknown-version test runs
under both, with a fake client package. Needs node and a built dist/cli.js (npm run build).
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import base_env
from llm_server import LlmServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "dist", "cli.js")
NODE = shutil.which("node")
HAVE_CLIENTS = all(importlib.util.find_spec(m) is not None for m in ("openai", "anthropic"))
IN_VENV = sys.prefix != sys.base_prefix
SECRET = "sk-live-planted-secret-0123456789"

needs_clients = pytest.mark.skipif(not HAVE_CLIENTS and not IN_VENV,
                                   reason="Debian's python3 has no openai/anthropic client "
                                          "(test_capture_is_inert_without_clients covers it)")


def setup_module(module):
    if not (NODE and os.path.isfile(CLI)):
        pytest.fail("the LLM capture tests run the built CLI: node and %s are needed (npm run build)" % CLI)
    if IN_VENV and not HAVE_CLIENTS:
        pytest.fail("the venv of current releases must have openai and anthropic "
                    "(scripts/python/requirements-current.txt)")


@pytest.fixture(scope="module")
def server():
    s = LlmServer().start()
    yield s
    s.stop()


def nb2prod(cwd, *args, env=None, check=True):
    e = base_env(**(env or {}))
    e["PYTHONPATH"] = os.pathsep.join(p for p in (env or {}).get("PYTHONPATH", "").split(os.pathsep) if p)
    e["NB2PROD_PYTHON"] = sys.executable
    e["OPENAI_API_KEY"] = SECRET
    proc = subprocess.run([NODE, CLI] + list(args), cwd=str(cwd), env=e, capture_output=True,
                          text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("nb2prod %s failed (%s)\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


def track_script(tmp_path, code, *flags, env=None):
    (tmp_path / "llm_job.py").write_text(textwrap.dedent(code), encoding="utf-8")
    proc = nb2prod(tmp_path, "run", "--json", *flags, "--", sys.executable, "llm_job.py", env=env)
    return envelope_of(proc.stdout), proc


def envelope_of(stdout):
    """The envelope --json printed after what the program printed."""
    return json.loads(stdout[stdout.index('{\n  "schema"'):])


def store_bytes(tmp_path):
    """Every byte nb2prod kept, file by file."""
    out = {}
    for dirpath, _dirs, files in os.walk(str(tmp_path / ".nb2prod")):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                out[os.path.join(dirpath, name)] = fh.read()
    return out


def calls_of(envelope, tmp_path):
    llm = envelope["llm"]
    if "calls" in llm:
        return llm["calls"]
    with open(str(tmp_path / ".nb2prod" / "objects" / llm["callsObject"]["sha256"]), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------------------------------------
# both interpreters
# ---------------------------------------------------------------------------------------------
def test_capture_is_inert_without_clients(tmp_path):
    """A script that may try the clients: where they are missing (Debian) it goes on, the run is
    recorded as usual and carries no llm section; nothing of the LLM capture is imported."""
    envelope, proc = track_script(tmp_path, """\
        import sys
        import nb2prod
        try:
            import openai  # noqa: F401
            have = True
        except ImportError:
            have = False
        print("clients", have)
        print("llm module loaded", "nb2prod._llm" in sys.modules)
        nb2prod.log_metric("answer", 42)
        """, env={"CLIENT_TRY": "1"} if HAVE_CLIENTS else None)
    assert envelope["status"] == "succeeded"
    assert envelope["metrics"]["answer"]["value"] == 42
    assert "llm" not in envelope
    if not HAVE_CLIENTS:
        assert "clients False" in proc.stdout
        assert "llm module loaded False" in proc.stdout
        assert "not captured" not in proc.stderr


def test_an_unknown_client_version_is_not_captured_with_one_warning(tmp_path):
    """A client whose layout nb2prod does not know (here a fake openai 0.28-style package): its
    calls work untouched, one warning, and the envelope says what was not captured."""
    fake = tmp_path / "fake"
    (fake / "openai").mkdir(parents=True)
    (fake / "openai" / "__init__.py").write_text(textwrap.dedent("""\
        __version__ = "0.28.1"
        class ChatCompletion(object):
            @staticmethod
            def create(**kwargs):
                return {"choices": [{"message": {"content": "legacy " + kwargs["model"]}}]}
        """), encoding="utf-8")
    envelope, proc = track_script(tmp_path, """\
        import openai
        import openai as again
        for i in range(3):
            print(openai.ChatCompletion.create(model="m%d" % i, messages=[])["choices"][0]["message"]["content"])
        """, env={"PYTHONPATH": str(fake)})
    assert envelope["status"] == "succeeded"
    assert proc.stdout.count("legacy m") == 3
    assert proc.stderr.count("are not captured") == 1, proc.stderr
    assert "openai 0.28.1" in proc.stderr
    llm = envelope["llm"]
    assert llm["notCaptured"] == [{"package": "openai", "version": "0.28.1", "reason": llm["notCaptured"][0]["reason"]}]
    assert "Completions.create" in llm["notCaptured"][0]["reason"]
    assert llm["summary"]["calls"] == 0 and llm["calls"] == []


# ---------------------------------------------------------------------------------------------
# the real clients (venv of current releases)
# ---------------------------------------------------------------------------------------------
SCRIPT = """\
import asyncio, base64, os, sys
import anthropic, openai
import nb2prod

BASE = os.environ["LLM_BASE"]
oa = openai.OpenAI(base_url=BASE + "/v1", api_key=os.environ["OPENAI_API_KEY"], max_retries=2)
an = anthropic.Anthropic(base_url=BASE, api_key=os.environ["OPENAI_API_KEY"], max_retries=2)
qa = nb2prod.prompt("qa", "Answer in one word: {question}")
SYSTEM = "You are terse."
out = []

# 1-2: a named template, two values: one prompt version
for q in ("colour of the sky?", "capital of France?"):
    r = oa.chat.completions.create(model="gpt-4o-mini-2024-07-18", temperature=0.2, top_p=0.9, max_tokens=16,
                                   seed=7, stop=["END"], messages=[{"role": "system", "content": SYSTEM},
                                                                   {"role": "user", "content": qa.format(question=q)}])
    out.append(r.choices[0].message.content)
# 3: streamed, usage asked for
text = "".join(c.choices[0].delta.content or "" for c in oa.chat.completions.create(
    model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
    messages=[{"role": "user", "content": "stream me"}]) if c.choices)
out.append(text)
# 4: streamed, usage not asked for: unknown, and not asked on the user's behalf
out.append("".join(c.choices[0].delta.content or "" for c in oa.chat.completions.create(
    model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "no usage please"}]) if c.choices))
# 5: a 429, then success
out.append(oa.chat.completions.create(model="flaky-gpt", messages=[{"role": "user", "content": "x"}]).choices[0].message.content)
# 6: 500 twice: the user's code sees the client's error
try:
    oa.with_options(max_retries=1).chat.completions.create(model="broken-gpt", messages=[{"role": "user", "content": "x"}])
except openai.InternalServerError as e:
    out.append("error %s" % e.status_code)
# 7: a stream cut mid-way
try:
    for c in oa.chat.completions.create(model="cut-gpt", stream=True, messages=[{"role": "user", "content": "cut"}]):
        pass
except Exception as e:
    out.append("cut " + type(e).__name__)
# 8: a 1 MB prompt and an image part
big = "lorem ipsum " * 90000
png = base64.b64encode(b"\\x89PNG fake image bytes" * 100).decode()
out.append(oa.chat.completions.create(model="gpt-4o-cached", messages=[{"role": "user", "content": [
    {"type": "text", "text": big}, {"type": "image_url", "image_url": {"url": "data:image/png;base64," + png}}]}]).choices[0].message.content)
# 9-10: responses API, plain and streamed
out.append(oa.responses.create(model="o4-mini-reasoning", instructions="Think, then answer.", input="why?").output_text)
for ev in oa.responses.create(model="gpt-4.1", input="stream the response", stream=True):
    pass
# 11-13: anthropic: create, create(stream=True), messages.stream()
out.append(an.messages.create(model="claude-sonnet-4-5-20250929", max_tokens=64, system=SYSTEM, stop_sequences=["END"],
                              messages=[{"role": "user", "content": "hello"}]).content[0].text)
for ev in an.messages.create(model="claude-haiku-4-5-cached", max_tokens=64, stream=True, messages=[{"role": "user", "content": "hi"}]):
    pass
with an.messages.stream(model="claude-3-5-haiku-latest", max_tokens=64, messages=[{"role": "user", "content": "hey"}]) as s:
    out.append(s.get_final_text())
# 14: a model with no usage at all
out.append(an.messages.create(model="no-usage-claude", max_tokens=8, messages=[{"role": "user", "content": "?"}]).content[0].text)
# 15: an alias answered by a dated snapshot
oa.chat.completions.create(model="snapshot:gpt-4o-2024-11-20", messages=[{"role": "user", "content": "alias"}])

async def main():
    ao = openai.AsyncOpenAI(base_url=BASE + "/v1", api_key="k")
    aa = anthropic.AsyncAnthropic(base_url=BASE, api_key="k")
    r = await ao.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "async"}])  # 16
    out.append(r.choices[0].message.content)
    n = 0
    async for c in await ao.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                                    messages=[{"role": "user", "content": "async stream"}]):  # 17
        n += 1
    m = await aa.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "async"}])  # 18
    out.append(m.content[0].text)
    async with aa.messages.stream(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "async stream"}]) as s:  # 19
        async for _ in s:
            pass
asyncio.run(main())
print("RESULTS", out)
"""


def _by_model(calls):
    out = {}
    for c in calls:
        out.setdefault(c["gen_ai.request.model"], []).append(c)
    return out


@needs_clients
def test_a_tracked_script_records_every_call(tmp_path, server):
    env = {"LLM_BASE": server.base_url}
    # the same script untracked: what the user's code sees must not change
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "llm_job.py").write_text(SCRIPT, encoding="utf-8")
    plain_env = base_env(LLM_BASE=server.base_url, OPENAI_API_KEY=SECRET)
    plain = subprocess.run([sys.executable, "llm_job.py"], cwd=str(tmp_path / "plain"), env=plain_env,
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    server.hits.clear()
    before = len(server.requests)
    envelope, proc = track_script(tmp_path, SCRIPT, env=env)
    assert envelope["status"] == "succeeded", proc.stderr
    results = [l for l in proc.stdout.splitlines() if l.startswith("RESULTS")]
    assert results == [l for l in plain.stdout.splitlines() if l.startswith("RESULTS")]
    assert "error 500" in results[0] and "cut APIConnectionError" in results[0]

    # stream_options is the user's business: never added
    sent = server.requests[before:]
    no_usage = [b for p, b in sent if b.get("messages") == [{"role": "user", "content": "no usage please"}]]
    assert no_usage and "stream_options" not in no_usage[0]

    llm = envelope["llm"]
    calls = calls_of(envelope, tmp_path)
    assert len(calls) == 19 and llm["summary"]["calls"] == 19
    port = int(server.base_url.rsplit(":", 1)[1])
    for c in calls:
        assert c["gen_ai.provider.name"] == "127.0.0.1:%d" % port
        assert c["server.address"] == "127.0.0.1" and c["server.port"] == port
        assert c["gen_ai.operation.name"] == "chat"
        assert c["nb2prod.location"].startswith("llm_job.py:")
        assert c["nb2prod.latency_ms"] >= 0
    m = _by_model(calls)

    first, second = m["gpt-4o-mini-2024-07-18"]
    assert first["gen_ai.request.temperature"] == 0.2 and first["gen_ai.request.top_p"] == 0.9
    assert first["gen_ai.request.max_tokens"] == 16 and first["gen_ai.request.seed"] == 7
    assert first["gen_ai.request.stop_sequences"] == ["END"]
    assert first["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert first["gen_ai.response.finish_reasons"] == ["stop"]
    assert first["gen_ai.usage.output_tokens"] == 3 and first["gen_ai.usage.input_tokens"] > 0
    assert first["nb2prod.prompt.name"] == "qa"
    assert first["nb2prod.prompt.sha256"] == second["nb2prod.prompt.sha256"]
    # priced as gpt-4o-mini (0.15 / 0.60 per million)
    expected = (first["gen_ai.usage.input_tokens"] * 0.15 + 3 * 0.6) / 1e6
    assert abs(first["nb2prod.cost_usd"] - expected) < 1e-12
    assert first["nb2prod.input.messages"][0] == {"role": "system", "types": ["text"], "sha256": first["nb2prod.input.messages"][0]["sha256"], "length": len("You are terse.")}

    streamed, unasked = m["gpt-4o-mini"][:2]
    assert streamed["nb2prod.stream"] is True and streamed["nb2prod.usage"] == "reported"
    assert streamed["gen_ai.usage.output_tokens"] == 3 and streamed["nb2prod.first_chunk_ms"] >= 0
    assert unasked["nb2prod.usage"] == "missing" and "gen_ai.usage.input_tokens" not in unasked
    assert unasked["nb2prod.cost_usd"] is None and unasked["nb2prod.status"] == "ok"

    flaky, = m["flaky-gpt"]
    assert flaky["nb2prod.retries"] == 1 and flaky["nb2prod.retry_reasons"] == [429]
    assert flaky["nb2prod.status"] == "ok"
    broken, = m["broken-gpt"]
    assert broken["nb2prod.status"] == "error" and broken["error.type"] == "500"
    assert broken["nb2prod.retries"] == 1 and broken["nb2prod.retry_reasons"] == [500]
    cut, = m["cut-gpt"]
    assert cut["nb2prod.status"] == "interrupted" and cut["nb2prod.usage"] == "missing"

    big, = m["gpt-4o-cached"]
    msg = big["nb2prod.input.messages"][0]
    assert msg["types"] == ["text", "image_url"] and msg["length"] == len("lorem ipsum ") * 90000
    assert big["gen_ai.usage.cache_read.input_tokens"] == 8

    reasoning, = m["o4-mini-reasoning"]
    assert reasoning["nb2prod.api"] == "responses" and reasoning["gen_ai.usage.reasoning.output_tokens"] == 2
    assert reasoning["gen_ai.response.finish_reasons"] == ["completed"]
    resp_stream, = m["gpt-4.1"]
    assert resp_stream["nb2prod.stream"] and resp_stream["gen_ai.usage.output_tokens"] == 3

    sonnet, = m["claude-sonnet-4-5-20250929"]
    assert sonnet["nb2prod.api"] == "messages" and sonnet["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert sonnet["gen_ai.request.stop_sequences"] == ["END"] and sonnet["gen_ai.request.max_tokens"] == 64
    assert sonnet["nb2prod.client"].startswith("anthropic ")
    haiku_stream, = m["claude-haiku-4-5-cached"]
    # Anthropic's input_tokens leaves out cached tokens; the convention's count includes them
    assert haiku_stream["gen_ai.usage.cache_read.input_tokens"] == 8
    assert haiku_stream["gen_ai.usage.input_tokens"] >= 8 + 1
    helper, = m["claude-3-5-haiku-latest"]
    assert helper["nb2prod.stream"] and helper["gen_ai.usage.output_tokens"] == 3
    assert helper["nb2prod.cost_usd"] is not None  # priced as claude-3-5-haiku
    nousage, = m["no-usage-claude"]
    assert nousage["nb2prod.usage"] == "missing" and nousage["nb2prod.cost_usd"] is None
    alias, = m["snapshot:gpt-4o-2024-11-20"]
    assert alias["gen_ai.response.model"] == "gpt-4o-2024-11-20" and alias["nb2prod.cost_usd"] is not None

    assert [c["nb2prod.api"] for c in m["claude-haiku-4-5"]] == ["messages", "messages"]
    assert all(c["gen_ai.usage.output_tokens"] == 3 for c in m["claude-haiku-4-5"])
    assert len(m["gpt-4o-mini"]) == 4

    s = llm["summary"]
    assert (s["errors"], s["interrupted"], s["usageMissing"]) == (1, 1, 4)
    assert s["costComplete"] is False and s["costUsd"] > 0
    assert s["latencyP50Ms"] <= s["latencyP95Ms"]
    assert llm["prices"]["version"] and llm["contentCaptured"] is False
    qa = [p for p in llm["prompts"] if p["name"] == "qa"]
    assert len(qa) == 1 and qa[0]["calls"] == 2
    objects = tmp_path / ".nb2prod" / "objects"
    assert (objects / qa[0]["templates"][0]["sha256"]).read_text() == "Answer in one word: {question}"
    assert (objects / qa[0]["texts"][0]["sha256"]).read_text() == "You are terse."

    # no message content without opting in, and never the API key
    everything = store_bytes(tmp_path)
    for path, data in everything.items():
        assert SECRET.encode() not in data, path
        if path.endswith(envelope["source"]["snapshot"]):
            continue  # the script itself: its code holds the questions
        assert b"colour of the sky" not in data, path
        assert b"lorem ipsum lorem" not in data, path

    shown = nb2prod(tmp_path, "show", envelope["id"]).stdout
    assert "LLM calls:" in shown and "19 calls (1 error, 1 interrupted, 4 without usage)" in shown
    assert "prompt qa " in shown and "costs from price table" in shown


@needs_clients
def test_capture_content_keeps_messages_when_asked(tmp_path, server):
    code = """\
        import os, openai
        c = openai.OpenAI(base_url=os.environ["LLM_BASE"] + "/v1", api_key="k")
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "the secret-free question"}])
        """
    envelope, _ = track_script(tmp_path, code, "--capture-content", env={"LLM_BASE": server.base_url})
    call, = envelope["llm"]["calls"]
    assert envelope["llm"]["contentCaptured"] is True
    assert call["nb2prod.input.messages"] == [{"role": "user", "parts": [{"type": "text", "text": "the secret-free question"}]}]
    assert call["nb2prod.output"] == {"text": "ok 24"}
    # the project setting does the same
    (tmp_path / "nb2prod.toml").write_text("[track]\ncapture_content = true\n")
    envelope, _ = track_script(tmp_path, code, env={"LLM_BASE": server.base_url})
    assert envelope["llm"]["contentCaptured"] is True


@needs_clients
def test_project_prices_override_the_table(tmp_path, server):
    (tmp_path / "nb2prod.toml").write_text('[llm.prices]\n"local-llama" = { input = 1000000, output = 2000000 }\n')
    envelope, _ = track_script(tmp_path, """\
        import os, openai
        c = openai.OpenAI(base_url=os.environ["LLM_BASE"] + "/v1", api_key="k")
        c.chat.completions.create(model="local-llama", messages=[{"role": "user", "content": "12345678"}])
        """, env={"LLM_BASE": server.base_url})
    llm = envelope["llm"]
    call, = llm["calls"]
    assert llm["prices"]["version"].endswith("+config") and llm["prices"]["overridden"] == ["local-llama"]
    assert call["nb2prod.cost_usd"] == call["gen_ai.usage.input_tokens"] * 1 + 3 * 2


@needs_clients
def test_many_calls_go_to_a_side_object(tmp_path, server):
    envelope, _ = track_script(tmp_path, """\
        import os, openai
        c = openai.OpenAI(base_url=os.environ["LLM_BASE"] + "/v1", api_key="k")
        for i in range(150):
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "q%d" % i}])
        """, env={"LLM_BASE": server.base_url})
    llm = envelope["llm"]
    assert "calls" not in llm and llm["callsObject"]["count"] == 150
    assert len(calls_of(envelope, tmp_path)) == 150 and llm["summary"]["calls"] == 150


NOTEBOOK_CELLS = [
    "import os\nimport openai, anthropic\nimport nb2prod\nBASE = os.environ['LLM_BASE']",
    "oa = openai.OpenAI(base_url=BASE + '/v1', api_key=os.environ['OPENAI_API_KEY'])\n"
    "r = oa.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'cell two'}])\n"
    "print(r.choices[0].message.content)",
    "aa = anthropic.AsyncAnthropic(base_url=BASE, api_key='k')\n"
    "m = await aa.messages.create(model='claude-haiku-4-5', max_tokens=8, messages=[{'role': 'user', 'content': 'top-level await'}])\n"
    "m.content[0].text",
    "stream = oa.chat.completions.create(model='gpt-4o-mini', stream=True, messages=[{'role': 'user', 'content': 'left open'}])\n"
    "first = next(iter(stream))",
]


@needs_clients
def test_a_tracked_notebook_records_its_calls_by_cell(tmp_path, server):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c%d" % i, "metadata": {},
                     "outputs": [], "source": src} for i, src in enumerate(NOTEBOOK_CELLS)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "llm.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = nb2prod(tmp_path, "track", "llm.ipynb", "--json", env={"LLM_BASE": server.base_url})
    envelope = envelope_of(proc.stdout)
    assert envelope["status"] == "succeeded", proc.stderr
    calls = envelope["llm"]["calls"]
    assert [(c["gen_ai.request.model"], c["nb2prod.location"]) for c in calls] == [
        ("gpt-4o-mini", "cell 1, line 2"), ("claude-haiku-4-5", "cell 2, line 2"), ("gpt-4o-mini", "cell 3, line 1")]
    # the stream left open when the kernel shut down is recorded as interrupted
    assert calls[2]["nb2prod.status"] == "interrupted" and calls[2]["nb2prod.stream"] is True
    assert calls[1]["gen_ai.usage.output_tokens"] == 3
    for path, data in store_bytes(tmp_path).items():
        assert SECRET.encode() not in data, path


@needs_clients
def test_capture_overhead_per_call_is_under_a_millisecond(tmp_path, server):
    """The same non-streamed call to the local server, capture on and off in turn in one tracked
    process (nb2prod._llm._active), 300 times each: the difference of the medians."""
    code = """\
        import os, statistics, time, openai
        from nb2prod import _llm
        c = openai.OpenAI(base_url=os.environ["LLM_BASE"] + "/v1", api_key="k")
        msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "overhead?"}]
        on, off = [], []
        for i in range(330):
            for active, bucket in ((True, on), (False, off)):
                _llm._active = active
                t = time.perf_counter()
                c.chat.completions.create(model="gpt-4o-mini", messages=msgs, temperature=0)
                if i >= 30:
                    bucket.append(time.perf_counter() - t)
        print("MEDIANS", statistics.median(on) * 1000, statistics.median(off) * 1000)
        """
    envelope, proc = track_script(tmp_path, code, env={"LLM_BASE": server.base_url})
    on, off = map(float, [l for l in proc.stdout.splitlines() if l.startswith("MEDIANS")][0].split()[1:])
    print("capture overhead: median %.3f ms captured vs %.3f ms not (%.3f ms)" % (on, off, on - off))
    assert envelope["llm"]["summary"]["calls"] == 330
    assert on - off <= 1.0, (on, off)


@needs_clients
def test_odd_inputs_reach_the_client_untouched(tmp_path, server):
    """Messages given as a generator (reading it would leave the client nothing), a tuple, a
    positional-free call with unknown extra arguments: the answers are the client's own."""
    envelope, proc = track_script(tmp_path, """\
        import os, openai
        c = openai.OpenAI(base_url=os.environ["LLM_BASE"] + "/v1", api_key="k")
        gen = ({"role": "user", "content": t} for t in ["from a generator"])
        print("A", c.chat.completions.create(model="gpt-4o-mini", messages=gen).choices[0].message.content)
        print("B", c.chat.completions.create(model="gpt-4o-mini", messages=({"role": "user", "content": "tuple"},),
                                             extra_body={"x": 1}, temperature=None).choices[0].message.content)
        """, env={"LLM_BASE": server.base_url})
    assert "A ok 16" in proc.stdout and "B ok 5" in proc.stdout
    gen_call, tuple_call = envelope["llm"]["calls"]
    assert gen_call["nb2prod.status"] == "ok" and gen_call["nb2prod.input.messages"][0]["role"] == "unknown"
    assert tuple_call["nb2prod.input.messages"][0]["length"] == 5
    assert "gen_ai.request.temperature" not in tuple_call
