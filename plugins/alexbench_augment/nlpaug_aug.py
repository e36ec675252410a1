"""nlpaug augmenters (character: keyboard, OCR, random; word: random swap/delete, spelling,
WordNet synonym). nlpaug is imported on first use; everything runs offline:

- keyboard and OCR maps and the spelling-mistake list (``res/word/spelling/spelling_en.txt``)
  ship inside the nlpaug wheel;
- the synonym augmenter reads WordNet from the alexbench NLTK data folder, and its POS tags come
  from :func:`alexbench_augment.nltkdata.pos_tag` instead of ``nltk.pos_tag`` (whose perceptron model
  is a download).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from . import __version__
from .base import GrowingAugmenter, GrowParams
from .generation import MENTION_PLACEHOLDER
from .spacing import KeepSpacing

PROTECTED = [MENTION_PLACEHOLDER, "@" + MENTION_PLACEHOLDER]


#: A share of characters or words changed.
Share = Annotated[float, Field(gt=0, le=1)]


class NlpaugAugmenter(GrowingAugmenter):
    """Calls one nlpaug augmenter until it has ``n`` distinct new texts (at most 3n tries).

    A subclass names the nlpaug class (``library``, ``"module:Class"``); it is built with the
    fields its ``Params`` add to :class:`GrowParams` (named as nlpaug names them), ``fixed``, the
    protected mention placeholder as a stop word, and a tokenizer pair that keeps the original's
    spacing ("I'm", not nlpaug's "I ' m"). :meth:`adapt` may adjust the built augmenter."""

    library: ClassVar[str]
    fixed: ClassVar[dict[str, Any]] = {}

    def library_augmenter(self) -> Any:
        """Build the nlpaug augmenter (imports nlpaug)."""
        module, _, cls = self.library.partition(":")
        shared = {f.name for f in dataclasses.fields(GrowParams)}
        own = {f.name: getattr(self.params, f.name) for f in dataclasses.fields(self.params) if f.name not in shared}
        keeper = KeepSpacing()
        aug = getattr(importlib.import_module(module), cls)(
            **own, **self.fixed, stopwords=PROTECTED, tokenizer=keeper.tokenize, reverse_tokenizer=keeper.detokenize)
        return self.adapt(aug)

    def adapt(self, aug: Any) -> Any:
        return aug

    def build_generator(self) -> Callable[[str, int], list[str]]:
        aug = self.library_augmenter()

        def generate(text: str, n: int) -> list[str]:
            out: list[str] = []
            for _ in range(3 * n):
                result = aug.augment(text)
                candidate = result[0] if isinstance(result, list) else result
                if candidate != text and candidate not in out:
                    out.append(candidate)
                if len(out) == n:
                    break
            return out

        return generate


@dataclass(frozen=True)
class CharParams(GrowParams):
    """aug_char_p: share of characters changed in a chosen word; aug_word_p: share of words chosen."""

    aug_char_p: Share = 0.3
    aug_word_p: Share = 0.3


class NlpaugKeyboard(NlpaugAugmenter):
    """nlpaug KeyboardAug: typos from neighbouring keys (English QWERTY map)."""

    name = "nlpaug_keyboard"
    version = __version__
    Params = CharParams
    operation = "nlpaug.char.KeyboardAug"
    library = "nlpaug.augmenter.char:KeyboardAug"


class NlpaugOcr(NlpaugAugmenter):
    """nlpaug OcrAug: OCR-style character confusions (0↔o, 1↔l…)."""

    name = "nlpaug_ocr"
    version = __version__
    Params = CharParams
    operation = "nlpaug.char.OcrAug"
    library = "nlpaug.augmenter.char:OcrAug"


@dataclass(frozen=True)
class RandomCharParams(CharParams):
    """action: insert | substitute | swap | delete."""

    action: Literal["insert", "substitute", "swap", "delete"] = "substitute"


class NlpaugRandomChar(NlpaugAugmenter):
    """nlpaug RandomCharAug: random character insert/substitute/swap/delete."""

    name = "nlpaug_random_char"
    version = __version__
    Params = RandomCharParams
    operation = "nlpaug.char.RandomCharAug"
    library = "nlpaug.augmenter.char:RandomCharAug"


@dataclass(frozen=True)
class WordParams(GrowParams):
    """aug_p: share of words changed."""

    aug_p: Share = 0.3


@dataclass(frozen=True)
class RandomWordParams(WordParams):
    """action: swap | delete."""

    action: Literal["swap", "delete"] = "delete"


class NlpaugRandomWord(NlpaugAugmenter):
    """nlpaug RandomWordAug: random word swap or deletion."""

    name = "nlpaug_random_word"
    version = __version__
    Params = RandomWordParams
    operation = "nlpaug.word.RandomWordAug"
    library = "nlpaug.augmenter.word:RandomWordAug"


class NlpaugSpelling(NlpaugAugmenter):
    """nlpaug SpellingAug: common misspellings (the list bundled with nlpaug, no download)."""

    name = "nlpaug_spelling"
    version = __version__
    Params = WordParams
    operation = "nlpaug.word.SpellingAug"
    library = "nlpaug.augmenter.word:SpellingAug"

    def adapt(self, aug: Any) -> Any:
        # The model de-duplicates each word's misspellings through a set: order them so that a
        # seed picks the same one in every process.
        for key, values in aug.model.dict.items():
            aug.model.dict[key] = sorted(values)
        return aug


class NlpaugSynonym(NlpaugAugmenter):
    """nlpaug SynonymAug (WordNet), with an offline POS tagger."""

    name = "nlpaug_synonym"
    version = __version__
    Params = WordParams
    operation = "nlpaug.word.SynonymAug(wordnet)"
    library = "nlpaug.augmenter.word:SynonymAug"
    fixed: ClassVar[dict[str, Any]] = {"aug_src": "wordnet"}

    def library_augmenter(self) -> Any:
        from .nltkdata import activate

        activate()  # WordNet from the alexbench NLTK data folder, before nlpaug reads it
        return super().library_augmenter()

    def adapt(self, aug: Any) -> Any:
        from .nltkdata import pos_tag

        aug.model.pos_tag = pos_tag  # instead of nltk.pos_tag, which needs a downloaded model
        return aug
