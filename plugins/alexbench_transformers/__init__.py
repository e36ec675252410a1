"""ALEX stage 2: balanced fine-tuning of a BERT-style sequence classifier (transformers + torch).

Registered lazily, with its Params class (``params.py``, no torch there) and version: importing
or listing this plugin (``alexbench plugins``) imports neither torch nor transformers; they are
loaded the first time the ``transformer`` classifier is built.
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

__version__ = "0.1.0"


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add_lazy(
        "transformer", "alexbench_transformers.classifier:TransformerClassifier",
        params="alexbench_transformers.params:TransformerParams", version=__version__, multi_label=True,
        description="fine-tuned BERT-style classifier (transformers + torch): weighted/focal loss, "
                    "best-epoch selection on dev, offline default all-MiniLM-L6-v2",
    )
    registry.add_lazy(
        "embed_logreg", "alexbench_transformers.embed:EmbedLogReg", params="alexbench_transformers.embed:EmbedParams",
        version=__version__, multi_label=True,
        description="frozen sentence embeddings (all-MiniLM-L6-v2, mean pooling; cached per post) + logistic "
                    "regression (balanced option)",
    )


@hookimpl
def alexbench_self_tests() -> list[Any]:
    from alexbench.selftest import SelfTest

    from .selftest import FIX

    return [SelfTest("torch + all-MiniLM-L6-v2 (the transformer classifier)", "alexbench_transformers.selftest:check_minilm", fix=FIX)]
