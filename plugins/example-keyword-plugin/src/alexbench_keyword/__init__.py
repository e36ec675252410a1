"""alexbench-keyword: an example third-party plugin (keyword rules + a negation back-off).

The components are registered lazily ("module:Class") and imported when a run uses them; their
modules are light, so ``alexbench plugins`` may import them to read their parameters. A component
whose module imports heavy libraries also gives ``params="module:Params"`` and ``version=...``
to ``add_lazy``, and listing plugins then never imports it (docs/plugins.md).
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

__version__ = "0.2.0"


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add_lazy("keyword_rules", "alexbench_keyword.rules:KeywordRules",
                      description="Keyword rules: given and learned words per label; most hits wins")


@hookimpl
def alexbench_register_explainers(registry: Any) -> None:
    registry.add_lazy("negation_backoff", "alexbench_keyword.backoff:NegationBackoff",
                      description="Backs a prediction off to the negative label when a negation cue occurs")
