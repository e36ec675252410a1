"""alexbench-svm-shuffle: a LinearSVC classifier and a sentence-shuffling augmenter.

This module holds the hooks only, so that alexbench can import it cheaply to list plugins. The
classifier needs scikit-learn: it is registered lazily, with its Params class and version, so
``alexbench plugins`` reads its parameters from ``params.py`` and never imports ``svm.py``.
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

__version__ = "0.1.0"

from .shuffle import SentenceShuffle  # noqa: E402  (light: the standard library and alexbench only)


@hookimpl
def alexbench_register_augmenters(registry: Any) -> None:
    registry.add(SentenceShuffle)


@hookimpl
def alexbench_register_classifiers(registry: Any) -> None:
    registry.add_lazy("linear_svm", "alexbench_svm_shuffle.svm:LinearSvm",
                      params="alexbench_svm_shuffle.params:SvmParams", version=__version__,
                      description="TF-IDF + LinearSVC (scikit-learn); probabilities: softmax of the margins")
