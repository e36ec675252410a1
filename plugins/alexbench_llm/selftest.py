"""The llm plugin's self-test (``alexbench doctor``): llama.cpp evaluates a prompt with the bundled
Gemma GGUF through the local judge's own engine, in the doctor's child process.

Before llama.cpp is imported (an import runs the native library's start-up code), the build is
checked against this CPU: a build that switched on an instruction set the CPU does not list
would die with SIGILL, so that is reported as what it is, with the rebuild as the fix.
"""

from __future__ import annotations

from typing import Any

from alexbench.errors import AlexbenchError
from alexbench.selftest import SelfTestFailed

from .cpubuild import (
    AMX_FLAGS,
    X86_SWITCHES,
    cpu_flags,
    cpu_model,
    is_x86,
    package_dir,
    read_record,
    record_matches,
    switches_on,
)

FIX = ("rebuild llama-cpp-python for this CPU: bash scripts/install.sh (it compiles for the features this CPU lists; "
       "ALEXBENCH_LLAMA_CMAKE_ARGS=\"-DGGML_AVX512=OFF\" turns a switch off; README, Native builds)")
#: CPU flags worth showing (the ones a llama.cpp switch needs).
SHOWN_FLAGS = tuple(dict.fromkeys(f for _, needs in X86_SWITCHES for f in needs)) + AMX_FLAGS
PROMPT = ("Post: I tested positive for covid this morning.\nLabel: positive (the author has covid).\n"
          "Is the label right? Answer with JSON.\nAnswer:")


def build_facts() -> dict[str, Any]:
    """What is known of the installed build without importing it; raises when the build asks
    for instructions this CPU does not list."""
    pkg = package_dir()
    if pkg is None:
        raise SelfTestFailed("llama-cpp-python is not installed", FIX)
    flags = cpu_flags()
    facts: dict[str, Any] = {"cpu": cpu_model(), "package": str(pkg)}
    if is_x86():
        facts["cpu lists"] = " ".join(f for f in SHOWN_FLAGS if f in flags) or "none of the SIMD flags"
    record = read_record(pkg)
    problem = record_matches(record, pkg)
    if record is None or problem:
        facts["build"] = (f"{problem}: pip's default build compiles for the building machine's own CPU "
                          "(-march=native), which may not be this one")
        return facts
    args = [str(a) for a in record.get("cmake_args", [])]  # type: ignore[union-attr]
    facts["build"] = (f"{record.get('key')} by scripts/install.sh on {record.get('cpu_model')}, profile "
                      f"{record.get('profile', 'portable')}: {' '.join(args)}")
    amx = record.get("amx")
    if isinstance(amx, dict):
        facts["amx"] = f"{'on' if amx.get('on') else 'off'} ({amx.get('reason')})"
    if is_x86():
        needs = dict(X86_SWITCHES) | {s: AMX_FLAGS for s in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")}
        lacking = sorted({f for switch in switches_on(args) for f in needs.get(switch, ()) if f not in flags})
        if lacking:
            raise SelfTestFailed(f"llama-cpp-python was built for CPU features this CPU does not list ({', '.join(lacking)}; "
                                 f"built on {record.get('cpu_model')}): it would die with SIGILL", FIX)
    return facts


def check_engine() -> dict[str, Any]:
    """Load the bundled GGUF in the judge's engine, score a verdict and generate a short reply."""
    facts = build_facts()
    import llama_cpp

    from .engine import LocalEngine
    from .grammar import schema_grammar
    from .local_model import bundled_gguf
    from .verdict import VERDICT_OPEN

    facts["llama-cpp-python"] = llama_cpp.__version__
    facts["system info"] = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip()
    try:
        model = bundled_gguf()
    except AlexbenchError as exc:  # a damaged or unreadable model file: its own fix, not a rebuild
        raise SelfTestFailed(str(exc), fix="delete the file named, then run `alexbench doctor` again: the bundled "
                             "model is assembled again from its package, offline") from exc
    facts["model"] = str(model.path)
    engine = LocalEngine(str(model.path), n_ctx=512)
    score = engine.verdict_score(PROMPT, opening=VERDICT_OPEN)
    grammar = schema_grammar({"type": "object", "properties": {"verdict": {"type": "boolean"}},
                              "required": ["verdict"], "additionalProperties": False})
    reply = engine.complete(PROMPT, grammar=grammar, max_tokens=12)
    if not 0.0 <= score.p_false_norm <= 1.0 or not reply.text.strip():
        raise SelfTestFailed(f"the engine answered nonsense: P(false) {score.p_false_norm}, reply {reply.text!r}", FIX)
    facts["prompt evaluated"] = (f"{score.prompt_tokens} tokens; P(false) = {score.p_false_norm:.3f}; "
                                 f"a grammar-constrained reply: {reply.text.strip()}")
    facts["threads"] = engine.threads
    return facts
