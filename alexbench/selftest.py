"""Self-tests of the native parts a run uses, each in a child process, so a crash is a result.

A plugin whose components run native code (llama.cpp, torch, a C library behind a Python
package) registers a :class:`SelfTest` through the ``alexbench_self_tests`` hook: the part's
name, a function to call and the one-line fix when it fails. :func:`run_self_test` calls that
function in a fresh Python process (``python -m alexbench.selftest module:function``) and reads
what it reports (a few facts: versions, build flags, paths, a sample output). A crash (any
signal), a timeout, an exception or a missing report is a failed self-test naming the part, what
happened and the fix — never a crash of the caller.

``alexbench doctor`` runs every registered self-test after printing what it knows of the
machine; ``scripts/install.sh`` runs them last (``alexbench doctor --brief``), so an install
whose main job cannot run fails there, not in the user's first run.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from alexbench.errors import AlexbenchError, crash_output, signal_text

#: How the child marks its report on stdout (anything else it prints is ignored).
REPORT_MARK = "alexbench-selftest-report: "
ERROR_MARK = "alexbench-selftest-error: "
#: Characters of a failed child's output kept in the problem line.
TAIL_CHARS = 600


@dataclass(frozen=True)
class SelfTest:
    """One native part's self-test.

    ``target`` (``"package.module:function"``) is called with no arguments in a child process;
    it exercises the part for real (a forward pass, a prompt evaluated, a look-up) and returns
    facts to show (``{"version": "0.3.36", ...}``, values turned into text), or raises with a
    message saying what is wrong. ``fix`` is the one line a user acts on when it fails.
    """

    part: str
    target: str
    fix: str
    timeout_s: float = 600.0


class SelfTestFailed(Exception):
    """Raised by a self-test's target for a failure it understands: the message is the problem,
    ``fix`` (when given) replaces the test's own one-line fix (e.g. "delete this damaged file")."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.fix = fix


@dataclass(frozen=True)
class SelfTestResult:
    part: str
    plugin: str
    ok: bool
    seconds: float
    facts: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    fix: str = ""
    signal: str | None = None

    def line(self) -> str:
        """One line: ``ok   part (1.2 s)`` or ``FAILED part: problem — fix: ...``."""
        if self.ok:
            return f"ok      {self.part} ({self.seconds:.1f} s)"
        return f"FAILED  {self.part}: {self.problem} — fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "plugin": self.plugin, "ok": self.ok, "seconds": round(self.seconds, 3),
                "facts": dict(self.facts), "problem": self.problem, "fix": self.fix, "signal": self.signal}


def _tail(text: str) -> str:
    return crash_output("\n".join(line for line in text.splitlines() if not line.startswith(REPORT_MARK)), TAIL_CHARS)


def run_self_test(test: SelfTest, plugin: str, *, env: Mapping[str, str] | None = None) -> SelfTestResult:
    """Run ``test`` in a child process; every outcome is a :class:`SelfTestResult`."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "alexbench.selftest", test.target],
                              capture_output=True, text=True, timeout=test.timeout_s, check=False,
                              env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return SelfTestResult(test.part, plugin, False, time.perf_counter() - start,
                              problem=f"did not finish in {test.timeout_s:.0f} s", fix=test.fix)
    seconds = time.perf_counter() - start
    report = next((line[len(REPORT_MARK):] for line in reversed(done.stdout.splitlines())
                   if line.startswith(REPORT_MARK)), None)
    error = next((line[len(ERROR_MARK):] for line in reversed(done.stdout.splitlines())
                  if line.startswith(ERROR_MARK)), None)
    output = _tail(done.stderr + "\n" + done.stdout)
    if done.returncode < 0:
        name, text = signal_text(-done.returncode)
        return SelfTestResult(test.part, plugin, False, seconds, signal=name, fix=test.fix,
                              problem=f"crashed: died with {text}" + (f"; its last output: {output}" if output else ""))
    if error is not None:
        body = json.loads(error)
        return SelfTestResult(test.part, plugin, False, seconds, problem=str(body["problem"]),
                              fix=str(body.get("fix") or test.fix))
    if done.returncode != 0 or report is None:
        return SelfTestResult(test.part, plugin, False, seconds, fix=test.fix,
                              problem=f"exited with status {done.returncode} without a report"
                              + (f"; its last output: {output}" if output else ""))
    facts = json.loads(report)
    return SelfTestResult(test.part, plugin, True, seconds, facts={str(k): str(v) for k, v in facts.items()})


def run_all(entries: Iterable[tuple[str, SelfTest | Exception]], *,
            on_start: Callable[[str], None] | None = None) -> Iterator[SelfTestResult]:
    """Run the host's self-tests (:meth:`~alexbench.plugin.host.PluginHost.self_tests`) one after
    another; a plugin whose hook failed gives a failed result naming it."""
    for plugin, test in entries:
        if isinstance(test, Exception):
            yield SelfTestResult(f"plugin {plugin!r}", plugin, False, 0.0, problem=f"its self-tests: {test}",
                                 fix="fix or disable that plugin (alexbench plugins; ALEXBENCH_DISABLE_PLUGINS)")
            continue
        if on_start is not None:
            on_start(test.part)
        yield run_self_test(test, plugin)


def _load(target: str) -> Callable[[], Mapping[str, Any]]:
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"a self-test target is 'package.module:function', got {target!r}")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    """The child: call the target, print its facts (or its error) after a marker."""
    if len(argv) != 1:
        print("usage: python -m alexbench.selftest package.module:function", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing a self-test does may download
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        facts = _load(argv[0])()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the part
        known = isinstance(exc, (AlexbenchError, SelfTestFailed))
        message = str(exc) if known else f"{type(exc).__name__}: {exc}"
        print(ERROR_MARK + json.dumps({"problem": message, "fix": getattr(exc, "fix", "")}), flush=True)
        return 1
    print(REPORT_MARK + json.dumps({str(k): str(v) for k, v in dict(facts).items()}), flush=True)
    return 0


if __name__ == "__main__":
    # Run main() of the module under its own name, not of this ``__main__`` copy: a target raises
    # alexbench.selftest.SelfTestFailed, which must be the class main() catches.
    from alexbench.selftest import main as _main

    sys.exit(_main(sys.argv[1:]))
