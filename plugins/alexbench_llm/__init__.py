"""ALEX stage 3: the LLM explainer, built on litellm, with a local Gemma-3-270M by default.

Registered lazily, so importing this plugin imports neither litellm nor llama-cpp-python.
See docs/explainers.md.
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

# 0.2.0: the local server evaluates every prompt from scratch (replies no longer depend on the
# previous request), so runs and cached replies of 0.1.0 are not reused.
__version__ = "0.2.0"


@hookimpl
def alexbench_register_explainers(registry: Any) -> None:
    registry.add_lazy("llm", "alexbench_llm.explainer:LLMExplainer",
                      description="LLM checks the predicted label (litellm; local Gemma-3-270M by default)")
