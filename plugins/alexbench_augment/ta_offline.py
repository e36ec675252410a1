"""TextAttack, made offline and deterministic. Importing this module imports TextAttack.

- Before the import: the alexbench NLTK data folder is activated (TextAttack builds a
  stop-word constraint at import time), the hub libraries are told to stay offline, and
  TextAttack's one-time "post-install" marker (``$TA_CACHE_DIR`` or ``~/.cache/textattack``,
  file ``post_install_check_3``) is created, because without it ``import textattack`` calls
  ``nltk.download`` six times and ``stanza.download``. That marker (and the lock file next to
  it) is all TextAttack writes to ``~/.cache`` here; its matplotlib import writes
  ``~/.cache/matplotlib``. ``TA_CACHE_DIR`` is deliberately not set by alexbench: TextAttack
  would point ``HF_HOME`` and ``XDG_CACHE_HOME`` at it.
- ``WordSwapWordNet.__init__`` calls ``nltk.download("omw-1.4")``: :class:`OfflineWordSwapWordNet`
  skips it (English WordNet needs no OMW data).
- WordNet synonyms come out of a ``set`` of strings, whose order changes with Python's hash
  seed from one process to the next: the subclasses below sort them, so a seed gives the same
  augmentations in every process.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from .nltkdata import ENGLISH_STOPWORDS, activate

POST_INSTALL_MARKER = "post_install_check_3"


def textattack_cache_dir() -> Path:
    return Path(os.environ.get("TA_CACHE_DIR") or Path.home() / ".cache" / "textattack").expanduser()


def prepare() -> None:
    activate()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    cache = textattack_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    (cache / POST_INSTALL_MARKER).touch(exist_ok=True)


prepare()

import textattack.augmentation as ta_aug  # noqa: E402
from textattack.constraints.pre_transformation import RepeatModification, StopwordModification  # noqa: E402
from textattack.transformations import (  # noqa: E402
    CompositeTransformation,
    WordDeletion,
    WordInnerSwapRandom,
    WordSwapContract,
    WordSwapQWERTY,
    WordSwapRandomCharacterSubstitution,
    WordSwapWordNet,
)
from textattack.transformations.word_insertions import WordInsertionRandomSynonym  # noqa: E402


class OfflineWordSwapWordNet(WordSwapWordNet):
    """WordSwapWordNet without the OMW download, with synonyms in a stable (sorted) order."""

    def __init__(self, language: str = "eng") -> None:  # the parent's __init__ only downloads and checks
        if language != "eng":
            raise ValueError("only English WordNet ('eng') is available offline")
        self.language = language
        self._synonyms: dict[str, list[str]] = {}

    def _get_replacement_words(self, word, random=False):  # noqa: A002 - the parent's signature
        # Memoised: the augmenter asks again for every word at every step of every attempt.
        if word not in self._synonyms:
            self._synonyms[word] = sorted(super()._get_replacement_words(word))
        return list(self._synonyms[word])


class SortedWordInsertionRandomSynonym(WordInsertionRandomSynonym):
    def _get_synonyms(self, word):
        return sorted(super()._get_synonyms(word))


def stopword_constraint(extra: tuple[str, ...] = ()) -> StopwordModification:
    return StopwordModification(stopwords=set(ENGLISH_STOPWORDS) | set(extra))


TRANSFORMATIONS = {
    "char_substitution": WordSwapRandomCharacterSubstitution,
    "qwerty": WordSwapQWERTY,
    "wordnet": OfflineWordSwapWordNet,
    "contract": WordSwapContract,
}


def alex_augmenter(names: list[str], pct_words_to_swap: float, n: int, protect: tuple[str, ...]) -> ta_aug.Augmenter:
    """ALEX's augmenter: a CompositeTransformation with RepeatModification + StopwordModification."""
    transformation = CompositeTransformation([TRANSFORMATIONS[name]() for name in names])
    return ta_aug.Augmenter(transformation=transformation,
                            constraints=[RepeatModification(), stopword_constraint(protect)],
                            pct_words_to_swap=pct_words_to_swap, transformations_per_example=n)


class OfflineEasyDataAugmenter(ta_aug.EasyDataAugmenter):
    """TextAttack's EasyDataAugmenter built from the offline, sorted transformations; its final
    ``list(set(...))`` is sorted before the (seeded) shuffle so the output is stable."""

    def __init__(self, pct_words_to_swap: float = 0.1, transformations_per_example: int = 4,
                 protect: tuple[str, ...] = ()) -> None:
        self.pct_words_to_swap = pct_words_to_swap
        self.transformations_per_example = transformations_per_example
        each = max(transformations_per_example // 4, 1)
        constraints = [RepeatModification(), stopword_constraint(protect)]

        def make(transformation):
            return ta_aug.Augmenter(transformation=transformation, constraints=constraints,
                                    pct_words_to_swap=pct_words_to_swap, transformations_per_example=each)

        self.synonym_replacement = make(OfflineWordSwapWordNet())
        self.random_deletion = make(WordDeletion())
        self.random_swap = make(WordInnerSwapRandom())
        self.random_insertion = make(SortedWordInsertionRandomSynonym())

    def augment(self, text: str) -> list[str]:
        texts: list[str] = []
        for part in (self.synonym_replacement, self.random_deletion, self.random_swap, self.random_insertion):
            texts += part.augment(text)
        texts = sorted(set(texts))
        random.shuffle(texts)
        return texts[: self.transformations_per_example]
