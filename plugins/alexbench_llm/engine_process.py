"""The local engine in a child process: a crash in llama.cpp fails one run, not the whole grid.

llama.cpp is native code: built for the wrong CPU, or meeting a fault of its own, it dies with a
signal (issue 26: a segmentation fault in its AMX kernels killed the grid, with no failed-run
record, no summary and no leaderboard). :class:`EngineProcess` runs :class:`~.engine.LocalEngine`
in a child Python process and forwards each request over a socket pair (pickled
``(method, args, kwargs)``; the reply is the method's value or its exception). Everything that
makes the engine fast stays in the child: the model is loaded once, the prefix states are saved
and restored there, and the ``score`` verdict is still one forward pass. What crosses the socket
per request is a prompt and a small reply (measured in docs/explainers.md: the overhead is
within the run-to-run noise of the demo).

When the child dies — any signal, or an exit without a reply — the request raises
:class:`~alexbench.errors.NativeCrash` naming the signal, the child's last output (its Python
stack from :mod:`faulthandler`) and ``alexbench doctor``; the runner records that run in
``results/failed/`` and the grid goes on. The next request starts a new child (:func:`shared_engine`).

The child ignores SIGINT (the parent handles Ctrl-C and closes it) and exits when the socket
closes, so it never outlives its parent.
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from alexbench.errors import AlexbenchError, NativeCrash, crash_output, signal_text

from .prompt_format import PROMPT_FORMATS, render_plain

#: What a crash message says the engine is.
PART = "the local LLM engine (llama.cpp)"
DOCTOR_HINT = "run `alexbench doctor` to check this machine's native builds (README, Troubleshooting)"
#: Exceptions of the engine that cross the socket as themselves (the backends catch these).
_PASSED = {"ValueError": ValueError, "RuntimeError": RuntimeError}
#: Characters of the child's last output kept in a crash message.
TAIL_CHARS = 800

_LIVE: weakref.WeakSet[EngineProcess] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for engine in list(_LIVE):
        engine.close()


class EngineError(AlexbenchError):
    """The child could not load the model (a bad file, an unknown format): the run fails with
    this message, as it would have in-process."""


class EngineProcess:
    """A :class:`~.engine.LocalEngine` in a child process, with the same ``render``,
    ``complete`` and ``verdict_score``. Requests are serialised (the engine answers one at a
    time anyway)."""

    def __init__(self, model_path: str, *, n_ctx: int = 2048, n_threads: int = 0, prompt_format: str = "plain") -> None:
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        self.model_path, self.prompt_format, self.n_ctx = model_path, prompt_format, n_ctx
        self._lock = threading.Lock()
        parent_sock, child_sock = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        here = str(Path(__file__).resolve().parents[1])  # the folder holding alexbench_llm
        env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "alexbench_llm.engine_process", str(child_sock.fileno())],
                pass_fds=[child_sock.fileno()], stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
                env=env)
        finally:
            child_sock.close()
        self._conn: Connection | None = Connection(parent_sock.detach())
        _LIVE.add(self)
        self.pid = self.proc.pid
        self._doing = "loading the model"
        info = self._call("__init__", (model_path,), {"n_ctx": n_ctx, "n_threads": n_threads,
                                                      "prompt_format": prompt_format})
        self.n_vocab = info["n_vocab"]

    @property
    def alive(self) -> bool:
        return self._conn is not None and self.proc.poll() is None

    # -- the engine's interface ------------------------------------------------------------------
    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        if self.prompt_format == "plain":
            return render_plain(messages)
        return str(self._call("render", ([dict(m) for m in messages],), {}))

    def complete(self, prompt: str, **kwargs: Any) -> Any:
        """:meth:`.engine.LocalEngine.complete` in the child."""
        return self._call("complete", (prompt,), kwargs)

    def verdict_score(self, prompt: str, **kwargs: Any) -> Any:
        """:meth:`.engine.LocalEngine.verdict_score` in the child."""
        return self._call("verdict_score", (prompt,), kwargs)

    def continuation_logprobs(self, prompt: str, continuations: Sequence[str], **kwargs: Any) -> Any:
        """:meth:`.engine.LocalEngine.continuation_logprobs` in the child."""
        return self._call("continuation_logprobs", (prompt, list(continuations)), kwargs)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._call("stats", (), {}))

    # -- the socket ------------------------------------------------------------------------------
    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            if self._conn is None:
                raise self._crash("a request after it had stopped")
            doing = self._doing if method == "__init__" else f"answering a request ({method})"
            try:
                self._conn.send((method, args, kwargs))
                status, value = self._conn.recv()
            except (EOFError, OSError):
                raise self._crash(doing) from None
        if status == "ok":
            return value
        kind, message = value
        if method == "__init__":
            self.close()
            raise EngineError(f"{PART} could not load {self.model_path}: {kind}: {message}")
        if kind in _PASSED:
            raise _PASSED[kind](message)
        raise RuntimeError(f"{kind}: {message}")

    def _crash(self, doing: str) -> NativeCrash:
        """The child is gone: what killed it, and its last output."""
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._drop()
        name, text = signal_text(-code) if code < 0 else (None, "")
        how = f"died with {text}" if code < 0 else f"exited with status {code} without a reply"
        tail = ""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 4 * TAIL_CHARS))
            tail = self._stderr.read().decode("utf-8", errors="replace").strip()
        except (OSError, ValueError):
            pass
        output = crash_output(tail, TAIL_CHARS)
        shown = f"; its last output: {output}" if output else ""
        return NativeCrash(PART, f"{PART} {how} while {doing} (child process {self.pid}, model {self.model_path}); "
                           f"{DOCTOR_HINT}{shown}",
                           signal=name, exit_status=None if code < 0 else code)

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def close(self) -> None:
        """Stop the child: closing the socket ends its loop; a child that does not stop is killed."""
        self._drop()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self._stderr.close()
        except OSError:
            pass


_ENGINES: dict[tuple[str, int, int, str], EngineProcess] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(model_path: str, *, n_ctx: int = 2048, n_threads: int = 0,
                  prompt_format: str = "plain") -> EngineProcess:
    """The engine for these settings, one child per process (a grid's runs share it and its
    prefix states). One model is kept: asking for another stops the previous child. A child
    that died is replaced by a new one."""
    key = (model_path, n_ctx, n_threads, prompt_format)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None or not engine.alive:
            for old in _ENGINES.values():
                old.close()
            _ENGINES.clear()
            engine = _ENGINES[key] = EngineProcess(model_path, n_ctx=n_ctx, n_threads=n_threads,
                                                   prompt_format=prompt_format)
        return engine


# -- the child ---------------------------------------------------------------------------------
def serve(fd: int) -> None:
    """The child's loop: the first request builds the engine, the rest call its methods."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.enable(file=sys.stderr, all_threads=False)  # a native crash prints the Python stack
    conn = Connection(fd)
    engine: Any = None
    while True:
        try:
            method, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if method == "__init__":
                from .engine import LocalEngine

                engine = LocalEngine(*args, **kwargs)
                value: Any = {"n_vocab": engine.n_vocab}
            elif method == "stats":
                value = dict(engine.stats)
            elif method in ("render", "complete", "verdict_score", "continuation_logprobs"):
                value = getattr(engine, method)(*args, **kwargs)
            else:
                raise ValueError(f"unknown request {method!r}")
            reply: tuple[str, Any] = ("ok", value)
        except Exception as exc:  # noqa: BLE001 - every error goes back to the parent
            reply = ("error", (type(exc).__name__, str(exc)))
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


if __name__ == "__main__":
    serve(int(sys.argv[1]))
