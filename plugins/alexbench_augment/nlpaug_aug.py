"""nlpaug augmenters (character: keyboard, OCR, random; word: random swap/delete, spelling,
WordNet synonym). nlpaug is imported on first use; everything runs offline:

- keyboard and OCR maps and the spelling-mistake list (``res/word/spelling/spelling_en.txt``)
  ship inside the nlpaug wheel;
- the synonym augmenter reads WordNet from the alexbench NLTK data folder, and its POS tags come
  from :func:`alexbench_augment.nltkdata.pos_tag` instead of ``nltk.pos_tag`` (whose perceptron model
  is a download).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import __version__
from .base import GrowingAugmenter, GrowParams
from .generation import MENTION_PLACEHOLDER
from .spacing import KeepSpacing

PROTECTED = [MENTION_PLACEHOLDER, "@" + MENTION_PLACEHOLDER]


def _check_p(**values: float) -> None:
    for key, value in values.items():
        if not 0.0 < value <= 1.0:
            raise ValueError(f"{key} must be in (0, 1], got {value}")


class NlpaugAugmenter(GrowingAugmenter):
    """Calls one nlpaug augmenter until it has ``n`` distinct new texts (at most 3n tries).
    Subclasses pass ``**self.spacing()`` to the nlpaug constructor, so augmented posts keep
    the original's spacing ("I'm", not nlpaug's "I ' m")."""

    @abc.abstractmethod
    def library_augmenter(self) -> Any:
        """Build the nlpaug augmenter (imports nlpaug)."""

    @staticmethod
    def spacing() -> dict[str, Any]:
        keeper = KeepSpacing()
        return {"tokenizer": keeper.tokenize, "reverse_tokenizer": keeper.detokenize}

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

    aug_char_p: float = 0.3
    aug_word_p: float = 0.3

    def __post_init__(self) -> None:
        _check_p(aug_char_p=self.aug_char_p, aug_word_p=self.aug_word_p)
        super().__post_init__()


class NlpaugKeyboard(NlpaugAugmenter):
    """nlpaug KeyboardAug: typos from neighbouring keys (English QWERTY map)."""

    name = "nlpaug_keyboard"
    version = __version__
    Params = CharParams
    operation = "nlpaug.char.KeyboardAug"

    def library_augmenter(self) -> Any:
        import nlpaug.augmenter.char as nac

        return nac.KeyboardAug(aug_char_p=self.params.aug_char_p, aug_word_p=self.params.aug_word_p,
                               stopwords=PROTECTED, **self.spacing())


class NlpaugOcr(NlpaugAugmenter):
    """nlpaug OcrAug: OCR-style character confusions (0↔o, 1↔l…)."""

    name = "nlpaug_ocr"
    version = __version__
    Params = CharParams
    operation = "nlpaug.char.OcrAug"

    def library_augmenter(self) -> Any:
        import nlpaug.augmenter.char as nac

        return nac.OcrAug(aug_char_p=self.params.aug_char_p, aug_word_p=self.params.aug_word_p, stopwords=PROTECTED,
                          **self.spacing())


@dataclass(frozen=True)
class RandomCharParams(CharParams):
    """action: insert | substitute | swap | delete."""

    action: str = "substitute"

    def __post_init__(self) -> None:
        if self.action not in ("insert", "substitute", "swap", "delete"):
            raise ValueError(f"action must be insert, substitute, swap or delete, got {self.action!r}")
        super().__post_init__()


class NlpaugRandomChar(NlpaugAugmenter):
    """nlpaug RandomCharAug: random character insert/substitute/swap/delete."""

    name = "nlpaug_random_char"
    version = __version__
    Params = RandomCharParams
    operation = "nlpaug.char.RandomCharAug"

    def library_augmenter(self) -> Any:
        import nlpaug.augmenter.char as nac

        p = self.params
        return nac.RandomCharAug(action=p.action, aug_char_p=p.aug_char_p, aug_word_p=p.aug_word_p,
                                 stopwords=PROTECTED, **self.spacing())


@dataclass(frozen=True)
class WordParams(GrowParams):
    """aug_p: share of words changed."""

    aug_p: float = 0.3

    def __post_init__(self) -> None:
        _check_p(aug_p=self.aug_p)
        super().__post_init__()


@dataclass(frozen=True)
class RandomWordParams(WordParams):
    """action: swap | delete."""

    action: str = "delete"

    def __post_init__(self) -> None:
        if self.action not in ("swap", "delete"):
            raise ValueError(f"action must be swap or delete, got {self.action!r}")
        super().__post_init__()


class NlpaugRandomWord(NlpaugAugmenter):
    """nlpaug RandomWordAug: random word swap or deletion."""

    name = "nlpaug_random_word"
    version = __version__
    Params = RandomWordParams
    operation = "nlpaug.word.RandomWordAug"

    def library_augmenter(self) -> Any:
        import nlpaug.augmenter.word as naw

        return naw.RandomWordAug(action=self.params.action, aug_p=self.params.aug_p, stopwords=PROTECTED,
                                 **self.spacing())


class NlpaugSpelling(NlpaugAugmenter):
    """nlpaug SpellingAug: common misspellings (the list bundled with nlpaug, no download)."""

    name = "nlpaug_spelling"
    version = __version__
    Params = WordParams
    operation = "nlpaug.word.SpellingAug"

    def library_augmenter(self) -> Any:
        import nlpaug.augmenter.word as naw

        aug = naw.SpellingAug(aug_p=self.params.aug_p, stopwords=PROTECTED, **self.spacing())
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

    def library_augmenter(self) -> Any:
        from .nltkdata import activate, pos_tag

        activate()
        import nlpaug.augmenter.word as naw

        aug = naw.SynonymAug(aug_src="wordnet", aug_p=self.params.aug_p, stopwords=PROTECTED, **self.spacing())
        aug.model.pos_tag = pos_tag  # instead of nltk.pos_tag, which needs a downloaded model
        return aug
