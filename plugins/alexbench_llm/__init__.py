"""ALEX stage 3: the LLM explainer, built on litellm, with a local Gemma-3-270M by default.

Registered lazily, so importing this plugin imports neither litellm nor llama-cpp-python.
See docs/explainers.md.
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

# 0.2.0: the local server evaluates every prompt from scratch (replies no longer depend on the
# previous request), so runs and cached replies of 0.1.0 are not reused.
# 0.3.0: local models run in-process with the template prefix's saved state restored before each
# post (deterministic, not bit-identical to 0.2.0's from-scratch replies); verdict = "score".
# Still 0.3.0 since the engine moved into a child process (issue 26): the same evaluation gives
# the same replies bit for bit, so runs and cached replies stay valid.
__version__ = "0.3.0"


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add_lazy("llm", "alexbench_llm.classifier:LLMClassifier", params="alexbench_llm.classifier:LLMClassifierParams",
                      version=__version__, multi_label=True,
                      description="an LLM asked directly: each label's answer scored after a zero- or k-shot prompt "
                                  "(local Gemma-3-270M by default; any litellm model)")


@hookimpl
def alexbench_register_explainers(registry: Any) -> None:
    registry.add_lazy("oracle_judge", "alexbench_llm.oracle:OracleJudge", params="alexbench_llm.oracle:OracleParams",
                      version=__version__,
                      description="simulated judge (reads the gold labels): flips wrong predictions at catch_rate, "
                                  "right ones at false_flip_rate; its rows are marked simulated")
    registry.add_lazy("llm", "alexbench_llm.explainer:LLMExplainer", multi_label=True,
                      description="LLM checks the predicted label (local Gemma-3-270M in a child process by default; any litellm model)")


@hookimpl
def alexbench_self_tests() -> list[Any]:
    from alexbench.selftest import SelfTest

    from .selftest import FIX

    return [SelfTest("llama.cpp (the local LLM judge)", "alexbench_llm.selftest:check_engine", fix=FIX)]
