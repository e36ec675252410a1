"""A minimal OpenAI-compatible HTTP server around the local engine (standard library only).

``llama_cpp.server`` needs FastAPI/uvicorn, which alexbench does not install; this serves the
two endpoints litellm's ``openai/<model>`` provider uses, plus a health check:

* ``POST /v1/chat/completions`` — messages → one completion. ``response_format`` with a JSON
  schema (``{"type": "json_schema", "json_schema": {"schema": ...}}`` or ``{"type":
  "json_object", "schema": ...}``) or a ``grammar`` (GBNF, as llama.cpp's own server takes)
  constrains the output; temperature, seed, max_tokens and stop are honoured, and ``logprobs``
  with ``top_logprobs`` returns each generated token's logprob and alternatives as OpenAI does
  (what the LLM explainer's ``score`` verdict reads from hosted models).
* ``GET /v1/models`` and ``GET /health``.

Every prompt is evaluated from scratch (:class:`alexbench_llm.engine.LocalEngine` with no prefix),
so a reply depends on its request only. Prompt formats: ``plain`` (default, for base models such
as the bundled Gemma-3-270M) writes the messages' contents one after another, separated by blank
lines, as a completion prompt; ``chat`` applies the GGUF's own chat template.

Run it with ``python -m alexbench_llm.server --model file.gguf --port 8080`` and point the
explainer at it (``model = "openai/<name>"``, ``api_base``). The explainer's own ``local/...``
models do not need it: they run in the explainer's process.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alexbench.errors import AlexbenchError

from .engine import LocalEngine
from .grammar import response_format_grammar
from .prompt_format import render_plain

READY_PREFIX = "LISTENING "

__all__ = ["READY_PREFIX", "Engine", "LocalServer", "make_server", "render_plain"]


class Engine:
    """The server's model: a :class:`LocalEngine` answering OpenAI-style request bodies."""

    def __init__(self, model_path: str, *, name: str, n_ctx: int = 2048, n_threads: int = 0,
                 prompt_format: str = "plain") -> None:
        self.name = name
        self.local = LocalEngine(model_path, n_ctx=n_ctx, n_threads=n_threads, prompt_format=prompt_format)

    def chat(self, body: Mapping[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        stop = body.get("stop")
        top = body.get("top_logprobs")
        want_logprobs = bool(body.get("logprobs"))
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 20):
            raise ValueError("'top_logprobs' must be an integer from 0 to 20")
        fmt = body.get("response_format")
        out = self.local.complete(
            self.local.render(messages), prefix="",
            grammar=response_format_grammar(fmt if isinstance(fmt, Mapping) else None, body.get("grammar")),
            max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 256),
            temperature=float(body.get("temperature", 0.0) or 0.0),
            seed=int(body["seed"]) if body.get("seed") is not None else None,
            stop=[stop] if isinstance(stop, str) else (stop or []),
            top_logprobs=max(1, int(top or 0)) if want_logprobs else None)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": out.text},
                                  "finish_reason": out.finish_reason, "logprobs": None}
        if want_logprobs and out.logprobs is not None:
            def entry(token: str, logprob: float) -> dict[str, Any]:
                return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}

            choice["logprobs"] = {"content": [
                {**entry(token, lp), "top_logprobs": [entry(t, alp) for t, alp in alts[:int(top or 0)]]}
                for token, lp, alts in out.logprobs]}
        return {
            "id": f"chatcmpl-local-{time.time_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or self.name),
            "choices": [choice],
            "usage": {"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens,
                      "total_tokens": out.prompt_tokens + out.completion_tokens},
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no request log (and no headers)
        pass

    def _send(self, status: int, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/health", "/v1/health"):
            self._send(200, {"status": "ok", "model": self.server.engine.name})
        elif self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.engine.name, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            self._send(400, {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request_error"}})
            return
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            self._send(200, self.server.engine.chat(body))
        except (ValueError, TypeError, KeyError) as exc:
            self._send(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            self._send(500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        super().__init__(address, _Handler)
        self.engine = engine


def make_server(engine: Engine, host: str = "127.0.0.1", port: int = 0) -> _Server:
    """Bind (port 0: a free port) without serving yet; ``server.server_address`` has the port."""
    return _Server((host, port), engine)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m alexbench_llm.server", description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="", help="GGUF file (default: the bundled Gemma-3-270M)")
    ap.add_argument("--name", default="", help="model name reported by the server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = a free port (printed on stdout)")
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--n-threads", type=int, default=0, help="0 = the idle cores, checked before each request (1 to 4)")
    ap.add_argument("--prompt-format", choices=("plain", "chat"), default="plain")
    args = ap.parse_args(argv)
    from .local_model import BUNDLED_NAME, resolve_local_model

    model = resolve_local_model(args.model)
    engine = Engine(str(model.path), name=args.name or (Path(args.model).stem if args.model else BUNDLED_NAME),
                    n_ctx=args.n_ctx, n_threads=args.n_threads, prompt_format=args.prompt_format)
    server = make_server(engine, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"{READY_PREFIX}http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class LocalServer:
    """Starts ``python -m alexbench_llm.server`` on 127.0.0.1 (a free port), waits until it
    answers its health check, and stops it on exit. ``api_base`` is the URL for litellm. (The
    explainer's ``local/...`` models run in a child process of its own; this is for reaching the
    local model the way a hosted one is reached, e.g. in tests and benchmarks.)"""

    def __init__(self, gguf: str = "", *, name: str = "", n_ctx: int = 2048, n_threads: int = 0,
                 startup_timeout_s: float = 120.0) -> None:
        self.cmd = [sys.executable, "-m", "alexbench_llm.server", "--host", "127.0.0.1", "--port", "0",
                    "--n-ctx", str(n_ctx), "--n-threads", str(n_threads)]
        if gguf:
            self.cmd += ["--model", gguf]
        if name:
            self.cmd += ["--name", name]
        self.startup_timeout_s = startup_timeout_s
        self.api_base = ""
        self._proc: subprocess.Popen[str] | None = None
        self._log: Any = None

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()[-2000:]

    def start(self) -> str:
        self._log = tempfile.TemporaryFile(mode="w+", prefix="alexbench-llm-server-")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout_s
        while not self.api_base:
            if self._proc.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise AlexbenchError(f"the local LLM server exited during start-up:\n{tail}")
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AlexbenchError(f"the local LLM server did not start within {self.startup_timeout_s:.0f} s") from None
                continue
            if line.startswith(READY_PREFIX):
                self.api_base = line[len(READY_PREFIX):].strip()
        self._health_check(deadline)
        return self.api_base

    def _health_check(self, deadline: float) -> None:
        url = self.api_base.rsplit("/v1", 1)[0] + "/health"
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200 and json.load(resp).get("status") == "ok":
                        return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.1)
        self.stop()
        raise AlexbenchError(f"the local LLM server at {url} failed its health check: {last}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.api_base = ""

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    main()
